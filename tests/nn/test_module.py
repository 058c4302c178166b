"""nn.Module against torch: registration, iteration, state_dict, hooks, conversions, repr."""
import copy
import pickle
import warnings

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


def to_ember(t):
    return ember.tensor(t.detach().numpy().copy())


def to_np(t):
    return np.asarray(t.detach().numpy())


def load_from_torch(ember_mod, torch_mod):
    """Copy torch weights into the ember module through NumPy."""
    sd = {k: to_ember(v) for k, v in torch_mod.state_dict().items()}
    ember_mod.load_state_dict(sd)


def both(build):
    return build(torch), build(ember)


def raises_same(fn_t, fn_e):
    """Both calls raise the same exception type with the same message."""
    with pytest.raises(Exception) as et:
        fn_t()
    with pytest.raises(Exception) as ee:
        fn_e()
    assert type(ee.value).__name__ == type(et.value).__name__, (et.value, ee.value)
    assert str(ee.value) == str(et.value)
    return str(ee.value)


# ---- a network with every kind of state ----------------------------------------------------

def make_net(lib):
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.register_buffer('count', lib.zeros(3))
            self.register_buffer('scratch', lib.ones(2), persistent=False)
            self.register_parameter('unused', None)

        def forward(self, x):
            return self.fc(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = Block()
            self.b = Block()
            self.shared = self.a.fc  # the same module under two names
            self.tied = nn.Linear(4, 4, bias=False)
            self.tied.weight = self.b.fc.weight  # a shared parameter
            self.scale = nn.Parameter(lib.ones(1))
            self.empty = None
            self.seq = nn.Sequential(act(lib, 'ReLU'), nn.Linear(4, 2))

        def forward(self, x):
            return self.seq(self.tied(self.b(self.a(x)))) * self.scale

    return Net()


def names(it):
    return [n for n, _ in it]


def test_named_members_order_and_dedup():
    t, e = both(make_net)
    for kw in [{}, {'remove_duplicate': False}, {'prefix': 'root'}, {'recurse': False}]:
        assert names(e.named_parameters(**kw)) == names(t.named_parameters(**kw))
        assert names(e.named_buffers(**kw)) == names(t.named_buffers(**kw))
    for kw in [{}, {'remove_duplicate': False}, {'prefix': 'm'}]:
        assert names(e.named_modules(**kw)) == names(t.named_modules(**kw))
    assert names(e.named_children()) == names(t.named_children())
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.buffers())) == len(list(t.buffers()))
    assert len(list(e.children())) == len(list(t.children()))
    assert len(list(e.modules())) == len(list(t.modules()))
    assert [type(m).__name__ for m in e.modules()] == [type(m).__name__ for m in t.modules()]


def test_parameter_basics():
    p = ember.nn.Parameter(ember.ones(2, 3))
    assert isinstance(p, ember.Tensor) and isinstance(p, ember.nn.Parameter)
    assert p.requires_grad and p.is_leaf
    pt = torch.nn.Parameter(torch.ones(2, 3))
    assert repr(p) == repr(pt)
    assert repr(ember.nn.Parameter(ember.ones(2), requires_grad=False)) == \
        repr(torch.nn.Parameter(torch.ones(2), requires_grad=False))
    assert repr(ember.nn.Parameter()) == repr(torch.nn.Parameter())
    # shares memory with the tensor it wraps
    base = ember.zeros(3)
    q = ember.nn.Parameter(base)
    with ember.no_grad():
        q.add_(1)
    assert base.tolist() == [1.0, 1.0, 1.0]
    b = ember.nn.Buffer(ember.ones(2), persistent=False)
    assert isinstance(b, ember.nn.Buffer) and not b.persistent
    assert not isinstance(ember.ones(2), ember.nn.Buffer)
    assert ember.nn.parameter.is_lazy(ember.nn.UninitializedParameter())
    assert repr(ember.nn.UninitializedParameter()) == repr(torch.nn.UninitializedParameter())
    assert repr(ember.nn.UninitializedBuffer()) == repr(torch.nn.UninitializedBuffer())


def test_buffer_assignment_and_delattr():
    def build(lib):
        m = lib.nn.Module()
        m.b = lib.nn.Buffer(lib.ones(2), persistent=False)
        m.c = lib.nn.Buffer(lib.ones(1))
        m.p = lib.nn.Parameter(lib.ones(1))
        m.c = lib.zeros(1)  # stays a buffer
        return m
    t, e = both(build)
    assert list(e.state_dict()) == list(t.state_dict())
    assert names(e.named_buffers()) == names(t.named_buffers())
    for m in (t, e):
        del m.c
        del m.p
    assert list(e.state_dict()) == list(t.state_dict())
    assert names(e.named_parameters()) == names(t.named_parameters()) == []


def test_attribute_errors():
    t, e = both(make_net)
    raises_same(lambda: t.nope, lambda: e.nope)
    raises_same(lambda: setattr(t, 'scale', torch.ones(1)),
                lambda: setattr(e, 'scale', ember.ones(1)))
    raises_same(lambda: setattr(t, 'seq', 3), lambda: setattr(e, 'seq', 3))
    raises_same(lambda: setattr(t.a, 'count', 'x'), lambda: setattr(e.a, 'count', 'x'))
    raises_same(lambda: t.register_buffer('a.b', None), lambda: e.register_buffer('a.b', None))
    raises_same(lambda: t.register_buffer('', None), lambda: e.register_buffer('', None))
    raises_same(lambda: t.register_buffer('seq', None), lambda: e.register_buffer('seq', None))
    raises_same(lambda: t.register_buffer('x', 3), lambda: e.register_buffer('x', 3))
    raises_same(lambda: t.register_buffer(1, None), lambda: e.register_buffer(1, None))
    raises_same(lambda: t.register_parameter('a.b', None),
                lambda: e.register_parameter('a.b', None))
    raises_same(lambda: t.register_parameter('x', torch.ones(1)),
                lambda: e.register_parameter('x', ember.ones(1)))
    raises_same(lambda: t.register_parameter('seq', None),
                lambda: e.register_parameter('seq', None))
    raises_same(lambda: t.add_module('x', 3), lambda: e.add_module('x', 3))
    raises_same(lambda: t.add_module('a.b', None), lambda: e.add_module('a.b', None))
    raises_same(lambda: t.add_module('', None), lambda: e.add_module('', None))
    raises_same(lambda: t.add_module('scale', None), lambda: e.add_module('scale', None))
    raises_same(lambda: torch.nn.Module().forward(1), lambda: ember.nn.Module().forward(1))
    raises_same(lambda: torch.nn.Module(3), lambda: ember.nn.Module(3))
    raises_same(lambda: torch.nn.Module(x=3), lambda: ember.nn.Module(x=3))


def test_get_set_submodule():
    t, e = both(make_net)
    assert type(e.get_submodule('a.fc')).__name__ == 'Linear'
    assert e.get_submodule('') is e
    assert e.get_parameter('a.fc.weight') is e.a.fc.weight
    assert e.get_buffer('b.count') is e.b.count
    for target in ['a.nope', 'a.fc.weight', 'scale.x']:
        raises_same(lambda: t.get_submodule(target), lambda: e.get_submodule(target))
    for target in ['a.fc.nope', 'a.count', 'a.fc']:
        raises_same(lambda: t.get_parameter(target), lambda: e.get_parameter(target))
    for target in ['a.nope', 'a.fc.weight']:
        raises_same(lambda: t.get_buffer(target), lambda: e.get_buffer(target))
    raises_same(lambda: t.set_submodule('', act(torch, 'ReLU')),
                lambda: e.set_submodule('', act(ember, 'ReLU')))
    raises_same(lambda: t.set_submodule('a.new', act(torch, 'ReLU'), strict=True),
                lambda: e.set_submodule('a.new', act(ember, 'ReLU'), strict=True))
    raises_same(lambda: t.set_submodule('scale', act(torch, 'ReLU')),
                lambda: e.set_submodule('scale', act(ember, 'ReLU')))
    t.set_submodule('a.fc', act(torch, 'Tanh'))
    e.set_submodule('a.fc', act(ember, 'Tanh'))
    t.set_submodule('a.extra', act(torch, 'ReLU'))
    e.set_submodule('a.extra', act(ember, 'ReLU'))
    assert repr(e) == repr(t)


def test_dir_public_names():
    t, e = both(make_net)
    pub = lambda m: [n for n in dir(m) if not n.startswith('_')]  # noqa: E731
    assert pub(e) == pub(t)
    assert [n for n in dir(ember.nn.Module) if not n.startswith('_')] == \
        [n for n in dir(torch.nn.Module) if not n.startswith('_')]


def test_train_eval_requires_grad_apply():
    t, e = both(make_net)
    for m in (t, e):
        m.eval()
        m.seq.train()
    assert [m.training for m in e.modules()] == [m.training for m in t.modules()]
    raises_same(lambda: t.train('yes'), lambda: e.train('yes'))
    e.requires_grad_(False)
    assert not any(p.requires_grad for p in e.parameters())
    e.requires_grad_()
    assert all(p.requires_grad for p in e.parameters())
    seen_t, seen_e = [], []
    t.apply(lambda m: seen_t.append(type(m).__name__))
    assert e.apply(lambda m: seen_e.append(type(m).__name__)) is e
    assert seen_e == seen_t


def test_forward_and_zero_grad():
    t, e = both(make_net)
    load_from_torch(e, t)
    x = np.random.RandomState(0).randn(3, 4).astype(np.float32)
    yt, ye = t(torch.from_numpy(x)), e(ember.tensor(x))
    np.testing.assert_allclose(to_np(ye), to_np(yt), rtol=1e-5, atol=1e-6)
    yt.sum().backward()
    ye.sum().backward()
    for (n, pt), (_, pe) in zip(t.named_parameters(), e.named_parameters()):
        np.testing.assert_allclose(to_np(pe.grad), to_np(pt.grad), rtol=1e-4, atol=1e-6,
                                   err_msg=n)
    e.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in e.parameters())
    e.zero_grad()
    assert all(p.grad is None for p in e.parameters())


# ---- conversions ------------------------------------------------------------------------------

def test_to_double_keeps_parameter_objects():
    e = make_net(ember)
    e.a.fc(ember.ones(1, 4)).sum().backward()
    w = e.a.fc.weight
    assert e.double() is e
    assert e.a.fc.weight is w and w.dtype == ember.float64 and w.grad.dtype == ember.float64
    assert e.a.count.dtype == ember.float64
    e.to(ember.float32)
    assert w.dtype == ember.float32 and w.grad.dtype == ember.float32
    e.to(ember.zeros(1, dtype=ember.float64))
    assert w.dtype == ember.float64
    e.to('cpu', ember.float32)
    e.to(device='cpu', dtype=ember.float16)
    assert w.dtype == ember.float16
    e.float()
    assert e.cpu() is e and w.dtype == ember.float32
    e.half().float()
    e.type(ember.float64)
    assert w.dtype == ember.float64
    assert e.to_empty(device='cpu') is e


def test_conversion_errors_and_int_buffers():
    def build(lib):
        m = lib.nn.Linear(2, 2)
        m.register_buffer('steps', lib.zeros(1, dtype=lib.int64))
        return m
    t, e = both(build)
    raises_same(lambda: t.to(torch.int32), lambda: e.to(ember.int32))
    for m in (t, e):
        m.double()
    assert str(e.steps.dtype) == str(t.steps.dtype) == 'torch.int64'
    assert str(e.weight.dtype) == str(t.weight.dtype)
    # a CPU-only torch: AssertionError('Torch not compiled with CUDA enabled')
    raises_same(lambda: t.cuda(), lambda: e.cuda())
    raises_same(lambda: t.to('cuda'), lambda: e.to('cuda'))
    assert e.share_memory() is e


# ---- state_dict -------------------------------------------------------------------------------

def test_state_dict_keys_values_metadata():
    t, e = both(make_net)
    load_from_torch(e, t)
    sdt, sde = t.state_dict(), e.state_dict()
    assert type(sde) is type(sdt)
    assert list(sde) == list(sdt)
    assert dict(sde._metadata) == dict(sdt._metadata)
    for k in sdt:
        np.testing.assert_array_equal(to_np(sde[k]), to_np(sdt[k]))
        assert not sde[k].requires_grad
    kv = e.state_dict(keep_vars=True)
    assert kv['a.fc.weight'] is e.a.fc.weight
    assert list(e.state_dict(prefix='p.')) == list(t.state_dict(prefix='p.'))
    assert list(e.state_dict(prefix='p.')._metadata) == list(t.state_dict(prefix='p.')._metadata)
    # state_dict tensors share memory with the parameters
    with ember.no_grad():
        e.scale.fill_(3)
    assert float(sde['scale'][0]) == 3.0


def test_load_state_dict_errors():
    t, e = both(make_net)
    sdt = t.state_dict()
    sde = {k: to_ember(v) for k, v in sdt.items()}

    def bad(sd, lib, mismatch=True):
        sd = dict(sd)
        del sd['a.fc.bias']
        sd['a.fc.extra'] = lib.ones(1)
        sd['zzz.w'] = lib.ones(1)
        if mismatch:
            sd['seq.1.weight'] = lib.ones(3, 3)
        return sd
    msg = raises_same(lambda: t.load_state_dict(bad(sdt, torch)),
                      lambda: e.load_state_dict(bad(sde, ember)))
    assert 'Missing key(s)' in msg and 'size mismatch' in msg
    raises_same(lambda: t.load_state_dict(bad(sdt, torch), strict=False),
                lambda: e.load_state_dict(bad(sde, ember), strict=False))
    rt = t.load_state_dict(bad(sdt, torch, False), strict=False)
    re_ = e.load_state_dict(bad(sde, ember, False), strict=False)
    assert re_.missing_keys == rt.missing_keys and re_.unexpected_keys == rt.unexpected_keys
    assert repr(re_) == repr(rt)
    ok = e.load_state_dict(sde)
    assert repr(ok) == repr(t.load_state_dict(sdt)) == '<All keys matched successfully>'
    raises_same(lambda: t.load_state_dict([1]), lambda: e.load_state_dict([1]))
    raises_same(lambda: t.load_state_dict({**sdt, 'scale': 3}),
                lambda: e.load_state_dict({**sde, 'scale': 3}))


def test_load_state_dict_assign_and_scalar_bc():
    e = ember.nn.Linear(2, 3)
    w = ember.ones(3, 2)
    e.load_state_dict({'weight': w, 'bias': ember.zeros(3)}, assign=True)
    assert isinstance(e.weight, ember.nn.Parameter) and e.weight.requires_grad
    assert e.weight.tolist() == w.tolist()
    m = ember.nn.Module()
    m.p = ember.nn.Parameter(ember.tensor(1.0))
    m.load_state_dict({'p': ember.tensor([5.0])})  # 1-element entry into a 0-d parameter
    assert float(m.p) == 5.0


def test_extra_state_roundtrip():
    def build(lib):
        class WithExtra(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(1, 1)
                self.state = {'step': 0}

            def get_extra_state(self):
                return dict(self.state)

            def set_extra_state(self, s):
                self.state = s
        return WithExtra()
    t, e = both(build)
    assert list(e.state_dict()) == list(t.state_dict())
    e.state['step'] = 7
    sd = e.state_dict()
    e2 = build(ember)
    e2.load_state_dict(sd)
    assert e2.state['step'] == 7


# ---- hooks ------------------------------------------------------------------------------------

def _hook_log(lib):
    log = []
    m = lib.nn.Linear(2, 2)
    h1 = m.register_forward_pre_hook(lambda mod, args: log.append(('pre1', len(args))))
    m.register_forward_pre_hook(lambda mod, args: log.append(('pre0',)), prepend=True)
    m.register_forward_pre_hook(lambda mod, args, kw: log.append(('prekw', sorted(kw))),
                                with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: log.append(('fwd', tuple(out.shape))))
    m.register_forward_hook(lambda mod, args, kw, out: log.append(('fwdkw', sorted(kw))),
                            with_kwargs=True, prepend=True)
    m(lib.ones(3, 2))
    h1.remove()
    m(input=lib.ones(1, 2))
    return log


def test_forward_hook_order_and_remove():
    assert _hook_log(ember) == _hook_log(torch)


def test_forward_hooks_replace_values():
    def run(lib):
        m = lib.nn.Linear(2, 2)
        with lib.no_grad():
            m.weight.fill_(1.0)
            m.bias.fill_(0.0)
        m.register_forward_pre_hook(lambda mod, args: args[0] * 2)
        m.register_forward_pre_hook(lambda mod, args, kw: ((args[0] + 1,), kw), with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: out * 10)
        return to_np(m(lib.ones(1, 2)))
    np.testing.assert_array_equal(run(ember), run(torch))


def test_always_call_hook_runs_on_error():
    def run(lib):
        log = []

        class Boom(lib.nn.Module):
            def forward(self, x):
                raise ValueError('boom')
        m = Boom()
        m.register_forward_hook(lambda mod, a, out: log.append(('always', out)), always_call=True)
        m.register_forward_hook(lambda mod, a, out: log.append('normal'))
        with pytest.raises(ValueError, match='boom'):
            m(1)
        return log
    assert run(ember) == run(torch)


def test_bad_pre_hook_return():
    def run(lib):
        m = lib.nn.Identity()
        m.register_forward_pre_hook(lambda mod, a, k: 5, with_kwargs=True)
        return lambda: m(1)
    raises_same(run(torch), run(ember))


def test_hooks_fast_path_after_removal():
    m = ember.nn.Linear(2, 2)
    h = m.register_forward_hook(lambda *a: None)
    h.remove()
    assert not m._forward_hooks
    with m.register_forward_pre_hook(lambda *a: None):
        assert m._forward_pre_hooks
    assert not m._forward_pre_hooks


def _full_backward(lib):
    log = []
    m = lib.nn.Linear(3, 2)
    with lib.no_grad():
        m.weight.copy_(lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        m.bias.zero_()

    def pre(mod, gout):
        log.append(('pre', [to_np(g).tolist() for g in gout]))
        return (gout[0] * 2,)

    def post(mod, gin, gout):
        log.append(('post', [None if g is None else to_np(g).tolist() for g in gin],
                    [to_np(g).tolist() for g in gout]))
        return (gin[0] + 1,)
    m.register_full_backward_pre_hook(pre)
    m.register_full_backward_hook(post)
    x = lib.tensor([[1.0, -1.0, 0.5]], requires_grad=True)
    m(x).sum().backward()
    return log, to_np(x.grad).tolist(), to_np(m.weight.grad).tolist()


def test_full_backward_hooks():
    assert _full_backward(ember) == _full_backward(torch)


def test_backward_hook_mixing_rejected():
    def run(lib):
        m = lib.nn.Linear(1, 1)
        m.register_full_backward_hook(lambda *a: None)
        return lambda: m.register_backward_hook(lambda *a: None)
    raises_same(run(torch), run(ember))


def test_state_dict_hooks():
    def run(lib):
        log = []
        m = lib.nn.Sequential(lib.nn.Linear(1, 1))
        m.register_state_dict_pre_hook(lambda mod, prefix, keep: log.append(('pre', prefix)))
        m[0].register_state_dict_post_hook(lambda mod, sd, prefix, meta:
                                           log.append(('post', prefix, sorted(sd))))
        sd = m.state_dict()
        m.register_load_state_dict_pre_hook(lambda mod, sd, prefix, *rest:
                                            log.append(('lpre', prefix, sorted(sd))))
        m[0].register_load_state_dict_post_hook(lambda mod, keys:
                                                log.append(('lpost', list(keys.missing_keys))))
        m.load_state_dict(sd)
        return log
    assert run(ember) == run(torch)


# ---- repr, pickling ---------------------------------------------------------------------------

def test_repr_nested():
    def build(lib):
        nn = lib.nn

        class Inner(nn.Module):
            def __init__(self):
                super().__init__()
                self.l = nn.Linear(3, 4, bias=False)

            def extra_repr(self):
                return 'custom=1\nsecond line'

        class Outer(nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = Inner()
                self.nothing = None
                self.seq = nn.Sequential(nn.Identity(), Inner(), nn.Flatten(),
                                         nn.Unflatten(1, (2, 2)), nn.Bilinear(3, 4, 5))
        return Outer()
    t, e = both(build)
    assert repr(e) == repr(t)
    assert str(e) == str(t)
    assert repr(ember.nn.Module()) == repr(torch.nn.Module())


class PickleNet(ember.nn.Module):
    """Module-level classes: pickle finds classes by qualified name."""

    def __init__(self):
        super().__init__()
        self.a = ember.nn.Linear(4, 4)
        self.shared = self.a
        self.tied = ember.nn.Linear(4, 4, bias=False)
        self.tied.weight = self.a.weight
        self.seq = ember.nn.Sequential(ember.nn.Identity(), ember.nn.Linear(4, 2))
        self.register_buffer('steps', ember.zeros(1))
        self.register_forward_hook(_pickle_hook)

    def forward(self, x):
        return self.seq(self.tied(self.a(x)))


def _pickle_hook(module, args, out):
    return out * 2


def test_pickle_and_deepcopy():
    e = PickleNet()
    e.a.weight.grad = ember.ones(4, 4)
    x = ember.ones(2, 4)
    y = e(x)
    for clone in (pickle.loads(pickle.dumps(e)), copy.deepcopy(e)):
        assert repr(clone) == repr(e)
        assert list(clone.state_dict()) == list(e.state_dict())
        assert isinstance(clone.a.weight, ember.nn.Parameter)
        assert clone.a.weight.requires_grad
        assert clone.a.weight is not e.a.weight
        assert clone.shared is clone.a  # sharing survives
        assert clone.tied.weight is clone.a.weight
        np.testing.assert_array_equal(to_np(clone(x)), to_np(y))


def test_deprecated_positional_state_dict_warns():
    e = ember.nn.Linear(1, 1)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        from collections import OrderedDict
        d = e.state_dict(OrderedDict(), 'x.')
    assert list(d) == ['x.weight', 'x.bias']
    assert any(issubclass(i.category, FutureWarning) for i in w)


def _legacy_backward(lib):
    log = []
    lib.manual_seed(0)
    m = lib.nn.Linear(3, 2)
    m.register_backward_hook(lambda mod, gin, gout: log.append(
        ([None if g is None else to_np(g).tolist() for g in gin],
         [to_np(g).tolist() for g in gout])))
    x = lib.ones(4, 3, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        m(x).sum().backward()
    return log


def test_legacy_backward_hook():
    le, lt = _legacy_backward(ember), _legacy_backward(torch)
    assert len(le) == len(lt) == 1
    gin_e, gin_t = le[0][0], lt[0][0]
    assert le[0][1] == lt[0][1]  # grad_output
    np.testing.assert_allclose(gin_e[1], gin_t[1], rtol=1e-6)  # grad w.r.t. the input
    np.testing.assert_allclose(gin_e[2], gin_t[2], rtol=1e-6)  # grad w.r.t. weight.T
    if np.shape(gin_e[0]) != np.shape(gin_t[0]):
        pytest.xfail('core: Node hooks see the bias grad before it is summed to the bias '
                     f'shape ({np.shape(gin_e[0])} vs torch {np.shape(gin_t[0])})')
    assert gin_e[0] == gin_t[0]


def _global_hooks(lib):
    from importlib import import_module
    mm = import_module(lib.__name__ + '.nn.modules.module')
    log = []
    handles = [
        mm.register_module_forward_pre_hook(lambda m, a: log.append(('gpre', type(m).__name__))),
        mm.register_module_forward_hook(lambda m, a, o: log.append(('gfwd', type(m).__name__))),
    ]
    try:
        net = lib.nn.Sequential(lib.nn.Identity(), lib.nn.Flatten())
        net[0].register_forward_hook(lambda m, a, o: log.append(('local', type(m).__name__)))
        net(lib.ones(2, 2))
    finally:
        for h in handles:
            h.remove()
    net(lib.ones(2, 2))
    return log


def test_global_module_hooks():
    assert _global_hooks(ember) == _global_hooks(torch)


def test_registration_global_hooks_and_register_module():
    from ember.nn.modules import module as mm
    seen = []
    h = mm.register_module_parameter_registration_hook(lambda m, n, p: seen.append(('p', n)))
    h2 = mm.register_module_module_registration_hook(lambda m, n, c: seen.append(('m', n)))
    h3 = mm.register_module_buffer_registration_hook(lambda m, n, b: seen.append(('b', n)))
    try:
        m = ember.nn.Module()
        m.w = ember.nn.Parameter(ember.ones(1))
        m.register_module('sub', ember.nn.Identity())
        m.register_buffer('buf', ember.ones(1))
    finally:
        h.remove(), h2.remove(), h3.remove()
    assert seen == [('p', 'w'), ('m', 'sub'), ('b', 'buf')]
    assert m.sub is m.get_submodule('sub')


def test_parameter_errors_and_types():
    raises_same(lambda: torch.nn.Parameter(torch.tensor([1])),
                lambda: ember.nn.Parameter(ember.tensor([1])))
    raises_same(lambda: torch.nn.Parameter([1.0]), lambda: ember.nn.Parameter([1.0]))
    assert repr(ember.nn.Parameter(ember.tensor([1]), requires_grad=False)) == \
        repr(torch.nn.Parameter(torch.tensor([1]), requires_grad=False))
    p = ember.nn.Parameter(ember.ones(2))
    # results of ops on a Parameter are plain tensors, as in torch
    for r in (p.detach(), p * 2, p.data, p.clone()):
        assert type(r) is ember.Tensor
    q = copy.deepcopy(p)
    assert type(q) is ember.nn.Parameter and q.requires_grad and q is not p


def _full_backward_edge_cases(lib):
    log = []
    lib.manual_seed(0)
    m = lib.nn.Linear(3, 2)
    m.register_full_backward_hook(lambda mod, gin, gout: log.append(
        ('full', [None if g is None else to_np(g).round(4).tolist() for g in gin],
         [to_np(g).round(4).tolist() for g in gout])))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        m(lib.ones(2, 3)).sum().backward()  # no input needs grad: hook fires at the output
    log.append([str(x.message) for x in w])

    class Two(lib.nn.Module):
        def forward(self, a, b, k=1):
            return a * b, a + b * k
    t = Two()
    t.register_full_backward_pre_hook(lambda mod, gout: log.append(('pre', len(gout))))
    t.register_full_backward_hook(lambda mod, gin, gout: log.append(
        ('two', [None if g is None else to_np(g).tolist() for g in gin],
         [None if g is None else to_np(g).tolist() for g in gout])))
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    x, y = t(a, lib.tensor([3.0, 4.0]), k=2)
    (x.sum() * 2 + y.sum()).backward()
    log.append(to_np(a.grad).tolist())
    return log


def test_full_backward_hook_edge_cases():
    assert _full_backward_edge_cases(ember) == _full_backward_edge_cases(torch)
