"""In-place view ops (t_, squeeze_, unsqueeze_, transpose_) keep the graph as torch's do: their
own grad_fn names, a version bump, torch's refusals on leaves, and the right gradients."""
import numpy as np
import pytest
import torch

import ember


def _run(lib, steps, shape):
    x = lib.tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape) + 1.0,
                   requires_grad=True)
    t = x * 1
    names = []
    for name, args in steps:
        getattr(t, name)(*args)
        names.append(type(t.grad_fn).__name__)
    w = lib.tensor(np.linspace(-1, 1, t.numel()).reshape(tuple(t.shape)))
    (t * w).sum().backward()
    return names, tuple(t.shape), t._version, t._base is None, x.grad.numpy()


@pytest.mark.parametrize('steps,shape', [
    ([('transpose_', (0, 1))], (2, 3)),
    ([('t_', ())], (2, 3)),
    ([('swapaxes_', (-1, 0))], (2, 1, 3)),
    ([('squeeze_', ()), ('unsqueeze_', (0,)), ('squeeze_', ((0,),)), ('unsqueeze_', (-1,)),
      ('squeeze_', (-1,))], (2, 1, 3)),
    ([('t_', ())], (4,)),
])
def test_matches_torch(steps, shape):
    en, es, ev, eb, eg = _run(ember, steps, shape)
    tn, ts, tv, tb, tg = _run(torch, steps, shape)
    assert (en, es, ev, eb) == (tn, ts, tv, tb)
    np.testing.assert_allclose(eg, tg)


@pytest.mark.parametrize('make', [
    lambda lib: lib.ones(2, 3, requires_grad=True),
    lambda lib: lib.ones(2, 3, requires_grad=True)[0:1],
    lambda lib: lib.arange(6.).reshape(2, 3).requires_grad_(),
])
@pytest.mark.parametrize('op', ['t_', 'squeeze_', 'add_'])
def test_leaves_refused_as_torch(make, op):
    msgs = []
    for lib in (torch, ember):
        x = make(lib)
        with pytest.raises(RuntimeError) as e:
            getattr(x, op)(*([1] if op == 'add_' else []))
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_no_grad_mode_changes_the_shape_only():
    x = ember.ones(2, 3, requires_grad=True)
    with ember.no_grad():
        x.t_()
    assert tuple(x.shape) == (3, 2) and x.grad_fn is None and x.is_leaf
