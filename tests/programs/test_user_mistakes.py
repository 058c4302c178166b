"""The mistakes learners make, and the exceptions torch answers with: the same type and the
same first line of the message on ember (shape errors, autograd misuse, dtype rules,
optimizer/module misuse), plus NumPy interop and dtype promotion that programs lean on."""
import numpy as np
import pytest

from _harness import compare, ember, torch

PROGRAM = r"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def attempt(label, fn):
    try:
        r = fn()
        print(label, 'ok', r)
    except Exception as e:
        print(label, type(e).__name__, str(e).splitlines()[0] if str(e) else '')


torch.manual_seed(0)
lin = nn.Linear(4, 8)
attempt('linear shape', lambda: lin(torch.randn(2, 3)))
conv = nn.Conv2d(3, 8, 3)
attempt('conv channels', lambda: conv(torch.randn(1, 1, 8, 8)))
attempt('conv unbatched', lambda: conv(torch.randn(3, 8, 8)).shape)
attempt('conv too small', lambda: conv(torch.randn(1, 3, 2, 2)))
attempt('conv 2d input', lambda: conv(torch.randn(8, 8)))
attempt('bn 1 sample', lambda: nn.BatchNorm1d(4)(torch.randn(1, 4)))
attempt('view noncontig', lambda: torch.randn(3, 4).t().view(12))
attempt('reshape', lambda: torch.randn(3, 4).t().reshape(12).shape)
attempt('view bad', lambda: torch.randn(3, 4).view(5, -1))
attempt('item many', lambda: torch.ones(3).item())
attempt('numpy grad', lambda: torch.ones(2, requires_grad=True).numpy())
attempt('backward nonscalar', lambda: (torch.ones(2, requires_grad=True) * 2).backward())
attempt('backward no grad', lambda: torch.ones(2).sum().backward())


def twice():
    x = torch.ones(2, requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    y.backward()


attempt('backward twice', twice)


def leaf_inplace():
    x = torch.ones(2, requires_grad=True)
    x += 1


attempt('leaf inplace', leaf_inplace)


def modified():
    a = torch.ones(3, requires_grad=True)
    b = a.sigmoid()
    b.mul_(2)
    b.sum().backward()


attempt('modified inplace', modified)
attempt('cat mismatch', lambda: torch.cat([torch.ones(2, 3), torch.ones(2, 4)]))
attempt('stack mismatch', lambda: torch.stack([torch.ones(2), torch.ones(3)]))
attempt('index out', lambda: torch.ones(3)[5])
attempt('matmul', lambda: torch.ones(2, 3) @ torch.ones(2, 3))
attempt('add broadcast', lambda: torch.ones(2, 3) + torch.ones(4))
attempt('mse shapes', lambda: F.mse_loss(torch.ones(2, 3), torch.ones(2, 3, dtype=torch.long)))
attempt('ce shapes', lambda: F.cross_entropy(torch.ones(4, 3), torch.ones(3, dtype=torch.long)))
attempt('ce float target', lambda: F.cross_entropy(torch.ones(4, 3), torch.rand(4, 3)).item() > 0)
attempt('bce range', lambda: F.binary_cross_entropy(torch.tensor([1.5]), torch.tensor([1.0])))
attempt('embedding idx', lambda: nn.Embedding(5, 2)(torch.tensor([7])))
attempt('embedding float idx', lambda: nn.Embedding(5, 2)(torch.tensor([1.0])))
attempt('from_numpy', lambda: torch.from_numpy(np.arange(3.0)).dtype)
attempt('tensor np scalar', lambda: torch.tensor(np.float64(2.5)))
attempt('tensor list np', lambda: torch.tensor([np.float32(1), 2]).dtype)
attempt('tensor of tensors', lambda: torch.tensor([torch.tensor(1.0), torch.tensor(2.0)]))
attempt('as_tensor', lambda: torch.as_tensor([1, 2], dtype=torch.float32))
attempt('np float64 * tensor', lambda: np.float64(2.0) * torch.ones(2))
attempt('int tensor / int', lambda: torch.tensor([3, 4]) / 2)
attempt('int tensor // int', lambda: torch.tensor([3, -4]) // 2)
attempt('long + float', lambda: (torch.tensor([1]) + 0.5).dtype)
attempt('int mean', lambda: torch.tensor([1, 2]).mean())
attempt('bool sum', lambda: torch.tensor([True, True]).sum())
attempt('float to long', lambda: torch.tensor([1.7, -1.7]).long())
attempt('optimizer empty', lambda: torch.optim.SGD([], lr=0.1))
attempt('optimizer no lr', lambda: torch.optim.SGD(lin.parameters()))
attempt('optimizer neg lr', lambda: torch.optim.Adam(lin.parameters(), lr=-1))
attempt('optimizer tensor', lambda: torch.optim.SGD(torch.ones(2, requires_grad=True), lr=0.1))
attempt('load strict', lambda: lin.load_state_dict({'weight': torch.zeros(8, 4)}))
attempt('module attr', lambda: lin.wieght)
attempt('add_module bad', lambda: nn.Module().add_module('a.b', nn.ReLU()))
attempt('param assign', lambda: setattr(lin, 'weight', torch.zeros(8, 4)))
attempt('sequential idx', lambda: nn.Sequential(nn.ReLU())[3])
attempt('modulelist non-module', lambda: nn.ModuleList([1]))
attempt('forward missing', lambda: nn.Module()(torch.ones(1)))
attempt('dropout p', lambda: nn.Dropout(1.5))
attempt('softmax no dim', lambda: F.softmax(torch.ones(2, 2), dim=1))
attempt('argmax keepdim', lambda: torch.tensor([[1, 3], [4, 2]]).argmax(dim=1, keepdim=True))
attempt('max both', lambda: torch.max(torch.tensor([1, 5]), torch.tensor([4, 2])))
attempt('clone detach', lambda: torch.ones(2, requires_grad=True).clone().detach().requires_grad)
attempt('new_tensor', lambda: torch.ones(2).new_tensor([1, 2]))
attempt('to other', lambda: torch.ones(2, dtype=torch.float64).to(torch.ones(1, dtype=torch.int32)))
attempt('one_hot', lambda: F.one_hot(torch.tensor([0, 2]), num_classes=4))
attempt('one_hot float', lambda: F.one_hot(torch.tensor([0.0])))
"""


def test_user_mistakes_and_messages():
    compare(PROGRAM, name='mistakes')


def _both(fn):
    out = []
    for lib in (torch, ember):
        try:
            out.append(('ok', repr(fn(lib))))
        except Exception as e:  # the comparison is of type and message
            out.append((type(e).__name__, str(e)))
    return out


def test_tensor_times_ndarray():
    t, e = _both(lambda lib: lib.ones(2) * np.array([1.0, 2.0]))
    assert e == t


def test_requires_grad_on_int_message():
    t, e = _both(lambda lib: lib.tensor([1, 2], requires_grad=True))
    assert e == t


def test_size_keyword():
    t, e = _both(lambda lib: lib.zeros(size=(2, 3)).shape)
    assert e == t
