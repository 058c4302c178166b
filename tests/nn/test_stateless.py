"""torch.nn.utils.stateless on ember against torch 2.13: the deprecated functional_call (one
implementation with torch.func.functional_call) and NamedMemberAccessor."""
import warnings

import numpy as np
import pytest

from _oracle import assert_same

torch = pytest.importorskip('torch')


def _model(L):
    L.manual_seed(0)
    m = L.nn.Sequential(L.nn.Linear(3, 2), L.nn.BatchNorm1d(2))
    return m


def test_functional_call_warns_and_computes():
    def run(L):
        m = _model(L)
        x = L.tensor(np.arange(6.0).reshape(2, 3), dtype=L.float32)
        w = L.ones(2, 3)
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter('always')
            out = L.nn.utils.stateless.functional_call(m, {'0.weight': w}, (x,))
        return ([(r.category.__name__, str(r.message)) for r in rec],
                np.round(out.detach().numpy(), 5).tolist(), m[0].weight.shape,
                float(m[0].weight.sum()) != 6.0,
                np.round(L.func.functional_call(m, ({'0.weight': w}, {'0.bias': L.zeros(2)}),
                                                x).detach().numpy(), 5).tolist())
    assert_same(run, torch)
    assert_same(lambda L: L.nn.utils.stateless.functional_call(_model(L), {'nope': L.ones(1)},
                                                        (L.ones(2, 3),), strict=True), torch)


def test_named_member_accessor():
    def run(L):
        m = _model(L)
        a = L.nn.utils.stateless.NamedMemberAccessor(m)
        out = [a.get_submodule('0') is m[0], a.get_tensor('0.bias').shape,
               a.check_keys(['0.weight', '1.running_mean', 'extra'])]
        new = L.zeros(2)
        orig = a.swap_tensor('0.bias', new)
        out += [m[0].bias is new, orig.shape]
        origs, missing = a.swap_tensors_dict({'1.weight': L.ones(2), 'ghost': L.ones(1)},
                                             allow_missing=True)
        out += [sorted(origs), missing, hasattr(m, 'ghost')]
        a.set_tensors(['0.bias'], [orig])
        out.append(m[0].bias is orig)
        a.del_tensor('ghost')
        out += [hasattr(m, 'ghost'), [n for n, _ in a.named_tensors()],
                [n for n, _ in a.named_modules()]]
        old = a.swap_submodule('1', L.nn.Identity())
        out.append((type(old).__name__, type(m[1]).__name__))
        return out
    assert_same(run, torch)
    accessor = lambda L: L.nn.utils.stateless.NamedMemberAccessor(_model(L))  # noqa: E731
    assert_same(lambda L: accessor(L).get_tensor('0.nope'), torch)
    assert_same(lambda L: accessor(L).get_submodule('0.weight'), torch)
    assert_same(lambda L: accessor(L).swap_tensor('0.nope', L.ones(1)), torch)
    assert_same(lambda L: accessor(L).set_tensor('0.weight', 3), torch)
    assert_same(lambda L: accessor(L).set_tensors(['a', 'b'], [None]), torch)
    assert_same(lambda L: accessor(L).swap_tensors_dict({'ghost': L.ones(1)}), torch)
    assert_same(lambda L: accessor(L).swap_submodule('2', L.nn.Identity()), torch)
    assert_same(lambda L: L.nn.utils.stateless.Tensor is L.Tensor, torch)
