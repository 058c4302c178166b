"""Smaller torch.nn names against torch 2.13: torch.nn.grad, CrossMapLRN2d, factory_kwargs,
common_types, and nn.functional's grouped_mm, boolean_dispatch, assert_int_or_pair and the
scaled-mm enums."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip('torch')
RNG = np.random.default_rng(0)


def _pair(fn, *arrays, dtype=np.float64):
    """fn(lib, *tensors) on both libraries; every output and every input's gradient."""
    out = []
    for lib in (torch, ember):
        ts = [lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        y = fn(lib, *ts)
        g = np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(dtype)
        y.backward(lib.tensor(g))
        out.append((y.detach().numpy(), [t.grad.numpy() for t in ts], str(y.dtype)))
    return out


def assert_pair_close(out, tol):
    (ty, tg, tdt), (ey, eg, edt) = out
    assert tdt == edt
    np.testing.assert_allclose(ey, ty, rtol=tol, atol=tol)
    for a, b in zip(eg, tg):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize('dtype,tol', [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize('size', [2, 3, 4, 5, 7])
@pytest.mark.parametrize('channels', [1, 3, 5, 8, 13])
def test_cross_map_lrn2d(size, channels, dtype, tol):
    x = RNG.standard_normal((2, channels, 3, 4))
    out = _pair(lambda L, t: L.nn.CrossMapLRN2d(size, alpha=0.1, beta=0.75, k=1.5)(t), x,
                dtype=dtype)
    assert_pair_close(out, tol)
    assert repr(ember.nn.CrossMapLRN2d(size)) == repr(torch.nn.CrossMapLRN2d(size))


def test_cross_map_lrn2d_errors_as_torch():
    for lib in (torch, ember):
        with pytest.raises(ValueError, match='Expected input to be 4D, got 3D'):
            lib.nn.CrossMapLRN2d(3)(lib.ones(2, 3, 4))
    msgs = []
    for lib in (torch, ember):   # torch's backward cannot take size 1
        y = lib.nn.CrossMapLRN2d(1)(lib.ones(1, 2, 2, 2, requires_grad=True))
        with pytest.raises(RuntimeError) as e:
            y.sum().backward()
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize('nd,xs,ws', [(1, (2, 4, 9), (6, 2, 3)), (2, (2, 4, 7, 6), (6, 2, 3, 3)),
                                      (3, (1, 4, 5, 5, 4), (6, 2, 2, 3, 2))])
def test_nn_grad_matches_torch_and_differentiates_again(nd, xs, ws):
    x0, w0 = RNG.standard_normal(xs), RNG.standard_normal(ws)
    kw = dict(stride=2, padding=1, dilation=1, groups=2)
    res = []
    for lib in (torch, ember):
        conv = getattr(lib.nn.functional, f'conv{nd}d')
        x, w = lib.tensor(x0, requires_grad=True), lib.tensor(w0, requires_grad=True)
        y = conv(x, w, None, **kw)
        g = lib.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)),
                       requires_grad=True)
        gi = getattr(lib.nn.grad, f'conv{nd}d_input')(xs, w, g, **kw)
        gw = getattr(lib.nn.grad, f'conv{nd}d_weight')(x, ws, g, **kw)
        (gi.sum() + gw.pow(2).sum()).backward()
        res.append([gi.detach().numpy(), gw.detach().numpy(), w.grad.numpy(), x.grad.numpy(),
                    g.grad.numpy()])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-10)


def test_factory_kwargs_as_torch():
    got = ember.nn.factory_kwargs({'dtype': ember.float32, 'factory_kwargs': {'device': 'cpu'}})
    assert got == {'device': 'cpu', 'dtype': ember.float32}
    assert ember.nn.factory_kwargs(None) == {}
    for bad in ({'foo': 1}, {'dtype': 1, 'factory_kwargs': {'dtype': 2}}):
        msgs = []
        for lib in (torch, ember):
            with pytest.raises(TypeError) as e:
                lib.nn.factory_kwargs(bad)
            msgs.append(str(e.value))
        assert msgs[0] == msgs[1]


def test_common_types_and_init_tensor():
    import ember.nn.common_types as ect
    import torch.nn.common_types as tct
    public = {n for n in vars(tct) if n.startswith('_') and n.endswith('_t')}
    assert public <= set(vars(ect))
    assert str(ect._size_2_t) == str(tct._size_2_t).replace('torch', 'ember')
    assert ember.nn.init.Tensor is ember.Tensor and ember.nn.functional.Tensor is ember.Tensor


CASES = [((8, 16), (2, 16, 8), [3, 8]), ((8, 16), (2, 16, 8), [3, 6]),
         ((2, 4, 16), (2, 16, 8), None), ((2, 8, 16), (16, 8), [3, 8]),
         ((8, 16), (16, 8), [4, 16])]


@pytest.mark.parametrize('sa,sb,offs', CASES)
def test_grouped_mm(sa, sb, offs):
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)

    def f(L, x, y):
        o = None if offs is None else L.tensor(offs, dtype=L.int32)
        return L.nn.functional.grouped_mm(x, y, offs=o)
    out = _pair(f, a, b, dtype=np.float32)
    (ty, tg, _), (ey, eg, _) = out
    rows = slice(None) if offs is None or len(sa) != 2 or len(sb) != 3 else slice(0, offs[-1])
    np.testing.assert_allclose(ey[rows], ty[rows], rtol=1e-4, atol=1e-4)   # torch leaves the
    for x, y in zip(eg, tg):                                                # rest unset
        np.testing.assert_allclose(x[rows] if x.ndim == 2 and rows != slice(None) else x,
                                   y[rows] if y.ndim == 2 and rows != slice(None) else y,
                                   rtol=1e-4, atol=1e-4)


def test_grouped_mm_errors_as_torch():
    for lib in (torch, ember):
        a, b = lib.ones(8, 16), lib.ones(2, 16, 8)
        msgs = []
        for a3, o in ((a, None), (lib.ones(2, 4, 16), lib.tensor([1, 2], dtype=lib.int32))):
            with pytest.raises(RuntimeError) as e:
                lib.nn.functional.grouped_mm(a3, b, offs=o)
            msgs.append(str(e.value))
        assert msgs == ["Have to provide offsets if there is a 2d matrix, or no offset if both "
                        "matrices are 3d"] * 2


def test_boolean_dispatch_and_assert_int_or_pair():
    for lib in (torch, ember):
        F = lib.nn.functional

        def yes(x, flag=False):
            """doc"""
            return ('yes', x)

        def no(x, flag=False):
            return ('no', x)
        fn = F.boolean_dispatch('flag', 1, False, yes, no, 'mod', 'fname')
        assert fn(1) == ('no', 1) and fn(1, True) == ('yes', 1) and fn(1, flag=True)[0] == 'yes'
        assert (fn.__name__, fn.__module__, fn.__doc__, no.__doc__) == ('fname', 'mod', 'doc',
                                                                       'doc')
        F.assert_int_or_pair(3, 'k', 'bad {}')
        F.assert_int_or_pair([1, 2], 'k', 'bad {}')
        with pytest.raises(AssertionError, match='bad k'):
            F.assert_int_or_pair([1, 2, 3], 'k', 'bad {}')
        assert F.BroadcastingList2[int] is None and F.BroadcastingList1[float] is None


def test_scaling_enums_as_torch():
    for name in ('ScalingType', 'SwizzleType'):
        t, e = getattr(torch.nn.functional, name), getattr(ember.nn.functional, name)
        assert {k: int(v) for k, v in e.__members__.items()} == \
            {k: int(v) for k, v in t.__members__.items()}
        member = next(iter(t.__members__))
        assert repr(getattr(e, member)) == repr(getattr(t, member))
        assert str(getattr(e, member)) == str(getattr(t, member))


def test_rnn_utils_helpers_as_torch():
    for lib in (torch, ember):
        R = lib.nn.utils.rnn
        assert issubclass(R.PackedSequence, R.PackedSequence_) and R.PackedSequence_._fields == \
            ('data', 'batch_sizes', 'sorted_indices', 'unsorted_indices')
        assert R.bind(None, lambda v: v + 1) is None and R.bind(2, lambda v: v + 1) == 3

        def body(self, x):
            return x * 2
        assert R.copy_method_params(len)(body) is body


def test_is_traceable_wrapper_subclass_as_torch():
    for lib in (torch, ember):
        class Plain(lib.Tensor):
            pass

        class Wrapper(lib.Tensor):
            def __tensor_flatten__(self):
                return [], None

            @staticmethod
            def __tensor_unflatten__(inner, meta, size, stride):
                return None
        f = lib.nn.utils.parametrize.is_traceable_wrapper_subclass
        t = lib.ones(2)
        assert (f(t), f(t.as_subclass(Plain)), f(t.as_subclass(Wrapper)), f(3)) == \
            (False, False, True, False)
