"""Hypothesis fuzzing of indexing (read and write) and of chains of views against torch."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")
pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

from ._compare import assert_same, run_both  # noqa: E402

SETTINGS = settings(max_examples=80, deadline=None, derandomize=True)

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@st.composite
def index_for(draw, shape):
    """A torch index for `shape`: ints (also negative), slices with steps, None, ..., bool
    masks, integer lists, and mixtures of them."""
    parts = []
    dim = 0
    used_ellipsis = False
    n_adv = 0
    while dim < len(shape) and draw(st.booleans()) or not parts:
        if dim >= len(shape):
            parts.append(None)
            break
        size = shape[dim]
        kind = draw(st.sampled_from(['int', 'slice', 'none', 'ellipsis', 'mask', 'list']))
        if kind == 'int':
            parts.append(draw(st.integers(-size, size - 1)))
            dim += 1
        elif kind == 'slice':
            start = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
            stop = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
            step = draw(st.one_of(st.none(), st.integers(1, 3)))
            parts.append(slice(start, stop, step))
            dim += 1
        elif kind == 'none':
            parts.append(None)
        elif kind == 'ellipsis' and not used_ellipsis:
            parts.append(Ellipsis)
            used_ellipsis = True
            dim = len(shape) - draw(st.integers(0, len(shape) - dim))
        elif kind == 'mask' and n_adv == 0:
            parts.append(('mask', tuple(draw(st.lists(st.booleans(), min_size=size,
                                                      max_size=size)))))
            n_adv += 1
            dim += 1
        elif kind == 'list' and n_adv < 2:
            parts.append(('list', tuple(draw(st.lists(st.integers(-size, size - 1),
                                                      min_size=1, max_size=3)))))
            n_adv += 1
            dim += 1
    return tuple(parts)


def _lib_index(lib, idx):
    out = []
    for p in idx:
        if isinstance(p, tuple) and p[0] == 'mask':
            out.append(lib.tensor(list(p[1]), dtype=lib.bool))
        elif isinstance(p, tuple) and p[0] == 'list':
            out.append(lib.tensor(list(p[1])))
        else:
            out.append(p)
    return tuple(out)


@st.composite
def array_and_index(draw):
    shape = draw(shapes)
    return shape, draw(index_for(shape)), draw(st.booleans())


def _data(shape, transposed):
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) * 0.5 - 1
    if transposed and len(shape) > 1:
        a = np.ascontiguousarray(a.T).T  # same values, non-contiguous layout
    return a


def _both(a):
    def copy(x):
        if x.flags.c_contiguous:
            return x.copy()
        return np.ascontiguousarray(x.T).T
    return ember.from_numpy(copy(a)), torch.from_numpy(copy(a))


@SETTINGS
@given(case=array_and_index())
def test_getitem(case):
    shape, idx, transposed = case
    a = _data(shape, transposed)
    e, t = _both(a)
    e.requires_grad_()
    t.requires_grad_()
    er, tr, err = run_both(lambda: e[_lib_index(ember, idx)], lambda: t[_lib_index(torch, idx)])
    if err is not None:
        return
    assert_same(er, tr, what=f"x{idx}")
    up = np.random.default_rng(0).standard_normal(tuple(tr.shape))
    (eg,) = ember.autograd.grad(er, e, ember.from_numpy(up.copy()))
    (tg,) = torch.autograd.grad(tr, t, torch.from_numpy(up.copy()))
    assert_same(eg, tg, what=f"grad of x{idx}")


@SETTINGS
@given(case=array_and_index(), scalar=st.booleans(), seed=st.integers(0, 50))
def test_setitem(case, scalar, seed):
    shape, idx, transposed = case
    a = _data(shape, transposed)
    e, t = _both(a)
    try:
        target = tuple(t[_lib_index(torch, idx)].shape)
    except Exception:  # noqa: BLE001 - invalid index: both must raise on write too
        target = ()
    # a value broadcasting to the indexed region: the trailing part of its shape
    rng = np.random.default_rng(seed)
    vshape = target[len(target) // 2:] if not scalar else ()
    v = rng.standard_normal(vshape)

    def e_set():
        e[_lib_index(ember, idx)] = float(v) if scalar else ember.from_numpy(v.copy())
        return e

    def t_set():
        t[_lib_index(torch, idx)] = float(v) if scalar else torch.from_numpy(v.copy())
        return t
    er, tr, err = run_both(e_set, t_set)
    if err is None:
        assert_same(er, tr, what=f"x{idx} = v{vshape}")


@SETTINGS
@given(case=array_and_index())
def test_getitem_view_sharing(case):
    """Basic indexing gives a view exactly when torch's does: writes show through the base."""
    shape, idx, transposed = case
    a = _data(shape, transposed)
    e, t = _both(a)
    try:
        tr = t[_lib_index(torch, idx)]
    except Exception:  # noqa: BLE001
        return
    er = e[_lib_index(ember, idx)]
    if tr.numel() == 0:
        return
    tr.add_(100)
    er.add_(100)
    assert_same(e, t, what=f"base after writing through x{idx}")
    assert_same(er, tr)
    assert er.is_contiguous() == tr.is_contiguous()
    if tr._is_view():
        assert er.stride() == tr.stride(), f"x{idx}"
        assert er.storage_offset() == tr.storage_offset(), f"x{idx}"


# ---- chains of views -------------------------------------------------------------------------

def _view_steps(shape, draw):
    """A random chain of view ops valid for `shape` (tracked as we go)."""
    steps = []
    shape = list(shape)
    for _ in range(draw(st.integers(1, 5))):
        n = len(shape)
        choices = ['unsqueeze']
        if n >= 1:
            choices += ['narrow', 'select', 'slice_step', 'flip_dims', 'view_flat']
        if n >= 2:
            choices += ['transpose', 'permute', 't', 'diagonal', 'mT']
        if 1 in shape:
            choices.append('squeeze')
        kind = draw(st.sampled_from(choices))
        if kind == 'unsqueeze':
            d = draw(st.integers(-n - 1, n))
            steps.append(('unsqueeze', d))
            shape.insert(d % (n + 1), 1)
        elif kind == 'narrow':
            d = draw(st.integers(0, n - 1))
            start = draw(st.integers(0, shape[d]))
            length = draw(st.integers(0, shape[d] - start))
            steps.append(('narrow', d, start, length))
            shape[d] = length
        elif kind == 'select' and shape[0] > 0:
            d = draw(st.integers(0, n - 1))
            if shape[d] == 0:
                continue
            i = draw(st.integers(-shape[d], shape[d] - 1))
            steps.append(('select', d, i))
            del shape[d]
        elif kind == 'slice_step':
            d = draw(st.integers(0, n - 1))
            step = draw(st.integers(1, 3))
            steps.append(('slice_step', d, step))
            shape[d] = -(-shape[d] // step)
        elif kind == 'view_flat':
            steps.append(('view_flat',))
            shape = [int(np.prod(shape))]
        elif kind == 'transpose':
            d0, d1 = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
            steps.append(('transpose', d0, d1))
            shape[d0], shape[d1] = shape[d1], shape[d0]
        elif kind == 'permute':
            p = draw(st.permutations(list(range(n))))
            steps.append(('permute', tuple(p)))
            shape = [shape[i] for i in p]
        elif kind == 't' and n == 2:
            steps.append(('t',))
            shape = shape[::-1]
        elif kind == 'mT':
            steps.append(('mT',))
            shape[-1], shape[-2] = shape[-2], shape[-1]
        elif kind == 'diagonal':
            steps.append(('diagonal',))
            k = min(shape[0], shape[1])
            shape = shape[2:] + [k]
        elif kind == 'squeeze':
            d = shape.index(1)
            steps.append(('squeeze', d))
            del shape[d]
    return steps


def _apply(x, step):
    k = step[0]
    if k == 'unsqueeze':
        return x.unsqueeze(step[1])
    if k == 'narrow':
        return x.narrow(step[1], step[2], step[3])
    if k == 'select':
        return x.select(step[1], step[2])
    if k == 'slice_step':
        return x[(slice(None),) * step[1] + (slice(None, None, step[2]),)]
    if k == 'view_flat':
        return x.view(-1)
    if k == 'transpose':
        return x.transpose(step[1], step[2])
    if k == 'permute':
        return x.permute(*step[1])
    if k == 't':
        return x.t()
    if k == 'mT':
        return x.mT
    if k == 'diagonal':
        return x.diagonal()
    if k == 'squeeze':
        return x.squeeze(step[1])
    raise AssertionError(k)


@st.composite
def view_chain(draw):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))
    return shape, _view_steps(shape, draw), draw(st.booleans())


@SETTINGS
@given(case=view_chain())
def test_view_chains(case):
    """Every link: same values, shape, stride(), is_contiguous(), storage_offset(); a write
    through the last view shows in the base exactly as in torch; grads flow back."""
    shape, steps, transposed = case
    a = _data(shape, transposed)
    e, t = _both(a)
    ev, tv = e, t
    for step in steps:
        ev, tv, err = run_both(lambda: _apply(ev, step), lambda: _apply(tv, step))
        if err is not None:
            return
        assert_same(ev, tv, what=f"{steps}")
        assert ev.is_contiguous() == tv.is_contiguous(), f"after {step} in {steps}"
        if tv.numel():  # (an empty tensor's strides and offset address no memory)
            assert ev.stride() == tv.stride(), f"stride after {step} in {steps}"
            assert ev.storage_offset() == tv.storage_offset(), f"after {step} in {steps}"
    ev.mul_(-3)
    tv.mul_(-3)
    assert_same(e, t, what=f"base after a write through {steps}")
    # the chain's gradient is the upstream gradient embedded back into the base
    eb, tb = _both(a)
    eb.requires_grad_()
    tb.requires_grad_()
    ev, tv = eb, tb
    for step in steps:
        ev, tv = _apply(ev, step), _apply(tv, step)
    up = np.random.default_rng(0).standard_normal(tuple(tv.shape))
    (eg,) = ember.autograd.grad(ev, eb, ember.from_numpy(up.copy()))
    (tg,) = torch.autograd.grad(tv, tb, torch.from_numpy(up.copy()))
    assert_same(eg, tg, what=f"grad through {steps}")


@pytest.mark.parametrize('make', [
    lambda x: x.reshape(6, 2), lambda x: x.t().reshape(-1), lambda x: x.flatten(),
    lambda x: x.t().flatten(), lambda x: x[:, ::2].reshape(-1), lambda x: x.view(2, 6),
    lambda x: x.unflatten(1, (2, 2)), lambda x: x.expand(2, 3, 4)[0],
    lambda x: x.detach(), lambda x: x.data, lambda x: x.contiguous(), lambda x: x.t().contiguous(),
    lambda x: x.squeeze(), lambda x: x.flatten(0, 0), lambda x: x.reshape(3, 4),
])
def test_reshape_copies_only_when_torch_does(make):
    a = np.arange(12.0).reshape(3, 4)
    e, t = ember.from_numpy(a.copy()), torch.from_numpy(a.copy())
    er, tr = make(e), make(t)
    assert_same(er, tr)
    assert er.stride() == tr.stride() and er.is_contiguous() == tr.is_contiguous()
    er.view(-1)[0:1].fill_(-7) if er.is_contiguous() else er.fill_(-7)
    tr.view(-1)[0:1].fill_(-7) if tr.is_contiguous() else tr.fill_(-7)
    assert_same(e, t, what="base after writing through the result")


def test_stride_metadata():
    a = np.zeros((2, 3, 4), np.float32)
    e, t = ember.from_numpy(a.copy()), torch.from_numpy(a.copy())
    for f in (lambda x: x, lambda x: x.permute(2, 0, 1), lambda x: x[:, 1:, ::2],
              lambda x: x[1], lambda x: x[..., 2], lambda x: x.new_zeros(0, 3),
              lambda x: x.expand(5, 2, 3, 4), lambda x: x[None, :, None]):
        assert f(e).stride() == f(t).stride()
        assert f(e).is_contiguous() == f(t).is_contiguous()
        assert f(e).storage_offset() == f(t).storage_offset()
        for d in range(-f(t).dim(), f(t).dim()):
            assert f(e).stride(d) == f(t).stride(d)
