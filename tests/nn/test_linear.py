"""Linear, Bilinear, LazyLinear, Identity, Flatten, Unflatten and F.linear against torch."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402


def to_np(t):
    return np.array(t.detach().numpy())


def grad_name(t):
    return None if t.grad_fn is None else t.grad_fn.name()


@pytest.mark.parametrize('seed', [0, 1, 7])
def test_linear_init_bitwise(seed):
    out = []
    for lib in (torch, ember):
        lib.manual_seed(seed)
        m1 = lib.nn.Linear(20, 256)
        m2 = lib.nn.Linear(256, 10, bias=False)
        out.append([to_np(m1.weight), to_np(m1.bias), to_np(m2.weight)])
    for e, t in zip(out[1], out[0]):
        np.testing.assert_array_equal(e, t)


def test_linear_dtype_and_repr():
    for kw in [{}, {'bias': False}, {'dtype': 'float64'}]:
        kws = dict(kw)
        kwt = {k: (getattr(torch, v) if k == 'dtype' else v) for k, v in kws.items()}
        kwe = {k: (getattr(ember, v) if k == 'dtype' else v) for k, v in kws.items()}
        t, e = torch.nn.Linear(3, 4, **kwt), ember.nn.Linear(3, 4, **kwe)
        assert repr(e) == repr(t)
        assert repr(e.weight.dtype) == repr(t.weight.dtype)
        assert (e.bias is None) == (t.bias is None)


@pytest.mark.parametrize('shape', [(3,), (1, 3), (5, 3), (4, 5, 3), (2, 4, 5, 3), (0, 3)])
@pytest.mark.parametrize('bias', [True, False])
def test_linear_forward_backward(shape, bias):
    torch.manual_seed(0)
    t = torch.nn.Linear(3, 2, bias=bias)
    e = ember.nn.Linear(3, 2, bias=bias)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.RandomState(0).randn(*shape).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    xe = ember.tensor(x, requires_grad=True)
    yt, ye = t(xt), e(xe)
    np.testing.assert_allclose(to_np(ye), to_np(yt), rtol=1e-5, atol=1e-6)
    if yt.numel():
        yt.sum().backward()
        ye.sum().backward()
        np.testing.assert_allclose(to_np(xe.grad), to_np(xt.grad), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(to_np(e.weight.grad), to_np(t.weight.grad), rtol=1e-5,
                                   atol=1e-5)
    if len(shape) == 1 and not bias and grad_name(ye) != grad_name(yt):
        pytest.xfail(f'core: matmul(1-D, 2-D) records {grad_name(ye)}, torch {grad_name(yt)}')
    assert grad_name(ye) == grad_name(yt)


def test_linear_noncontiguous_nd():
    torch.manual_seed(0)
    t = torch.nn.Linear(3, 2)
    e = ember.nn.Linear(3, 2)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.RandomState(0).randn(5, 4, 3).astype(np.float32)
    yt = t(torch.tensor(x).transpose(0, 1))
    ye = e(ember.tensor(x).transpose(0, 1))
    np.testing.assert_allclose(to_np(ye), to_np(yt), rtol=1e-5, atol=1e-6)
    assert grad_name(ye) == grad_name(yt)


def test_functional_linear():
    x = np.random.RandomState(2).randn(4, 3).astype(np.float32)
    w = np.random.RandomState(3).randn(5, 3).astype(np.float32)
    b = np.random.RandomState(4).randn(5).astype(np.float32)
    yt = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w), torch.tensor(b))
    ye = ember.nn.functional.linear(ember.tensor(x), ember.tensor(w), ember.tensor(b))
    np.testing.assert_allclose(to_np(ye), to_np(yt), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('shape1,shape2', [((2, 3), (2, 4)), ((3,), (4,)), ((2, 5, 3), (2, 5, 4))])
@pytest.mark.parametrize('bias', [True, False])
def test_bilinear(shape1, shape2, bias):
    out = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        m = lib.nn.Bilinear(3, 4, 5, bias=bias)
        x1 = lib.tensor(np.random.RandomState(0).randn(*shape1).astype(np.float32),
                        requires_grad=True)
        x2 = lib.tensor(np.random.RandomState(1).randn(*shape2).astype(np.float32))
        y = m(x1, x2)
        y.sum().backward()
        out.append((to_np(m.weight), to_np(y), to_np(x1.grad), to_np(m.weight.grad), repr(m)))
    np.testing.assert_array_equal(out[1][0], out[0][0])  # same init draws
    for e, t in zip(out[1][1:4], out[0][1:4]):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)
    assert out[1][4] == out[0][4]


def test_lazy_linear_becomes_linear():
    out = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        m = lib.nn.LazyLinear(4)
        r0 = repr(m)
        assert m.has_uninitialized_params()
        y = m(lib.ones(2, 6))
        out.append((r0, repr(m), type(m).__name__, to_np(m.weight), to_np(y)))
    assert out[1][:3] == out[0][:3]
    np.testing.assert_array_equal(out[1][3], out[0][3])
    np.testing.assert_allclose(out[1][4], out[0][4], rtol=1e-5, atol=1e-6)
    m = ember.nn.LazyLinear(2, bias=False)
    assert m(ember.ones(3)).shape == (2,)
    assert not m._forward_pre_hooks and isinstance(m, ember.nn.Linear)


def test_lazy_linear_load_state_dict():
    src = ember.nn.Linear(3, 2)
    m = ember.nn.LazyLinear(2)
    m.load_state_dict(src.state_dict())
    assert m.weight.shape == (2, 3)
    np.testing.assert_array_equal(to_np(m.weight), to_np(src.weight))


def test_identity_flatten_unflatten():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    for build in [lambda lib: lib.nn.Identity(1, a=2), lambda lib: lib.nn.Flatten(),
                  lambda lib: lib.nn.Flatten(0, 2), lambda lib: lib.nn.Flatten(-3, -2),
                  lambda lib: lib.nn.Unflatten(1, (3, 1)),
                  lambda lib: lib.nn.Unflatten(-1, [5, 1])]:
        t, e = build(torch), build(ember)
        assert repr(e) == repr(t)
        yt, ye = t(torch.tensor(x)), e(ember.tensor(x))
        assert tuple(ye.shape) == tuple(yt.shape)
        np.testing.assert_array_equal(to_np(ye), to_np(yt))
    for bad in [lambda lib: lib.nn.Unflatten(1, 3), lambda lib: lib.nn.Unflatten(1, (2, 'a'))]:
        with pytest.raises(TypeError) as et:
            bad(torch)
        with pytest.raises(TypeError) as ee:
            bad(ember)
        assert str(ee.value) == str(et.value)
