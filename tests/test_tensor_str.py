"""ember's tensor printing against torch's, character for character."""
import math
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from ember import _dtype  # noqa: E402
from ember import _tensor_str  # noqa: E402

try:
    import ml_dtypes
except ImportError:  # pragma: no cover
    ml_dtypes = None

try:
    import ember
    _HAVE_TENSOR = hasattr(ember, 'tensor')
except ImportError:  # pragma: no cover - the package __init__ may not exist yet
    ember = None
    _HAVE_TENSOR = False


class _GradFn:
    """Stand-in for an autograd Node: only ``name()`` is used by printing."""

    def __init__(self, name):
        self._name = name

    def name(self):
        return self._name


class _FakeTensor:
    """The attributes printing reads from an ember Tensor."""

    def __init__(self, data, dtype, requires_grad=False, grad_fn=None):
        self._data = data
        self.dtype = dtype
        self.requires_grad = requires_grad
        self.grad_fn = grad_fn
        self.is_leaf = grad_fn is None

    def __repr__(self):
        return _tensor_str._tensor_repr(self)


def _ember_dtype(torch_dtype):
    return getattr(_dtype, str(torch_dtype).split('.')[1])


def _to_numpy(t):
    t = t.detach().resolve_conj().resolve_neg()
    if t.dtype == torch.bfloat16:
        if ml_dtypes is None:
            pytest.skip('bfloat16 needs ml_dtypes')
        return t.float().numpy().astype(ml_dtypes.bfloat16)
    return t.numpy().copy()


def _mirror(t):
    """An ember stand-in holding the same values, dtype and autograd state as torch tensor t."""
    grad_fn = _GradFn(type(t.grad_fn).__name__) if t.grad_fn is not None else None
    return _FakeTensor(_to_numpy(t), _ember_dtype(t.dtype), t.requires_grad, grad_fn)


def _check(t):
    expected = repr(t)
    got = repr(_mirror(t))
    assert got == expected, f"\nember:\n{got}\ntorch:\n{expected}"


@pytest.fixture(autouse=True)
def _restore_print_options():
    yield
    torch.set_printoptions(profile='default')
    _tensor_str.set_printoptions(profile='default')


def _both_set(**kwargs):
    torch.set_printoptions(**kwargs)
    _tensor_str.set_printoptions(**kwargs)


# ---- the golden table of docs/api_surface.md 5.2, recomputed with torch ---------------------

def _golden():
    nan, inf = float('nan'), float('inf')
    cases = [
        lambda: torch.tensor([1, 2, 3]),
        lambda: torch.tensor([1., 2., 3.]),
        lambda: torch.tensor([1.5, 2., 3.]),
        lambda: torch.tensor([0.1, 0.25, 1 / 3]),
        lambda: torch.tensor(3.5),
        lambda: torch.tensor(3),
        lambda: torch.tensor(True),
        lambda: torch.tensor([1e-5, 1.0]),
        lambda: torch.tensor([1., 1001.5]),
        lambda: torch.tensor([1e9, 1.]),
        lambda: torch.tensor([1e-5, 1e-5]),
        lambda: torch.tensor([123456.7891]),
        lambda: torch.tensor([0., -0., 1.]),
        lambda: torch.tensor([nan, inf, -inf, 1.5]),
        lambda: torch.tensor([nan, 2.]),
        lambda: torch.zeros(3),
        lambda: torch.zeros(2, 3),
        lambda: torch.tensor([], dtype=torch.float32),
        lambda: torch.empty(0, 3),
        lambda: torch.empty(0, dtype=torch.int32),
        lambda: torch.tensor([1, 2], dtype=torch.int32),
        lambda: torch.tensor([1., 2.], dtype=torch.float64),
        lambda: torch.tensor([1., 2.5], dtype=torch.float16),
        lambda: torch.tensor([1., 2.5], dtype=torch.bfloat16),
        lambda: torch.tensor([True, False]),
        lambda: torch.tensor([1 + 2j, 3 - 4j]),
        lambda: torch.tensor([1, 2], dtype=torch.uint8),
        lambda: torch.arange(12.).reshape(3, 4),
        lambda: torch.arange(24).reshape(2, 3, 4),
        lambda: torch.ones(2, 3, requires_grad=True),
        lambda: torch.ones(2, requires_grad=True) * 2,
        lambda: torch.ones(2, requires_grad=True).sum(),
        lambda: torch.ones(2, requires_grad=True).mean(),
        lambda: torch.nn.Linear(3, 2)(torch.ones(1, 3)),
        lambda: torch.nn.Linear(3, 2)(torch.ones(3)),
        lambda: torch.nn.Linear(3, 2, bias=False)(torch.ones(1, 3)),
        lambda: F.relu(torch.ones(2, requires_grad=True) - 1),
        lambda: torch.sigmoid(torch.zeros(2, requires_grad=True)),
        lambda: torch.tanh(torch.zeros(2, requires_grad=True)),
        lambda: torch.exp(torch.zeros(2, requires_grad=True)),
        lambda: torch.ones(2, 2, requires_grad=True) @ torch.ones(2, 2),
        lambda: torch.ones(2, 2, requires_grad=True).t(),
        lambda: torch.ones(2, 2, requires_grad=True).view(4),
        lambda: torch.ones(2, 2, requires_grad=True).reshape(4),
        lambda: torch.ones(4, requires_grad=True)[1:],
        lambda: torch.ones(2, requires_grad=True) / 3,
        lambda: torch.ones(2, requires_grad=True) ** 2,
        lambda: torch.ones(2, requires_grad=True) + 1,
        lambda: torch.ones(2, requires_grad=True) - torch.ones(2),
        lambda: F.softmax(torch.ones(2, requires_grad=True), dim=0),
        lambda: F.log_softmax(torch.ones(1, 3, requires_grad=True), dim=1),
        lambda: F.cross_entropy(torch.ones(2, 3, requires_grad=True), torch.tensor([0, 1])),
        lambda: F.mse_loss(torch.ones(2, requires_grad=True), torch.zeros(2)),
        lambda: F.nll_loss(torch.ones(2, 3, requires_grad=True), torch.tensor([0, 1])),
        lambda: F.binary_cross_entropy_with_logits(torch.ones(2, requires_grad=True),
                                                   torch.zeros(2)),
        lambda: torch.ones(2, requires_grad=True).detach(),
        lambda: torch.nn.Parameter(torch.ones(2)),
        lambda: torch.nn.Linear(2, 2).weight,
        lambda: torch.randn(2, 20),
        lambda: torch.arange(2000.),
        lambda: torch.arange(1100).reshape(100, 11),
        lambda: torch.ones(20) * 1e-3,
        lambda: torch.tensor([100.0, 0.05]),
    ]
    return cases


@pytest.mark.parametrize('i', range(len(_golden())))
def test_golden_table(i):
    torch.manual_seed(0)
    t = _golden()[i]()
    if isinstance(t, torch.nn.Parameter):
        # Parameter.__repr__ (ember.nn) adds the header; the tensor part is ours
        expected = repr(t)
        assert expected.startswith('Parameter containing:\n')
        assert 'Parameter containing:\n' + repr(_mirror(t)) == expected
    else:
        _check(t)


# ---- hand-picked corner cases -----------------------------------------------------------------

_NAN, _INF = float('nan'), float('inf')
_FLOAT_CASES = [
    [0.0], [-0.0], [-0.0, 0.0], [-0.0, 0.5], [-0.0, 1e-5], [0.0, 0.0, -1e-7], [_NAN], [_INF],
    [-_INF], [_NAN, _INF, -_INF], [_NAN, 0.0], [_NAN, 1e10], [-_INF, 1e-10, 3.0],
    [1e-300, 1.0], [1e300, -1.0], [3.4e38, -3.4e38], [1e-45, 1.0], [1e8], [1e8 + 1],
    [99999999.0, 1.0], [1e-4, 1.0], [9.99e-5], [0.5, 500.0], [0.5, 500.1], [0.5, 500.0001],
    [-123.456, 0.001], [1.0, -1.0, 2.0], [-5.0, 10000.0], [123456789.0], [0.99995],
    [-0.99995, 9.99995], [2.5, -2.5], [1e20, 1e21], [-1e-20], [5e-5, -5e-5], [1 / 3, -2 / 3],
    [1e-3] * 30, [-1.0] * 30, [12345.678] * 13, [1e-8, 1e8],
]


@pytest.mark.parametrize('values', _FLOAT_CASES)
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16', 'bfloat16'])
def test_float_corner_cases(values, dtype):
    _check(torch.tensor(values, dtype=getattr(torch, dtype)))


@pytest.mark.parametrize('value', [0.0, -0.0, 1.0, -2.5, 1e-5, 1e10, _NAN, _INF, -_INF, 1 / 3])
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16', 'bfloat16'])
def test_float_scalars(value, dtype):
    _check(torch.tensor(value, dtype=getattr(torch, dtype)))


_INT_DTYPES = ['uint8', 'int8', 'int16', 'int32', 'int64', 'uint16', 'uint32', 'uint64']


@pytest.mark.parametrize('dtype', _INT_DTYPES)
def test_integers(dtype):
    info = torch.iinfo(getattr(torch, dtype))
    for values in ([0], [info.max], [info.min, info.max], [info.min, 0, 1, 5],
                   list(range(40))):
        _check(torch.tensor(values, dtype=getattr(torch, dtype)))
    _check(torch.tensor(info.max, dtype=getattr(torch, dtype)))
    _check(torch.arange(60).reshape(3, 4, 5).to(getattr(torch, dtype)))


def test_bool():
    _check(torch.tensor([True, True]))
    _check(torch.tensor([False]))
    _check(torch.tensor(False))
    _check(torch.tensor([[True, False]] * 30))
    _check(torch.zeros(40, 40, dtype=torch.bool))


_COMPLEX_CASES = [
    [1 + 2j], [1.5 - 2j], [0j], [complex(0.0, -0.0)], [complex(-0.0, 0.0)], [1j, -1j],
    [complex(_NAN, 1)], [complex(1, _INF)], [complex(1, -_INF)], [complex(_INF, _NAN)],
    [1e-5 + 1j, 3 + 1e5j], [0.25 + 1 / 3j], [1e10j, 1], [complex(k, -k) for k in range(20)],
]


@pytest.mark.parametrize('values', _COMPLEX_CASES)
@pytest.mark.parametrize('dtype', ['complex64', 'complex128'])
def test_complex(values, dtype):
    _check(torch.tensor(values, dtype=getattr(torch, dtype)))
    _check(torch.tensor(values[0], dtype=getattr(torch, dtype)))


def test_complex_matrix_and_summary():
    torch.manual_seed(1)
    _check(torch.randn(4, 5, dtype=torch.complex64))
    _check(torch.randn(40, 40, dtype=torch.complex128) * 100)
    _check(torch.randn(2000, dtype=torch.complex64))


@pytest.mark.parametrize('shape', [(0,), (0, 3), (3, 0), (2, 0, 4), (0, 0), (1, 0, 1)])
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64', 'int32', 'bool',
                                   'complex64', 'float16', 'uint8'])
def test_empty(shape, dtype):
    _check(torch.empty(shape, dtype=getattr(torch, dtype)))


def test_empty_with_requires_grad():
    _check(torch.empty(0, 3, requires_grad=True))
    _check(torch.empty(0, requires_grad=True) * 2)


@pytest.mark.parametrize('shape', [(1001,), (2000,), (34, 34), (1001, 1), (1, 1001),
                                   (11, 11, 11), (7, 7, 7, 7), (5, 300), (300, 5), (2, 3, 200),
                                   (7, 1, 1000)])
def test_summarised(shape):
    torch.manual_seed(2)
    _check(torch.randn(shape))
    _check(torch.arange(math.prod(shape)).reshape(shape))
    _check(torch.randint(-3, 3, shape, dtype=torch.int8))
    _check(torch.randn(shape, dtype=torch.float64) * 1e6)
    _check(torch.randn(shape) > 0)


def test_summarised_only_edges_decide_format():
    # a huge value in the hidden middle must not change the formatting
    t = torch.ones(3000)
    t[1500] = 1e20
    t[1501] = 0.5
    _check(t)
    t = torch.ones(100, 100)
    t[50, 50] = float('nan')
    t[50, 1] = 1e-9
    _check(t)


@pytest.mark.parametrize('opts', [
    dict(precision=2), dict(precision=0), dict(precision=10), dict(threshold=5),
    dict(threshold=0), dict(edgeitems=1), dict(edgeitems=0), dict(edgeitems=0, threshold=5),
    dict(linewidth=20), dict(linewidth=200), dict(linewidth=1), dict(sci_mode=True),
    dict(sci_mode=False), dict(profile='short'), dict(profile='full'),
    dict(profile='short', precision=6), dict(threshold=10, edgeitems=2, linewidth=40),
])
def test_printoptions(opts):
    _both_set(**opts)
    torch.manual_seed(3)
    for t in (torch.arange(10), torch.arange(10.) / 3, torch.randn(4, 6) * 1e3,
              torch.tensor([1e-6, 1.0, float('nan')]), torch.tensor(2.5), torch.tensor(7),
              torch.tensor([1e12, 3.0]), torch.arange(1500.).reshape(30, 50),
              torch.tensor([1 + 1j, -2.5j]), torch.randn(3, 4, requires_grad=True),
              torch.ones(2, requires_grad=True) * 3, torch.tensor([-0.0, 2.0]),
              torch.tensor([True, False] * 8), torch.empty(0, 2)):
        _check(t)


def test_get_set_printoptions_match_torch():
    from torch import _tensor_str as torch_str
    assert _tensor_str.get_printoptions() == torch_str.get_printoptions()
    for opts in (dict(profile='full'), dict(precision=7, sci_mode=True),
                 dict(profile='short', linewidth=50), dict(threshold=3), dict()):
        _both_set(**opts)
        assert _tensor_str.get_printoptions() == torch_str.get_printoptions()


def test_printoptions_context_manager():
    before = _tensor_str.get_printoptions()
    with _tensor_str.printoptions(precision=2, sci_mode=True):
        assert _tensor_str.get_printoptions()['precision'] == 2
        torch.set_printoptions(precision=2, sci_mode=True)
        _check(torch.tensor([1.2345, 2.0]))
        torch.set_printoptions(profile='default')
    assert _tensor_str.get_printoptions() == before
    with pytest.raises(ValueError):
        with _tensor_str.printoptions(precision=3):
            raise ValueError
    assert _tensor_str.get_printoptions() == before


def test_default_dtype_changes_the_dtype_suffix():
    old = torch.get_default_dtype()
    old_ember = _dtype.get_default_dtype()
    try:
        for d in ('float64', 'float16', 'bfloat16'):
            torch.set_default_dtype(getattr(torch, d))
            _dtype.set_default_dtype(getattr(_dtype, d))
            for t in (torch.tensor([1.5, 2.0], dtype=torch.float32),
                      torch.tensor([1.5, 2.0], dtype=torch.float64),
                      torch.tensor([1.5, 2.0], dtype=torch.float16),
                      torch.tensor([1 + 1j], dtype=torch.complex64),
                      torch.tensor([1 + 1j], dtype=torch.complex128),
                      torch.empty(0, dtype=torch.float32), torch.empty(0, dtype=torch.float64),
                      torch.empty(0, dtype=torch.complex128), torch.tensor([1, 2]),
                      torch.empty(0, dtype=torch.int64), torch.empty(0, dtype=torch.bool)):
                _check(t)
    finally:
        torch.set_default_dtype(old)
        _dtype.set_default_dtype(old_ember)


def test_suffix_wrapping():
    # long grad_fn names and dtype suffixes that no longer fit the last line
    for n in (1, 5, 6, 7, 8, 9, 10):
        t = torch.full((n,), 1.5, dtype=torch.float64, requires_grad=True)
        _check(t)
        _check(t * 2)
        _check(F.binary_cross_entropy_with_logits(t, torch.zeros(n, dtype=torch.float64),
                                                  reduction='none'))
        _check(torch.arange(n * 10, dtype=torch.int16).reshape(n, 10))
    _both_set(linewidth=30)
    _check(torch.ones(3, dtype=torch.float64, requires_grad=True) * 2)
    _check(torch.ones(2, 2, dtype=torch.float16, requires_grad=True))


def test_grad_fn_and_requires_grad():
    a = torch.randn(3, 3, requires_grad=True)
    for t in (a, a * 2, a.sum(), a.t(), a[0], a.mean(), (a @ a).relu(), a.detach()):
        _check(t)
    fake = _FakeTensor(np.ones(2, dtype=np.float32), _dtype.float32, True, _GradFn('XBackward0'))
    assert repr(fake) == 'tensor([1., 1.], grad_fn=<XBackward0>)'


def test_tensor_contents_override():
    for t in (torch.ones(2, dtype=torch.float64, requires_grad=True), torch.empty(0, 2)):
        got = _tensor_str._tensor_repr(_mirror(t), tensor_contents='[custom]')
        assert got == t.__repr__(tensor_contents='[custom]')


def test_type_name_matches_torch():
    for name in ('float32', 'float64', 'float16', 'bfloat16', 'int8', 'int16', 'int32',
                 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool', 'complex64',
                 'complex128'):
        t = torch.zeros(2, dtype=getattr(torch, name))
        fake = _FakeTensor(None, getattr(_dtype, name))
        assert _tensor_str._type_name(fake) == t.type() == torch.typename(t)


# ---- random tensors ---------------------------------------------------------------------------

_RANDOM_DTYPES = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int8',
                  'uint8', 'bool', 'complex64', 'complex128']


@settings(max_examples=250, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.lists(st.integers(0, 9), min_size=0, max_size=4),
       dtype=st.sampled_from(_RANDOM_DTYPES),
       exponent=st.integers(-12, 12),
       specials=st.sampled_from(['none', 'zeros', 'nan', 'inf', 'negzero', 'ints']),
       seed=st.integers(0, 2 ** 31 - 1))
def test_random_tensors(shape, dtype, exponent, specials, seed):
    rng = np.random.default_rng(seed)
    n = math.prod(shape)
    values = rng.standard_normal(n) * 10.0 ** exponent
    if specials == 'ints':
        values = np.round(values)
    mask = rng.random(n) < 0.3
    fill = {'zeros': 0.0, 'nan': np.nan, 'inf': np.inf, 'negzero': -0.0}.get(specials)
    if fill is not None:
        values[mask] = fill
    values = values.reshape(shape)
    torch_dtype = getattr(torch, dtype)
    if dtype == 'bool':
        array = values > 0
    elif torch_dtype.is_complex:
        array = values + 1j * np.flip(values)
    elif torch_dtype.is_floating_point:
        array = values
    else:
        info = np.iinfo(dtype)
        array = np.clip(np.nan_to_num(values), info.min, info.max).astype(dtype)
    t = torch.from_numpy(np.asarray(array)).to(torch_dtype)
    _check(t)


@settings(max_examples=25, deadline=None, database=None)
@given(shape=st.lists(st.integers(1, 40), min_size=1, max_size=3).filter(
           lambda s: math.prod(s) > 1000),
       exponent=st.integers(-6, 9), seed=st.integers(0, 2 ** 31 - 1))
def test_random_summarised(shape, exponent, seed):
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(shape) * 10.0 ** exponent
    _check(torch.from_numpy(values.astype(np.float32)))


def test_large_tensor_is_fast():
    data = np.random.default_rng(0).standard_normal((1000, 1000)).astype(np.float32)
    fake = _FakeTensor(data, _dtype.float32)
    start = time.perf_counter()
    text = repr(fake)
    assert time.perf_counter() - start < 0.2
    assert text == repr(torch.from_numpy(data))


# ---- through ember's own Tensor ---------------------------------------------------------------

def _ember_tensor_module():
    try:
        from ember import _tensor
    except ImportError:
        pytest.skip('ember._tensor is not available yet')
    return _tensor


def test_through_ember_tensor():
    _tensor = _ember_tensor_module()
    torch.manual_seed(4)
    for t in (torch.tensor([1.5, 2.0]), torch.arange(24).reshape(2, 3, 4),
              torch.tensor([1, 2], dtype=torch.int32), torch.tensor(3.25), torch.tensor(True),
              torch.empty(0, 3), torch.arange(2000.), torch.tensor([1 + 2j]),
              torch.randn(50, 50, dtype=torch.float64), torch.tensor([1., 2.5], dtype=torch.half)):
        e = _tensor._wrap(_to_numpy(t))
        assert repr(e) == repr(t)
        assert str(e) == str(t)
    e = _tensor._wrap(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    assert repr(e) == repr(torch.ones(2, 3, requires_grad=True))


def test_through_ember_parameter_and_subclass():
    _tensor = _ember_tensor_module()
    try:
        from ember.nn.parameter import Parameter
    except ImportError:
        pytest.skip('ember.nn.parameter is not available yet')
    data = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    expected = repr(torch.nn.Parameter(torch.from_numpy(data.copy())))
    assert repr(Parameter(_tensor._wrap(data.copy()))) == expected

    # a Tensor subclass prints its own class name instead of 'tensor'
    class MyTensor(torch.Tensor):
        pass

    class MyEmberTensor(_tensor.Tensor):
        pass
    MyEmberTensor.__name__ = 'MyTensor'
    e = _tensor._wrap(data.copy())
    e.__class__ = MyEmberTensor
    assert repr(e) == repr(torch.from_numpy(data.copy()).as_subclass(MyTensor))

    class MyParam(torch.nn.Parameter):
        pass

    class MyEmberParam(Parameter):
        pass
    MyEmberParam.__name__ = 'MyParam'
    expected = repr(MyParam(torch.from_numpy(data.copy())))
    assert repr(MyEmberParam(_tensor._wrap(data.copy()))) == expected


@pytest.mark.skipif(not _HAVE_TENSOR, reason='ember.tensor is not available yet')
def test_through_ember_factories():
    assert repr(ember.tensor([1.5, 2.0])) == repr(torch.tensor([1.5, 2.0]))
    assert repr(ember.arange(2000.)) == repr(torch.arange(2000.))
    e = ember.ones(2, 3, requires_grad=True)
    assert repr(e) == repr(torch.ones(2, 3, requires_grad=True))
    assert repr(e * 2) == repr(torch.ones(2, 3, requires_grad=True) * 2)
    assert repr(e.sum()) == repr(torch.ones(2, 3, requires_grad=True).sum())
