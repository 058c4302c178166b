"""nn.utils.parametrize against torch: register_parametrization (one original, several,
stacked, unsafe), the injected class and property, cached, remove_parametrizations both ways,
state_dict keys and loading across libraries, transfer, and torch's errors."""
import copy
import io
import pickle

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy()


def _sd_np(m):
    return {k: _np(v) for k, v in m.state_dict().items()}


def _sd_lib(lib, d):
    return {k: lib.from_numpy(np.array(v)) for k, v in d.items()}


def assert_close(a, b, tol=1e-6):
    np.testing.assert_allclose(_np(a) if not isinstance(a, np.ndarray) else a,
                               _np(b) if not isinstance(b, np.ndarray) else b,
                               rtol=tol, atol=tol)


def _pair(ctor, dtype='float64'):
    """The same module in both libraries: ember's weights copied from torch's."""
    t = ctor(torch).to(getattr(torch, dtype))
    e = ctor(ember).to(getattr(ember, dtype))
    e.load_state_dict(_sd_lib(ember, _sd_np(t)))
    return e, t


def _parametrizations(lib):
    nn = lib.nn

    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    class Scale(nn.Module):  # no right_inverse: the identity is assumed
        def forward(self, X):
            return 2 * X

    class RankOne(nn.Module):
        def forward(self, x, y):
            return x.unsqueeze(-1) @ y.unsqueeze(-2)

        def right_inverse(self, Z):
            return Z[:, 0].clone(), Z[0, :].clone()

    class Skew(nn.Module):
        def forward(self, X):
            A = X.triu(1)
            return A - A.T

        def right_inverse(self, A):
            return A.triu(1)

    return dict(Symmetric=Symmetric, Scale=Scale, RankOne=RankOne, Skew=Skew)


def _both(name, dtype='float64', size=4):
    """Linear(size, size) parametrized by `name` in both libraries."""
    e, t = _pair(lambda lib: lib.nn.Linear(size, size), dtype)
    for lib, m in ((ember, e), (torch, t)):
        lib.nn.utils.parametrize.register_parametrization(m, 'weight', _parametrizations(lib)[name]())
    return e, t


def _check_same(e, t, x=None, tol=1e-6):
    """Values, forward, gradients of every parameter after backward, state_dict."""
    assert repr(e) == repr(t)
    assert type(e).__name__ == type(t).__name__
    assert list(e.state_dict()) == list(t.state_dict())
    for (ke, ve), (kt, vt) in zip(e.state_dict().items(), t.state_dict().items()):
        assert_close(ve, vt, tol)
    assert_close(e.weight, t.weight, tol)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, e.in_features)).astype(str(t.weight.dtype)[6:])
    ye, yt = e(ember.from_numpy(x)), t(torch.from_numpy(x))
    assert_close(ye, yt, tol)
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    pe, pt = dict(e.named_parameters()), dict(t.named_parameters())
    assert list(pe) == list(pt)
    for k in pt:
        assert (pe[k].grad is None) == (pt[k].grad is None), k
        if pt[k].grad is not None:
            assert_close(pe[k].grad, pt[k].grad, tol)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('name', ['Symmetric', 'Scale', 'RankOne', 'Skew'])
def test_register_parametrization(name, dtype):
    e, t = _both(name, dtype)
    tol = 1e-5 if dtype == 'float32' else 1e-12
    _check_same(e, t, tol=tol)
    P, TP = ember.nn.utils.parametrize, torch.nn.utils.parametrize
    assert P.is_parametrized(e) and P.is_parametrized(e, 'weight')
    assert not P.is_parametrized(e, 'bias')
    assert P.type_before_parametrizations(e) is ember.nn.Linear
    assert TP.type_before_parametrizations(t) is torch.nn.Linear
    assert type(e).__bases__ == (ember.nn.Linear,)
    assert isinstance(e.parametrizations.weight, P.ParametrizationList)
    assert e.parametrizations.weight.is_tensor == t.parametrizations.weight.is_tensor
    assert e.parametrizations.weight.ntensors == t.parametrizations.weight.ntensors
    # the parametrized weight is no parameter of the module, the originals are
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert 'weight' not in e._parameters


def test_original_keeps_identity_and_train_mode():
    m = ember.nn.Linear(3, 3)
    w = m.weight
    m.eval()
    sym = _parametrizations(ember)['Symmetric']()
    ember.nn.utils.parametrize.register_parametrization(m, 'weight', sym)
    # the right inverse's value moves into the same Parameter object (optimizers keep it)
    assert m.parametrizations.weight.original is w
    np.testing.assert_array_equal(_np(w), np.triu(_np(w)))
    assert sym.training is False


@pytest.mark.parametrize('name', ['Symmetric', 'RankOne', 'Skew'])
def test_setter_right_inverse(name):
    e, t = _both(name)
    A = np.random.default_rng(3).standard_normal((4, 4))
    A = A + A.T if name == 'Symmetric' else A - A.T if name == 'Skew' else np.outer(A[0], A[1])
    e.weight = ember.from_numpy(A.copy())
    t.weight = torch.from_numpy(A.copy())
    for (k, ve), vt in zip(e.state_dict().items(), t.state_dict().values()):
        assert_close(ve, vt, 1e-12)
    assert_close(e.weight, t.weight, 1e-12)


def test_stacked_and_unsafe():
    e, t = _both('Symmetric')
    for lib, m in ((ember, e), (torch, t)):
        ps = _parametrizations(lib)
        lib.nn.utils.parametrize.register_parametrization(m, 'weight', ps['Scale']())
    assert len(e.parametrizations.weight) == len(t.parametrizations.weight) == 2
    _check_same(e, t, tol=1e-12)

    class Flat:  # an unsafe parametrization may change the shape
        def __init__(self, lib):
            class F(lib.nn.Module):
                def forward(self, X):
                    return X.reshape(-1)
            self.m = F()

    mods = []
    for lib in (ember, torch):
        m = lib.nn.Linear(2, 3)
        lib.nn.utils.parametrize.register_parametrization(m, 'weight', Flat(lib).m, unsafe=True)
        mods.append(m)
        assert m.parametrizations.weight.unsafe is True
        assert tuple(m.weight.shape) == (6,)
    # registering a safe one on top keeps the list unsafe
    for lib, m in zip((ember, torch), mods):
        lib.nn.utils.parametrize.register_parametrization(m, 'weight',
                                                          _parametrizations(lib)['Scale']())
        assert m.parametrizations.weight.unsafe is True


def test_buffer_parametrization():
    mods = []
    for lib in (ember, torch):
        m = lib.nn.BatchNorm1d(3)
        m.running_mean.copy_(lib.tensor([1.0, 2.0, 3.0]))
        lib.nn.utils.parametrize.register_parametrization(
            m, 'running_mean', _parametrizations(lib)['Scale']())
        mods.append(m)
    e, t = mods
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert_close(e.running_mean, t.running_mean)
    assert not isinstance(e.parametrizations.running_mean.original, ember.nn.Parameter)


def test_cached():
    calls = {ember: 0, torch: 0}
    for lib in (ember, torch):
        class Count(lib.nn.Module):
            def forward(self, X, lib=lib):
                calls[lib] += 1
                return X * 1

        m = lib.nn.Linear(2, 2)
        P = lib.nn.utils.parametrize
        P.register_parametrization(m, 'weight', Count())
        n0 = calls[lib]
        with P.cached():
            a = m.weight
            b = m.weight
            with P.cached():
                c = m.weight
            d = m.weight
        assert a is b is c is d
        assert calls[lib] - n0 == 1
        m.weight
        assert calls[lib] - n0 == 2
        assert P._cache == {}
    assert calls[ember] == calls[torch]


@pytest.mark.parametrize('leave', [True, False])
@pytest.mark.parametrize('name', ['Symmetric', 'Scale', 'RankOne'])
def test_remove_parametrizations(name, leave):
    e, t = _both(name)
    before_e = e.parametrizations.weight.original if name != 'RankOne' else None
    outs = []
    for lib, m in ((ember, e), (torch, t)):
        try:
            lib.nn.utils.parametrize.remove_parametrizations(m, 'weight', leave_parametrized=leave)
            outs.append(None)
        except Exception as ex:
            outs.append((type(ex), str(ex)))
    assert outs[0] == outs[1]
    if outs[0] is not None:
        return
    assert type(e) is ember.nn.Linear and type(t) is torch.nn.Linear
    assert not hasattr(e, 'parametrizations')
    assert list(e.state_dict()) == list(t.state_dict())
    assert type(e.weight).__name__ == type(t.weight).__name__
    assert e.weight.requires_grad == t.weight.requires_grad
    assert_close(e.weight, t.weight, 1e-12)
    if before_e is not None:
        assert e.weight is before_e
    assert repr(e) == repr(t)


def test_remove_one_of_two():
    mods = []
    for lib in (ember, torch):
        m = lib.nn.Linear(3, 3)
        P = lib.nn.utils.parametrize
        P.register_parametrization(m, 'weight', _parametrizations(lib)['Symmetric']())
        P.register_parametrization(m, 'bias', _parametrizations(lib)['Scale']())
        P.remove_parametrizations(m, 'weight')
        mods.append(m)
        assert type(m).__name__ == 'ParametrizedLinear'
        assert P.is_parametrized(m) and not P.is_parametrized(m, 'weight')
    e, t = mods
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)


def test_state_dict_across_libraries():
    e, t = _both('RankOne')
    rng = np.random.default_rng(5)
    sd = {k: rng.standard_normal(v.shape) for k, v in _sd_np(t).items()}
    # torch's state_dict into ember's parametrized module and back
    e.load_state_dict(_sd_lib(ember, sd))
    t.load_state_dict(_sd_lib(torch, sd))
    assert_close(e.weight, t.weight, 1e-12)
    e2, t2 = _both('RankOne')
    t2.load_state_dict(_sd_lib(torch, _sd_np(e)))
    assert_close(t2.weight, e.weight, 1e-12)
    # a non-parametrized module's keys don't load
    with pytest.raises(RuntimeError, match='Missing key'):
        e2.load_state_dict({'weight': ember.zeros(4, 4), 'bias': ember.zeros(4)})


def test_sgd_training_steps():
    e, t = _both('Symmetric')
    oe = ember.optim.SGD(e.parameters(), lr=0.1, momentum=0.9)
    ot = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
    x = np.random.default_rng(2).standard_normal((5, 4))
    for _ in range(4):
        for lib, m, o in ((ember, e, oe), (torch, t, ot)):
            o.zero_grad()
            (m(lib.from_numpy(x)) ** 2).mean().backward()
            o.step()
        assert_close(e.weight, t.weight, 1e-10)
    np.testing.assert_allclose(_np(e.weight), _np(e.weight).T)


def test_deepcopy_and_no_pickle():
    e, t = _both('Symmetric')
    c = copy.deepcopy(e)
    assert type(c) is type(e)
    assert_close(c.weight, e.weight)
    assert c.parametrizations.weight.original is not e.parametrizations.weight.original
    msgs = []
    for lib, m in ((ember, e), (torch, t)):
        with pytest.raises(RuntimeError) as ex:
            pickle.dumps(m)
        msgs.append(str(ex.value))
        with pytest.raises(RuntimeError, match='Serialization of parametrized modules'):
            lib.save(m, io.BytesIO())
    assert msgs[0] == msgs[1]
    # the state_dict saves and loads fine
    buf = io.BytesIO()
    ember.save(e.state_dict(), buf)
    buf.seek(0)
    t.load_state_dict(torch.load(buf))
    assert_close(t.weight, e.weight)


def test_transfer_parametrizations_and_params():
    mods = []
    for lib in (ember, torch):
        P = lib.nn.utils.parametrize
        src = lib.nn.Linear(3, 3)
        P.register_parametrization(src, 'weight', _parametrizations(lib)['Symmetric']())
        dst = lib.nn.Linear(3, 3)
        P.transfer_parametrizations_and_params(src, dst)
        assert dst.parametrizations.weight.original is src.parametrizations.weight.original
        assert type(dst).__name__ == 'ParametrizedLinear'
        # onto a module without the tensor: it is created
        bare = lib.nn.Module()
        P.transfer_parametrizations_and_params(src, bare, 'weight')
        mods.append((src, dst, bare))
        assert P.transfer_parametrizations_and_params(lib.nn.Linear(2, 2), dst) is dst
    (se, de, be), (st, dt, bt) = mods
    assert_close(de.weight, se.weight)
    assert list(be.state_dict()) == list(bt.state_dict())


def assert_same_errors(fn):
    """Run fn(lib) on both libraries: the same exception type and message."""
    out = []
    for lib in (ember, torch):
        with pytest.raises(Exception) as ex:
            fn(lib)
        out.append((type(ex.value).__name__, str(ex.value)))
    assert out[0] == out[1]
    return out[0]


def test_errors():
    def module_class(lib, body, right_inverse=None):
        attrs = {'forward': lambda self, X: body(lib, X)}
        if right_inverse is not None:
            attrs['right_inverse'] = lambda self, X: right_inverse(lib, X)
        return type('Bad', (lib.nn.Module,), attrs)()

    def reg(lib, p, name='weight', unsafe=False, m=None):
        m = lib.nn.Linear(2, 3) if m is None else m
        return lib.nn.utils.parametrize.register_parametrization(m, name, p, unsafe=unsafe)

    # dtype / shape changes without unsafe
    assert_same_errors(lambda lib: reg(lib, module_class(lib, lambda lib, X: X.double())))
    assert_same_errors(lambda lib: reg(lib, module_class(lib, lambda lib, X: X.reshape(-1))))
    assert_same_errors(lambda lib: reg(lib, module_class(lib, lambda lib, X: 3)))
    # right_inverse outputs
    assert_same_errors(lambda lib: reg(lib, module_class(lib, lambda lib, X: X, lambda lib, X: 3)))
    assert_same_errors(lambda lib: reg(lib, module_class(lib, lambda lib, X: X, lambda lib, X: X.double())))
    assert_same_errors(lambda lib: reg(lib, module_class(lib, lambda lib, x, y: x,
                                              lambda lib, X: (X, 3))))
    # unknown tensor
    assert_same_errors(lambda lib: reg(lib, module_class(lib, lambda lib, X: X), name='nope'))

    # on top of another one
    def stacked(lib, body, ri=None):
        m = reg(lib, module_class(lib, lambda lib, X: X))
        return reg(lib, module_class(lib, body, ri), m=m)
    assert_same_errors(lambda lib: stacked(lib, lambda lib, X: X.double()))
    assert_same_errors(lambda lib: stacked(lib, lambda lib, X: X.reshape(-1)))
    assert_same_errors(lambda lib: stacked(lib, lambda lib, X: X, lambda lib, X: 3))
    assert_same_errors(lambda lib: stacked(lib, lambda lib, X: X, lambda lib, X: X.double()))
    assert_same_errors(lambda lib: stacked(lib, lambda lib, X: X, lambda lib, X: X.reshape(-1)))

    # assigning through a parametrization without right_inverse
    def assign(lib):
        m = reg(lib, module_class(lib, lambda lib, X: X))
        m.weight = lib.zeros(3, 2)
    assert_same_errors(assign)

    # a Parameter can't be assigned over the property
    def assign_param(lib):
        m = reg(lib, module_class(lib, lambda lib, X: X))
        m.weight = lib.nn.Parameter(lib.zeros(3, 2))
    assert_same_errors(assign_param)

    # removal
    assert_same_errors(lambda lib: lib.nn.utils.parametrize.remove_parametrizations(lib.nn.Linear(2, 2),
                                                                          'weight'))

    def rank_one(lib, leave):
        m = lib.nn.Linear(4, 4)
        reg(lib, _parametrizations(lib)['RankOne'](), m=m)
        return lib.nn.utils.parametrize.remove_parametrizations(m, 'weight', leave)
    assert_same_errors(lambda lib: rank_one(lib, False))
    assert_same_errors(lambda lib: lib.nn.utils.parametrize.ParametrizationList([], lib.zeros(2)))


def test_paths():
    import ember.nn.utils.parametrize as P  # noqa: F401
    import ember.nn.utils.parametrizations as PZ  # noqa: F401
    assert P.__all__ == torch.nn.utils.parametrize.__all__
    assert PZ.__all__ == torch.nn.utils.parametrizations.__all__
    assert ember.nn.utils.parametrize.ParametrizationList.__module__ == \
        'ember.nn.utils.parametrize'
