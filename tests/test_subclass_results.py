"""A plain Tensor subclass (`class Mine(torch.Tensor): pass`) keeps Tensor's own
__torch_function__, which gives the tensor results of every op on it as that subclass: the
types and values of a table of expressions, against torch."""
import gc
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import ember
from _subproc import env

# each expression sees the library as `lib`, `x` and `y` (2x3 float32 subclass instances),
# `p` (a plain tensor of the same shape) and `Mine` (the subclass)
EXPRESSIONS = [
    'x + 1', '1 + x', 'x * p', 'p * x', 'p - x', 'x / 2', 'x @ p.t()', 'p @ x.t()', '-x',
    'x ** 2', 'abs(x)', 'x > 0', 'x == y',
    'x.exp()', 'lib.exp(x)', 'x.sum()', 'x.sum(dim=1)', 'x.mean()', 'x.t()', 'x.T', 'x.mT',
    'x.view(-1)', 'x.reshape(3, 2)', 'x[0]', 'x[:, 1:]', 'x[x > 0]', 'x.clone()',
    'x.detach()', 'x.data', 'x.float()', 'x.double()', 'x.to(lib.float64)', 'x.contiguous()',
    'x.unsqueeze(0)', 'x.relu()', 'lib.relu(x)', 'lib.nn.functional.gelu(x)',
    'lib.nn.functional.softmax(x, dim=-1)', 'lib.cat([x, p])', 'lib.cat([p, x])',
    'lib.stack([p, x])', 'lib.where(x > 0, p, 0.0)', 'lib.add(p, x)', 'lib.maximum(p, x)',
    'x.max(dim=1)', 'x.max()', 'x.sort(dim=1)', 'x.split(1)', 'x.unbind(0)', 'x.chunk(3, 1)',
    'x.topk(2)', 'x.argmax()', 'x.i0()', 'lib.i0(x)', 'lib.special.expit(x)',
    'lib.fft.rfft(x)', 'lib.linalg.norm(x)', 'x.abs_()', 'x.add_(1)', 'x.requires_grad_()',
    'x.new_zeros(2)', 'x.new_ones(2, 1)', 'x.new_full((2,), 3.0)', 'x.new_empty(2).shape',
    'x.new_tensor([1.0, 2.0])', 'lib.zeros_like(x)', 'lib.nn.functional.linear(x, p)',
    'lib.nn.functional.mse_loss(x, p)', 'x.shape', 'x.dtype', 'x.dim()', 'x.numel()',
    'x.tolist()', 'x.sum().item()', 'x.numpy()', 'x.is_contiguous()', 'x.size(0)',
]


def _kind(value):
    """The type name of a result, element by element for a sequence."""
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_kind(v) for v in value))
    name = type(value).__name__
    return 'Size' if name == 'Size' else name


def _values(value):
    if isinstance(value, (tuple, list)):
        return [_values(v) for v in value]
    if hasattr(value, 'detach') and hasattr(value, 'numpy'):
        v = value.detach()
        return np.asarray(v.numpy() if not v.is_complex() else v.numpy()).tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value if isinstance(value, (int, float, bool)) else str(value)


def _evaluate(lib, expr):
    class Mine(lib.Tensor):
        pass

    a = np.arange(-3, 3, dtype=np.float32).reshape(2, 3) * 0.5 + 0.25
    x = lib.tensor(a).as_subclass(Mine)
    y = lib.tensor(a[::-1].copy()).as_subclass(Mine)
    p = lib.tensor(a * 2)
    return eval(expr, {'lib': lib, 'x': x, 'y': y, 'p': p, 'Mine': Mine, 'abs': abs})


def _close(a, b):
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(u, v) for u, v in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):  # exp and friends: within an ulp or two
        return bool(np.isclose(a, b, rtol=1e-6, atol=0))
    return a == b


@pytest.mark.parametrize('expr', EXPRESSIONS)
def test_result_types_and_values_match_torch(expr):
    t = _evaluate(torch, expr)
    e = _evaluate(ember, expr)
    assert _kind(e) == _kind(t)
    assert _close(_values(e), _values(t))


def _graph_program(lib):
    class Mine(lib.Tensor):
        def doubled(self):  # a subclass's own method, reached on op results
            return self * 2

    w = lib.tensor([0.5, -1.5, 2.0], requires_grad=True)
    m = w.as_subclass(Mine)
    out = (m.exp() * m).doubled().sum()
    out.backward()
    lin = lib.nn.Linear(3, 2)
    with lib.no_grad():
        lin.weight.fill_(0.5)
        lin.bias.fill_(0.1)
    y = lin(m)
    return (type(out).__name__, type(out.grad_fn).__name__, type(w.grad).__name__,
            [round(v, 5) for v in w.grad.tolist()], m.is_leaf, m.requires_grad,
            type(y).__name__, [round(v, 5) for v in y.tolist()], type(lin.weight * m).__name__)


def test_autograd_and_layers_on_a_subclass_match_torch():
    assert _graph_program(ember) == _graph_program(torch)


def test_parameter_and_disabled_classes_still_give_plain_tensors():
    for lib in (torch, ember):
        class Off(lib.Tensor):
            __torch_function__ = lib._C._disabled_torch_function_impl

        p = lib.nn.Parameter(lib.ones(2))
        q = lib.ones(2).as_subclass(Off)
        got = [type(r).__name__ for r in (p * 2, q + 1, p.new_zeros(2), q.new_full((2,), 1.0))]
        assert got == ['Tensor'] * 4


def test_the_wrappers_come_off_when_the_last_subclass_goes():
    # a fresh interpreter: the protocol arms with the first dispatching class and disarms
    # when the last one is collected, so plain programs pay nothing afterwards
    src = '''
        import gc, ember
        from ember._torch_function import State
        before = State.armed

        class Mine(ember.Tensor):
            pass

        during = State.armed
        r = type(ember.ones(2).as_subclass(Mine).exp()).__name__
        del Mine
        gc.collect()
        print(before, during, r, State.armed, ember.Tensor.exp.__module__)
    '''
    out = subprocess.run([sys.executable, '-c', textwrap.dedent(src)], env=env(),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['False', 'True', 'Mine', 'False', 'ember._ops.elementwise']


def test_a_family_loaded_while_armed_dispatches_too():
    # ember.i0's family loads on first use: loaded while a subclass exists, its function and
    # method still give the subclass
    src = '''
        import sys, ember

        class Mine(ember.Tensor):
            pass

        x = ember.tensor([0.5, 1.5]).as_subclass(Mine)
        assert 'ember._ops.special' not in sys.modules
        print(type(x.i0()).__name__, type(ember.igamma(x, x)).__name__,
              type(ember.fft.fft(x)).__name__)
    '''
    out = subprocess.run([sys.executable, '-c', textwrap.dedent(src)], env=env(),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['Mine', 'Mine', 'Mine']
    gc.collect()
