"""Containers against torch: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""
from collections import OrderedDict

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402


def act(lib, name):
    """A parameterless module printed as `name()` (keeps these tests independent of the
    activation layers, which live in another file)."""
    fns = {'ReLU': lambda x: x.clamp(min=0), 'Tanh': lambda x: x.tanh(),
           'Sigmoid': lambda x: x.sigmoid()}
    cls = type(name, (lib.nn.Module,), {'forward': lambda self, x: fns[name](x)})
    return cls()


def check_both(build):
    return build(torch), build(ember)


def raises_same(fn_t, fn_e):
    with pytest.raises(Exception) as et:
        fn_t()
    with pytest.raises(Exception) as ee:
        fn_e()
    assert type(ee.value).__name__ == type(et.value).__name__, (et.value, ee.value)
    # class paths inside messages differ only by the package name
    assert str(ee.value).replace("'ember.", "'torch.") == str(et.value)


def same_repr(t, e):
    assert repr(e) == repr(t), f'\nember:\n{e!r}\ntorch:\n{t!r}'


def layers(lib):
    nn = lib.nn
    return [nn.Linear(2, 3), act(lib, 'ReLU'), nn.Linear(3, 4), act(lib, 'Tanh'), nn.Identity()]


# ---- Sequential -------------------------------------------------------------------------------

def test_sequential_construction_and_repr():
    same_repr(*check_both(lambda lib: lib.nn.Sequential(*layers(lib))))
    same_repr(*check_both(lambda lib: lib.nn.Sequential()))
    same_repr(*check_both(lambda lib: lib.nn.Sequential(OrderedDict(
        [('conv', lib.nn.Linear(1, 2)), ('act', act(lib, 'ReLU'))]))))
    same_repr(*check_both(lambda lib: lib.nn.Sequential(lib.nn.Sequential(lib.nn.Linear(1, 1)),
                                                  act(lib, 'ReLU'))))


def test_sequential_indexing():
    t, e = check_both(lambda lib: lib.nn.Sequential(*layers(lib)))
    for i in [0, 2, -1, -5]:
        assert type(e[i]).__name__ == type(t[i]).__name__
    for s in [slice(1, 3), slice(None, None, 2), slice(-2, None), slice(3, 1)]:
        same_repr(t[s], e[s])
        assert type(e[s]) is ember.nn.Sequential
    raises_same(lambda: t[5], lambda: e[5])
    raises_same(lambda: t[-6], lambda: e[-6])
    t[1], e[1] = act(torch, 'Sigmoid'), act(ember, 'Sigmoid')
    same_repr(t, e)
    del t[0], e[0]
    same_repr(t, e)
    del t[1:3], e[1:3]
    same_repr(t, e)
    assert len(e) == len(t)
    assert [type(m).__name__ for m in e] == [type(m).__name__ for m in t]


def test_sequential_methods():
    t, e = check_both(lambda lib: lib.nn.Sequential(*layers(lib)[:2]))
    for lib, m in ((torch, t), (ember, e)):
        assert m.append(act(lib, 'Tanh')) is m
        assert m.insert(1, lib.nn.Identity()) is m
        m.insert(-1, act(lib, 'Sigmoid'))
        assert m.extend([act(lib, 'ReLU'), act(lib, 'ReLU')]) is m
    same_repr(t, e)
    assert type(e.pop(2)).__name__ == type(t.pop(2)).__name__
    same_repr(t, e)
    raises_same(lambda: t.insert(20, act(torch, 'ReLU')), lambda: e.insert(20, act(ember, 'ReLU')))
    raises_same(lambda: t.insert(0, 3), lambda: e.insert(0, 3))


def test_sequential_operators():
    t, e = check_both(lambda lib: lib.nn.Sequential(lib.nn.Linear(1, 1), act(lib, 'ReLU')))
    same_repr(t + t, e + e)
    same_repr(t * 3, e * 3)
    same_repr(2 * t, 2 * e)
    assert (e * 2)[0] is (e * 2)[2]  # modules are shared, not copied
    raises_same(lambda: t + [1], lambda: e + [1])
    raises_same(lambda: t * 0, lambda: e * 0)
    raises_same(lambda: t * 1.5, lambda: e * 1.5)
    t2, e2 = check_both(lambda lib: lib.nn.Sequential(act(lib, 'Tanh')))
    t2 += t
    e2 += e
    same_repr(t2, e2)
    t2 *= 2
    e2 *= 2
    same_repr(t2, e2)
    assert [n for n in dir(e2) if not n.startswith('_')] == \
        [n for n in dir(t2) if not n.startswith('_')]


def test_sequential_forward_matches():
    t, e = check_both(lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 3), act(lib, 'ReLU'),
                                              lib.nn.Linear(3, 2)))
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.RandomState(1).randn(5, 4).astype(np.float32)
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(),
                               t(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


# ---- ModuleList / ModuleDict ------------------------------------------------------------------

def test_modulelist_repr_compression():
    def build(lib):
        nn = lib.nn
        return nn.ModuleList([nn.Linear(4, 4) for _ in range(3)]
                             + [act(lib, 'ReLU'), act(lib, 'ReLU'), nn.Linear(1, 2)])
    same_repr(*check_both(build))
    same_repr(*check_both(lambda lib: lib.nn.ModuleList()))

    def nested(lib):
        nn = lib.nn
        return nn.ModuleList([nn.Sequential(nn.Linear(1, 1), act(lib, 'ReLU')) for _ in range(2)])
    same_repr(*check_both(nested))


def test_modulelist_methods():
    t, e = check_both(lambda lib: lib.nn.ModuleList(layers(lib)))
    for lib, m in ((torch, t), (ember, e)):
        assert m.append(act(lib, 'Sigmoid')) is m
        m.insert(0, act(lib, 'Tanh'))
        assert m.extend([act(lib, 'ReLU')]) is m
        m += [lib.nn.Identity()]
        m[1] = act(lib, 'Sigmoid')
        del m[2]
        del m[::3]
    same_repr(t, e)
    same_repr(t[1:3], e[1:3])
    same_repr(t + t, e + e)
    assert type(e.pop(-1)).__name__ == type(t.pop(-1)).__name__
    assert len(e) == len(t)
    raises_same(lambda: t[10], lambda: e[10])
    raises_same(lambda: t.extend(3), lambda: e.extend(3))
    assert list(dict(e.named_parameters())) == list(dict(t.named_parameters()))


def test_moduledict():
    def build(lib):
        nn = lib.nn
        d = nn.ModuleDict({'act': act(lib, 'ReLU'), 'lin': nn.Linear(2, 2)})
        d['drop'] = nn.Identity()
        d.update([('x', act(lib, 'Tanh')), ('y', act(lib, 'Sigmoid'))])
        d.update(OrderedDict(z=act(lib, 'ReLU')))
        del d['x']
        return d
    t, e = check_both(build)
    same_repr(t, e)
    assert list(e) == list(t) and list(e.keys()) == list(t.keys())
    assert [k for k, _ in e.items()] == [k for k, _ in t.items()]
    assert len(e.values()) == len(t.values())
    assert ('act' in e) and ('nope' not in e)
    assert type(e.pop('act')).__name__ == 'ReLU'
    raises_same(lambda: t.update(3), lambda: e.update(3))
    raises_same(lambda: t.update([(1, 2, 3)]), lambda: e.update([(1, 2, 3)]))
    raises_same(lambda: t.update([3]), lambda: e.update([3]))
    e.clear()
    assert len(e) == 0


# ---- ParameterList / ParameterDict ------------------------------------------------------------

def test_parameterlist():
    def build(lib):
        nn = lib.nn
        pl = nn.ParameterList([nn.Parameter(lib.ones(2, 3)), lib.zeros(4)])
        pl.append(nn.Parameter(lib.ones(1, dtype=lib.float64)))
        pl.extend([nn.Parameter(lib.ones(2, 2))])
        pl += ['not a tensor']
        return pl
    t, e = check_both(build)
    same_repr(t, e)
    assert isinstance(e[1], ember.nn.Parameter)
    assert len(e) == len(t) == 5
    same_repr(t[1:3], e[1:3])
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    raises_same(lambda: t(1), lambda: e(1))
    raises_same(lambda: t.extend(torch.ones(2)), lambda: e.extend(ember.ones(2)))
    raises_same(lambda: t[7], lambda: e[7])
    e[0] = ember.ones(5)
    assert isinstance(e[0], ember.nn.Parameter) and e[0].shape == (5,)
    same_repr(torch.nn.ParameterList(), ember.nn.ParameterList())


def test_parameterdict():
    def build(lib):
        nn = lib.nn
        pd = nn.ParameterDict({'b': nn.Parameter(lib.ones(2)), 'a': lib.zeros(3)})
        pd.update({'linear3': nn.Parameter(lib.ones(4, 2))})
        pd['obj'] = 'text'
        pd.update([('z', lib.ones(1, dtype=lib.float64))])
        return pd
    t, e = check_both(build)
    same_repr(t, e)
    assert list(e) == list(t) and list(e.keys()) == list(t.keys())
    assert list(reversed(e)) == list(reversed(t))
    assert [k for k, _ in e.items()] == [k for k, _ in t.items()]
    assert len(list(e.values())) == len(list(t.values()))
    assert 'a' in e and e.get('nope', 3) == 3
    same_repr(t.copy(), e.copy())
    same_repr(t | t.fromkeys(['q']), e | e.fromkeys(['q']))
    assert e.setdefault('new', None) is None
    k, v = e.popitem()
    assert k == 'new'
    e.pop('obj')
    t.pop('obj')
    e |= e.fromkeys(['r'])
    t |= t.fromkeys(['r'])
    same_repr(t, e)
    raises_same(lambda: t[1], lambda: e[1])
    raises_same(lambda: t(1), lambda: e(1))
    raises_same(lambda: t.update(3), lambda: e.update(3))
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    e.clear()
    assert len(e) == 0
