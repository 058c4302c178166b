"""nn.init against torch: same seed, same values (bitwise for the draws that are exact)."""
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402


def run_both(shape, fn, seed=0, dtype='float32'):
    """Apply the same init to a fresh tensor in torch and ember after the same seed."""
    out = []
    for lib in (torch, ember):
        lib.manual_seed(seed)
        t = lib.empty(*shape, dtype=getattr(lib, dtype))
        r = fn(lib, t)
        assert r is t  # every init returns the tensor it filled
        out.append(np.array(t.numpy()))
    return out


EXACT = [
    ('uniform_', (5, 7), lambda lib, t: lib.nn.init.uniform_(t, -0.3, 0.7)),
    ('normal_small', (3, 4), lambda lib, t: lib.nn.init.normal_(t, 0.5, 2.0)),
    ('normal_fill', (8, 9), lambda lib, t: lib.nn.init.normal_(t, 0.1)),
    ('xavier_uniform_', (16, 20), lambda lib, t: lib.nn.init.xavier_uniform_(t, gain=2.0)),
    ('xavier_normal_', (6, 3, 3, 3), lambda lib, t: lib.nn.init.xavier_normal_(t)),
    ('kaiming_uniform_', (32, 20), lambda lib, t: lib.nn.init.kaiming_uniform_(t, a=math.sqrt(5))),
    ('kaiming_uniform_out', (8, 4, 3), lambda lib, t: lib.nn.init.kaiming_uniform_(
        t, mode='fan_out', nonlinearity='relu')),
    ('kaiming_normal_', (16, 1, 5, 5), lambda lib, t: lib.nn.init.kaiming_normal_(t)),
    ('kaiming_normal_tanh', (4, 4), lambda lib, t: lib.nn.init.kaiming_normal_(
        t, nonlinearity='tanh')),
    ('constant_', (2, 3), lambda lib, t: lib.nn.init.constant_(t, 0.3)),
    ('ones_', (2, 3), lambda lib, t: lib.nn.init.ones_(t)),
    ('zeros_', (2, 3), lambda lib, t: lib.nn.init.zeros_(t)),
    ('eye_', (3, 5), lambda lib, t: lib.nn.init.eye_(t)),
    ('dirac_', (4, 2, 3), lambda lib, t: lib.nn.init.dirac_(t)),
    ('dirac_groups', (6, 2, 3, 3), lambda lib, t: lib.nn.init.dirac_(t, groups=3)),
    ('dirac_5d', (2, 2, 3, 3, 3), lambda lib, t: lib.nn.init.dirac_(t)),
    ('trunc_normal_', (10, 10), lambda lib, t: lib.nn.init.trunc_normal_(t, std=0.5)),
    ('trunc_normal_narrow', (6, 7), lambda lib, t: lib.nn.init.trunc_normal_(
        t, mean=0.0, std=1.0, a=2.0, b=3.0)),
    ('sparse_', (10, 6), lambda lib, t: lib.nn.init.sparse_(t, 0.3)),
]


@pytest.mark.parametrize('name,shape,fn', EXACT, ids=[e[0] for e in EXACT])
def test_init_matches_torch_bitwise(name, shape, fn):
    tv, ev = run_both(shape, fn)
    if name == 'trunc_normal_narrow':
        # its acceptance test compares float32 logs; an ulp there could flip one draw
        np.testing.assert_allclose(ev, tv, rtol=1e-6)
    else:
        np.testing.assert_array_equal(ev, tv)


def test_init_float64_and_generator():
    tv, ev = run_both((7, 5), lambda lib, t: lib.nn.init.uniform_(t, -1, 1), dtype='float64')
    np.testing.assert_array_equal(ev, tv)
    out = []
    for lib in (torch, ember):
        g = lib.Generator().manual_seed(123)
        t = lib.empty(4, 6)
        lib.nn.init.kaiming_normal_(t, generator=g)
        lib.nn.init.xavier_uniform_(t, generator=g)
        out.append(np.array(t.numpy()))
    np.testing.assert_array_equal(out[1], out[0])


def test_orthogonal_close_to_torch():
    for shape in [(4, 6), (6, 4), (3, 2, 2)]:
        tv, ev = run_both(shape, lambda lib, t: lib.nn.init.orthogonal_(t, gain=2.0))
        np.testing.assert_allclose(ev, tv, rtol=1e-4, atol=1e-5)


def test_init_on_parameters_keeps_grad_state():
    p = ember.nn.Parameter(ember.empty(3, 3))
    ember.nn.init.normal_(p)
    assert p.requires_grad and p.grad_fn is None and p.is_leaf
    ember.nn.init.constant_(p.data, 0.3)
    assert np.allclose(p.detach().numpy(), 0.3)


@pytest.mark.parametrize('args', [('linear',), ('conv2d',), ('sigmoid',), ('tanh',), ('relu',),
                                  ('leaky_relu',), ('leaky_relu', 0.2), ('leaky_relu', 3),
                                  ('selu',)])
def test_calculate_gain(args):
    assert ember.nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


def test_errors_match():
    cases = [
        lambda lib: lib.nn.init.calculate_gain('foo'),
        lambda lib: lib.nn.init.calculate_gain('leaky_relu', True),
        lambda lib: lib.nn.init.eye_(lib.empty(2, 2, 2)),
        lambda lib: lib.nn.init.dirac_(lib.empty(2, 2)),
        lambda lib: lib.nn.init.dirac_(lib.empty(3, 2, 2), groups=2),
        lambda lib: lib.nn.init.xavier_uniform_(lib.empty(3)),
        lambda lib: lib.nn.init.kaiming_uniform_(lib.empty(3, 3), mode='fan_avg'),
        lambda lib: lib.nn.init.orthogonal_(lib.empty(3)),
        lambda lib: lib.nn.init.sparse_(lib.empty(3), 0.1),
    ]
    for case in cases:
        with pytest.raises(Exception) as et:
            case(torch)
        with pytest.raises(Exception) as ee:
            case(ember)
        assert type(ee.value) is type(et.value) and str(ee.value) == str(et.value)


def test_deprecated_aliases_warn_and_work():
    out = []
    for lib in (torch, ember):
        lib.manual_seed(3)
        t = lib.empty(3, 4)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            lib.nn.init.normal(t)
            lib.nn.init.xavier_uniform(t)
        assert [str(x.message) for x in w if issubclass(x.category, FutureWarning)]
        out.append((np.array(t.numpy()), [str(x.message) for x in w]))
    np.testing.assert_array_equal(out[1][0], out[0][0])
    assert out[1][1] == out[0][1]
    for name in ['uniform', 'normal', 'constant', 'eye', 'dirac', 'xavier_uniform',
                 'xavier_normal', 'kaiming_uniform', 'kaiming_normal', 'orthogonal', 'sparse']:
        assert callable(getattr(ember.nn.init, name))


def test_zero_element_kaiming_warns():
    with pytest.warns(UserWarning, match='zero-element'):
        out = ember.nn.init.kaiming_uniform_(ember.empty(0, 3))
    assert out.shape == (0, 3)


def test_seed_style_data_writes():
    # weight.data.fill_(1); bias.data.zero_() as the seed programs write them
    out = []
    for lib in (torch, ember):
        net = lib.nn.Sequential(lib.nn.Linear(2, 2))

        def init_weight(m):
            if type(m) == lib.nn.Linear:
                m.weight.data.fill_(1.0)
                m.bias.data.fill_(0)
        net.apply(init_weight)
        assert net[0].weight.requires_grad
        out.append(net[0].weight.detach().numpy().copy())
    np.testing.assert_array_equal(out[1], out[0])
