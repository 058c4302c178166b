"""Views made with grad mode off (torch's CreationMeta::NO_GRAD_MODE), against torch: of a
tensor that requires grad they require grad too, and they (and views of them made later) refuse
an in-place change with grad mode on, with torch's message; under no_grad the change goes
through to the base. Views of tensors that do not require grad, and detached ones, stay
ordinary."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip('torch')

VIEWS = {
    'slice': lambda t: t[:2],
    'select': lambda t: t[1],
    'view': lambda t: t.view(12),
    'reshape': lambda t: t.reshape(2, 6),
    'transpose': lambda t: t.transpose(0, 1),
    't': lambda t: t.t(),
    'unsqueeze': lambda t: t.unsqueeze(0),
    'narrow': lambda t: t.narrow(1, 1, 2),
    'diagonal': lambda t: t.diagonal(),
    'permute': lambda t: t.permute(1, 0),
    'chunk': lambda t: t.chunk(2)[1],
    'iter': lambda t: next(iter(t)),
}

INPLACE = {
    'mul_': lambda v: v.mul_(2),
    'add_': lambda v: v.add_(1),
    'iadd': lambda v: v.__iadd__(1),
    'setitem': lambda v: v.__setitem__(0, 3.0),
    'zero_': lambda v: v.zero_(),
    'fill_': lambda v: v.fill_(0.5),
    'copy_': None,  # filled in per library (needs a source of v's shape)
}


def _base(lib, kind):
    a = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    x = lib.tensor(a, requires_grad=kind != 'plain')
    return x * 1 if kind == 'nonleaf' else x


def _outcome(lib, kind, view, inplace, grad_mode):
    x = _base(lib, kind)
    with lib.no_grad():
        v = VIEWS[view](x)
    info = [v.requires_grad, v.is_leaf]
    op = INPLACE[inplace] or (lambda w: w.copy_(lib.ones_like(w)))
    try:
        with lib.set_grad_enabled(grad_mode):
            op(v)
        info.append('ok')
    except RuntimeError as e:
        info.append(str(e))
    info.append(x.detach().numpy().round(5).tolist())
    return info


@pytest.mark.parametrize('view', sorted(VIEWS))
@pytest.mark.parametrize('kind', ['leaf', 'nonleaf', 'plain'])
@pytest.mark.parametrize('grad_mode', [True, False])
def test_inplace_on_a_no_grad_view(view, kind, grad_mode):
    for inplace in INPLACE:
        mine = _outcome(ember, kind, view, inplace, grad_mode)
        ref = _outcome(torch, kind, view, inplace, grad_mode)
        assert mine == ref, (inplace, mine, ref)


@pytest.mark.parametrize('view', ['select', 'slice', 'view', 'transpose', 't', 'unsqueeze'])
def test_a_view_of_a_no_grad_view(view):
    def run(lib):
        x = _base(lib, 'leaf')
        with lib.no_grad():
            v = x[:3]
        w = VIEWS[view](v)  # grad mode on: recorded, and marked by v
        out = [w.requires_grad, w.is_leaf]
        try:
            w.mul_(2)
            out.append('ok')
        except RuntimeError as e:
            out.append(str(e))
        with lib.no_grad():
            u = VIEWS[view](v)  # made without grad mode itself
        try:
            u.mul_(2)
            out.append('ok')
        except RuntimeError as e:
            out.append(str(e))
        return out
    assert run(ember) == run(torch)


@pytest.mark.parametrize('idx', [0, slice(0, 1), (0, 1), (slice(None), 0), (Ellipsis, 0),
                                 (0, slice(None)), None, [0], 'mask', Ellipsis, slice(None),
                                 (slice(None), slice(1, 2)), (slice(None),), (0, [1]),
                                 slice(0, 2), (slice(0, 2, 2),)])
def test_setitem_names_the_view_it_writes_through(idx):
    def run(lib):
        x = _base(lib, 'leaf')
        with lib.no_grad():
            v = x[:2]
        try:
            v[v > 0.5 if isinstance(idx, str) else idx] = 1.0
            return 'ok'
        except RuntimeError as e:
            return str(e)
    assert run(ember) == run(torch)


def test_detached_and_computed_results_are_ordinary():
    def run(lib):
        x = _base(lib, 'leaf')
        with lib.no_grad():
            v = x[:2]
            d = v.detach()
            c = v * 2  # computed, not a view
        d.mul_(2)
        c.add_(1)
        return [d.requires_grad, c.requires_grad, x.detach().numpy().round(5).tolist(),
                c.numpy().round(5).tolist()]
    assert run(ember) == run(torch)


def test_a_no_grad_view_in_a_computation():
    """Used with grad mode on, a no-grad view requires grad: the result has a graph, and the
    base gets no gradient through it."""
    def run(lib):
        x = _base(lib, 'leaf')
        with lib.no_grad():
            v = x[:2]
        y = (v * 2).sum()
        y.backward()
        return [y.requires_grad, x.grad]
    mine, ref = run(ember), run(torch)
    assert mine == ref
