"""torch.library and torch.ops on ember, against torch: the same operator defined in both gives
the same values, gradients, schemas and errors."""
import itertools
import typing
import warnings
from typing import Optional, Sequence

import numpy as np
import pytest
import torch

import ember

LIBS = (ember, torch)
_ids = itertools.count()


def _name(prefix='op'):
    """A fresh operator name (operators outlive a test in both libraries)."""
    return f'{prefix}{next(_ids)}'


def _raises(fn):
    try:
        fn()
    except Exception as e:  # the type and first line are compared
        return type(e).__name__, str(e).split('\n')[0]
    raise AssertionError('no exception')


def assert_same_error(make):
    """make(lib) raises the same exception type and first message line on both."""
    e, t = _raises(lambda: make(ember)), _raises(lambda: make(torch))
    assert e == t, (e, t)


def assert_close(a, b, **kw):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **kw)


def _sin_op(L, ns, name):
    @L.library.custom_op(f'{ns}::{name}', mutates_args=())
    def op(x: L.Tensor, scale: float = 2.0) -> L.Tensor:
        return L.from_numpy(np.sin(x.numpy()) * scale)

    def setup_context(ctx, inputs, output):
        x, scale = inputs
        ctx.save_for_backward(x)
        ctx.scale = scale

    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x.cos() * ctx.scale, None
    op.register_autograd(backward, setup_context=setup_context)
    return op


@pytest.mark.parametrize('dt', ['float32', 'float64'])
def test_custom_op_values_and_gradients(dt):
    name = _name('sin')
    x0 = np.random.default_rng(0).standard_normal((3, 4)).astype(dt)
    out = {}
    for L in LIBS:
        op = _sin_op(L, 'emb_lib', name)
        x = L.tensor(x0, requires_grad=True)
        y = op(x, 3.0)
        y2 = getattr(L.ops.emb_lib, name)(x)
        y3 = getattr(L.ops.emb_lib, name).default(x, scale=0.5)
        (y.sum() + y2.sum() + y3.sum()).backward()
        out[L] = (y, y2, y3, x.grad, type(y.grad_fn).__name__, y.grad_fn.name())
    for a, b in zip(out[ember], out[torch]):
        if isinstance(a, str):
            assert a == b
        else:
            assert_close(a, b, rtol=1e-6)
            assert a.dtype.name == str(b.dtype).split('.')[1]


def test_custom_op_without_autograd_attaches_a_node_that_refuses():
    name = _name('noad')
    msgs = []
    for L in LIBS:
        @L.library.custom_op(f'emb_lib::{name}', mutates_args=())
        def op(x: L.Tensor) -> L.Tensor:
            return x * 2
        x = L.ones(2, requires_grad=True)
        y = op(x)
        assert y.requires_grad and y.grad_fn is not None
        assert not op(x.detach()).requires_grad
        with pytest.raises(RuntimeError) as e:
            y.sum().backward()
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_list_inputs_keyword_only_inputs_and_gradients():
    name = _name('wsum')
    res = {}
    for L in LIBS:
        @L.library.custom_op(f'emb_lib::{name}', mutates_args=())
        def wsum(xs: typing.List[L.Tensor], weights: typing.List[float], *,
                 bias: float = 0.0) -> L.Tensor:
            return sum(t * w for t, w in zip(xs, weights)) + bias

        def setup_context(ctx, inputs, keyword_only_inputs, output):
            ctx.weights = inputs[1]
            ctx.bias = keyword_only_inputs['bias']

        def backward(ctx, grad):
            return [grad * w for w in ctx.weights], None
        wsum.register_autograd(backward, setup_context=setup_context)
        a = L.tensor([1., 2.], requires_grad=True)
        b = L.tensor([3., 4.], requires_grad=True)
        y = wsum([a, b], [0.5, 2.0], bias=1.0)
        y.sum().backward()
        res[L] = (y, a.grad, b.grad, str(getattr(L.ops.emb_lib, name).default._schema))
    for a, b in zip(res[ember][:3], res[torch][:3]):
        assert_close(a, b)
    assert res[ember][3] == res[torch][3]


def test_multiple_outputs_and_tuple_return():
    name = _name('split')
    res = {}
    for L in LIBS:
        @L.library.custom_op(f'emb_lib::{name}', mutates_args=())
        def split(x: L.Tensor) -> typing.Tuple[L.Tensor, L.Tensor]:
            return x * 2, x * 3

        def backward(ctx, ga, gb):
            return ga * 2 + gb * 3
        split.register_autograd(backward)
        x = L.tensor([1., -2.], requires_grad=True)
        a, b = split(x)
        (a * b).sum().backward()
        res[L] = (a, b, x.grad)
    for a, b in zip(res[ember], res[torch]):
        assert_close(a, b)


def _sig_functions(L):
    T = L.Tensor

    def f1(x: T, y: float = 2.0) -> T: ...
    def f2(a: T, b: Optional[T], c: Sequence[T], d: int, e: list[int], g: bool = True,
           h: Optional[float] = None, s: str = "hi", dt: L.dtype = L.float32,
           dev: L.device = None) -> typing.Tuple[T, T]: ...
    def f3(x: T, *, n: int = 3) -> None: ...
    def f4(xs: list[T], w: list[float]) -> list[T]: ...
    def f5(x: T, y: typing.List[Optional[T]], z: Optional[list[int]] = None) -> int: ...
    def f6(x: T) -> typing.Tuple[T]: ...
    return f1, f2, f3, f4, f5, f6


@pytest.mark.parametrize('mutates', [(), ('a',), 'unknown'])
def test_infer_schema_matches_torch(mutates):
    for fe, ft in zip(_sig_functions(ember), _sig_functions(torch)):
        m = mutates if (mutates == 'unknown' or fe.__name__ == 'f2') else ()
        got = ember.library.infer_schema(fe, mutates_args=m)
        assert got == torch.library.infer_schema(ft, mutates_args=m)
        assert ember.library.infer_schema(fe, mutates_args=m, op_name='foo') == \
            torch.library.infer_schema(ft, mutates_args=m, op_name='foo')


def test_infer_schema_errors_match_torch():
    def no_ann(L):
        def f(x): ...
        return L.library.infer_schema(f, mutates_args=())

    def varargs(L):
        def f(*xs: L.Tensor) -> L.Tensor: ...
        return L.library.infer_schema(f, mutates_args=())

    def unknown_mutated(L):
        def f(x: L.Tensor) -> L.Tensor: ...
        return L.library.infer_schema(f, mutates_args={'y'})

    def bad_mutates(L):
        def f(x: L.Tensor) -> L.Tensor: ...
        return L.library.infer_schema(f, mutates_args='all')

    def int_mutated(L):
        def f(x: L.Tensor, n: int) -> L.Tensor: ...
        return L.library.infer_schema(f, mutates_args={'n'})

    def no_return(L):
        def f(x: L.Tensor): ...
        return L.library.infer_schema(f, mutates_args=())

    def inplace_ok(L):
        def f(x: L.Tensor, y: L.Tensor) -> L.Tensor: ...
        return L.library.infer_schema(f, mutates_args={'x'}, tags=L.Tag.inplace)

    def out_ok(L):
        def f(x: L.Tensor, *, out: L.Tensor) -> L.Tensor: ...
        return L.library.infer_schema(f, mutates_args={'out'}, tags=(L.Tag.out,))

    for make in (no_ann, varargs, unknown_mutated, bad_mutates, int_mutated, no_return):
        e, t = _raises(lambda: make(ember)), _raises(lambda: make(torch))
        assert e[0] == t[0] and e[1].split(' Got func')[0] == t[1].split(' Got func')[0]
    assert inplace_ok(ember) == inplace_ok(torch) == '(Tensor(a0!) x, Tensor y) -> Tensor(a0!)'
    assert out_ok(ember) == out_ok(torch)


SCHEMAS = [
    "(Tensor x, float y=2.0, float z=0.5, float w=1e-05, float v=100000000.0) -> Tensor",
    "(Tensor(a!) x, Tensor? b=None, int[2] s=1, SymInt[] t=[1, 2], *, str m='x', "
    "str n=\"hi\", ScalarType? d=None, bool k=True) -> (Tensor(a!), Tensor)",
    "(Tensor[] xs, Scalar alpha=1, Device? device=None, Layout? layout=None) -> Tensor[]",
    "(Tensor x) -> (Tensor values, Tensor indices)",
    "(Tensor x) -> ()",
    "(Tensor(a) x) -> Tensor(a)",
    "(Tensor x, ScalarType dt=float32, float f=-1.5, int i=-3, float? g=None) -> Tensor",
]


def test_schemas_print_as_torch():
    for s in SCHEMAS:
        name = _name('sch')
        printed = []
        for L in LIBS:
            L.library.define(f'emb_lib::{name}', s)
            op = getattr(L.ops.emb_lib, name).default
            printed.append((str(op._schema), op._schema.name, op._schema.overload_name,
                            [a.name for a in op._schema.arguments],
                            [a.kwarg_only for a in op._schema.arguments],
                            [str(a.type) for a in op._schema.arguments],
                            [str(r.type) for r in op._schema.returns],
                            [a.default_value for a in op._schema.arguments
                             if a.name not in ('d', 'dt')]))
        assert printed[0] == printed[1], printed


def test_library_define_impl_and_overloads():
    ns = _name('ns')
    res = {}
    for L in LIBS:
        lib = L.library.Library(ns, 'DEF')
        lib.define('bar(Tensor x, int n=2) -> Tensor')
        lib.define('bar.Tensor(Tensor x, Tensor y) -> Tensor')
        calls = []

        def bar_cpu(*a, **k):
            calls.append((len(a), sorted(k)))
            return a[0] * (a[1] if len(a) > 1 else 2)
        lib.impl('bar', bar_cpu, 'CPU')
        lib.impl('bar.Tensor', lambda x, y: x + y, 'CompositeImplicitAutograd')
        x = L.tensor([1., 2.], requires_grad=True)
        ops = getattr(L.ops, ns)
        r = (ops.bar(x), ops.bar(x, 3), ops.bar(x, n=2), ops.bar(x, x), ops.bar.Tensor(x, x),
             ops.bar.default(x, 5))
        res[L] = (r, calls, ops.bar.overloads(), repr(ops.bar), str(ops.bar.default),
                  repr(ops.bar.Tensor), ops.bar.Tensor.name(), repr(lib),
                  [type(t.grad_fn).__name__ for t in r])
    for a, b in zip(res[ember][0], res[torch][0]):
        assert_close(a, b)
    assert res[ember][1:] == res[torch][1:]


def test_library_errors_match_torch():
    ns = _name('ns')
    libs = {L: L.library.Library(ns, 'DEF') for L in LIBS}
    for L, lib in libs.items():
        lib.define('f(Tensor x, int n=2) -> Tensor')
        lib.impl('f', lambda x, n=2: x * n, 'CPU')
        lib.define('nokernel(Tensor x) -> Tensor')

    def ops(L):
        return getattr(L.ops, ns)
    x = {L: L.ones(2) for L in LIBS}
    assert_same_error(lambda L: ops(L).f(1))
    assert_same_error(lambda L: ops(L).f())
    assert_same_error(lambda L: ops(L).f(x[L], 1, 2))
    assert_same_error(lambda L: ops(L).f(x[L], 1.5))
    assert_same_error(lambda L: ops(L).missing)
    assert_same_error(lambda L: ops(L).f.nope)
    e, t = (_raises(lambda L=L: ops(L).nokernel(x[L])) for L in LIBS)
    assert e[0] == t[0] == 'NotImplementedError' and t[1].startswith(e[1])
    assert_same_error(lambda L: libs[L].define('f(Tensor x) -> Tensor'))
    assert_same_error(lambda L: L.library.Library(ns, 'BLA'))
    assert_same_error(lambda L: L.library.Library('prim', 'DEF'))
    assert_same_error(lambda L: libs[L].impl('f', 3, 'CPU'))
    assert_same_error(lambda L: libs[L].impl('f', lambda x: x, 'Foo'))
    assert_same_error(lambda L: libs[L].define('g(Tensor x) -> Tensor', 'PURE'))
    assert_same_error(lambda L: libs[L].fallback(lambda *a: None, 'CPU'))
    assert_same_error(lambda L: L.library.define('nonamespace', '(Tensor x) -> Tensor'))
    assert_same_error(lambda L: L.library.define(f'{ns}::h', 'h(Tensor x) -> Tensor'))
    assert_same_error(lambda L: L.library.fallthrough_kernel())
    assert_same_error(lambda L: L.library.get_kernel(f'{ns}::f', 'Bla'))
    e = _raises(lambda: L.library.Library(ns, 'DEF'))
    assert e[0] == 'RuntimeError' and 'Only a single TORCH_LIBRARY' in e[1]


def test_library_lifetime_removes_its_operators():
    ns = _name('ns')
    for L in LIBS:
        lib = L.library.Library(ns, 'FRAGMENT')
        lib.define('tmp(Tensor x) -> Tensor')
        assert hasattr(getattr(L.ops, ns), 'tmp')
        lib._destroy()
        assert not hasattr(getattr(L.ops, ns), 'tmp')


def test_define_and_impl_functions_with_device_types():
    name = _name('dev')
    res = {}
    for L in LIBS:
        L.library.define(f'emb_lib::{name}', '(Tensor x) -> Tensor')

        @L.library.impl(f'emb_lib::{name}', 'cpu')
        def f(x):
            return x + 1
        res[L] = getattr(L.ops.emb_lib, name)(L.zeros(2))
    assert_close(res[ember], res[torch])


def test_register_kernel_and_set_kernel_enabled():
    name = _name('kern')
    res = {}
    for L in LIBS:
        @L.library.custom_op(f'emb_lib::{name}', mutates_args=())
        def f(x: L.Tensor) -> L.Tensor:
            return L.zeros_like(x)

        @f.register_kernel('cpu')
        def _(x):
            return L.ones_like(x)
        a = f(L.zeros(2))
        with f.set_kernel_enabled('cpu', enabled=False):
            b = f(L.zeros(2))
        c = f(L.zeros(2))
        res[L] = (a, b, c)
    for a, b in zip(res[ember], res[torch]):
        assert_close(a, b)


def test_mutating_custom_op_bumps_versions_and_refuses_autograd():
    name = _name('mut')
    res = {}
    for L in LIBS:
        @L.library.custom_op(f'emb_lib::{name}', mutates_args={'x'})
        def m(x: L.Tensor, y: L.Tensor) -> None:
            x.add_(y)
        x = L.ones(2)
        v = x._version
        r = m(x, L.ones(2))
        res[L] = (r, x.numpy().tolist(), x._version - v, str(getattr(L.ops.emb_lib,
                                                                        name).default._schema))
        assert_same_error(lambda L: m.register_autograd(lambda ctx, g: g) if L is ember else
                          None) if False else None
    assert res[ember] == res[torch]
    name2 = _name('mut')
    ops = {}
    for L in LIBS:
        @L.library.custom_op(f'emb_lib::{name2}', mutates_args={'x'})
        def m2(x: L.Tensor) -> None:
            x.mul_(2)
        ops[L] = m2
    assert_same_error(lambda L: ops[L].register_autograd(lambda ctx, g: g))


def test_output_aliasing_an_input_is_refused():
    name = _name('alias')
    ops = {}
    for L in LIBS:
        @L.library.custom_op(f'emb_lib::{name}', mutates_args=())
        def g(x: L.Tensor) -> L.Tensor:
            return x.view(-1)
        ops[L] = g
    e, t = (_raises(lambda L=L: ops[L](L.ones(2, 2))) for L in LIBS)
    assert e[0] == t[0] == 'RuntimeError'
    assert e[1].split('): ')[1] == t[1].split('): ')[1]


def test_inplace_and_out_tags():
    name, name2 = _name('inpl'), _name('out')
    res = {}
    for L in LIBS:
        @L.library.custom_op(f'emb_lib::{name}', mutates_args={'x'}, tags=L.Tag.inplace)
        def sin_(x: L.Tensor) -> L.Tensor:
            x.copy_(x.sin())
            return x

        @L.library.custom_op(f'emb_lib::{name2}', mutates_args={'out'}, tags=L.Tag.out)
        def sin_out(x: L.Tensor, *, out: L.Tensor) -> L.Tensor:
            out.copy_(x.sin())
            return out
        x = L.tensor([0.5, 1.0])
        r = sin_(x)
        out = L.empty(2)
        r2 = sin_out(L.tensor([0.5, 1.0]), out=out)
        res[L] = (r is x, r2 is out, x.numpy().tolist(), out.numpy().tolist(),
                  str(getattr(L.ops.emb_lib, name).default._schema),
                  str(getattr(L.ops.emb_lib, name2).default._schema),
                  [str(t) for t in getattr(L.ops.emb_lib, name).default.tags])
    assert res[ember][:2] == res[torch][:2] == (True, True)
    np.testing.assert_allclose(res[ember][2], res[torch][2], rtol=1e-6)
    assert res[ember][4:] == res[torch][4:]


def test_register_fake_autograd_on_library_ops_and_opcheck():
    ns = _name('ns')
    results = {}
    for L in LIBS:
        lib = L.library.Library(ns, 'FRAGMENT')
        lib.define('mysin(Tensor x) -> Tensor')
        lib.impl('mysin', lambda x: x.sin(), 'CPU')
        lib.define('bare(Tensor x) -> Tensor')
        lib.impl('bare', lambda x: x.sin(), 'CPU')
        x = L.randn(3, requires_grad=True)
        r1 = L.library.opcheck(getattr(L.ops, ns).bare.default, (x,), raise_exception=False)

        @L.library.register_fake(f'{ns}::mysin', lib=lib)
        def _(x):
            return L.empty_like(x)

        def backward(ctx, g):
            return g * ctx.saved_tensors[0].cos()

        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
        L.library.register_autograd(f'{ns}::mysin', backward, setup_context=setup_context,
                                    lib=lib)
        r2 = L.library.opcheck(getattr(L.ops, ns).mysin, (x,))
        y = getattr(L.ops, ns).mysin(x)
        y.sum().backward()
        results[L] = ({k: 'SUCCESS' if v == 'SUCCESS' else (type(v).__name__, str(v))
                       for k, v in r1.items()}, r2, type(y.grad_fn).__name__,
                      np.allclose(x.grad.numpy(), np.cos(x.detach().numpy()), rtol=1e-5))
        lib._destroy()
    assert results[ember] == results[torch]


def test_opcheck_reports_missing_registrations_as_torch():
    name = _name('chk')
    res = {}
    for L in LIBS:
        @L.library.custom_op(f'emb_lib::{name}', mutates_args=())
        def s(x: L.Tensor) -> L.Tensor:
            return x.sin()
        x = L.randn(3, requires_grad=True)
        a = L.library.opcheck(s, (x,), raise_exception=False)
        try:
            L.library.opcheck(s, (x,))
        except Exception as e:
            err = (type(e).__name__, str(e))
        s.register_fake(lambda x: x.new_empty(2))
        c = L.library.opcheck(s, (x.detach(),), test_utils='test_faketensor',
                              raise_exception=False)

        @s.register_fake
        def _(x):
            return L.empty_like(x)
        s.register_autograd(lambda ctx, g: g * ctx.x.cos(),
                            setup_context=lambda ctx, inputs, output: setattr(ctx, 'x',
                                                                              inputs[0]))
        b = L.library.opcheck(s, (x,))
        res[L] = ({k: v if v == 'SUCCESS' else (type(v).__name__, str(v)) for k, v in a.items()},
                  err, b, {k: str(v) for k, v in c.items()})
    assert res[ember] == res[torch]
    assert_same_error(lambda L: L.library.opcheck(L.ops.emb_lib.__getattr__(name), (L.ones(1),),
                                                  test_utils='bla'))
    assert_same_error(lambda L: L.library.opcheck(L.ops.emb_lib.__getattr__(name), (L.ones(1),),
                                                  atol=1))
    assert_same_error(lambda L: L.library.opcheck(lambda x: x, (L.ones(1),)))


def test_opcheck_schema_check_sees_undeclared_mutation():
    name = _name('undecl')
    res = {}
    for L in LIBS:
        @L.library.custom_op(f'emb_lib::{name}', mutates_args=())
        def s3(x: L.Tensor) -> L.Tensor:
            x.add_(1)
            return x.clone()
        r = L.library.opcheck(s3, (L.ones(2),), test_utils='test_schema', raise_exception=False)
        res[L] = {k: str(v) for k, v in r.items()}
    assert res[ember] == res[torch]


def test_get_kernel_and_get_ctx():
    name = _name('gk')
    for L in LIBS:
        @L.library.custom_op(f'emb_lib::{name}', mutates_args=())
        def s(x: L.Tensor) -> L.Tensor:
            return x * 3
        k = L.library.get_kernel(getattr(L.ops.emb_lib, name).default, 'CPU')
        keyset = ember._oplib.DispatchKeySet('CPU') if L is ember else \
            torch._C.DispatchKeySet('CPU')
        assert k.call_boxed(keyset, L.ones(2)).numpy().tolist() == [3.0, 3.0]
        assert L.library.get_ctx() is None


def test_get_ctx_inside_a_fake_impl_during_opcheck():
    name = _name('nz')
    res = {}
    for L in LIBS:
        @L.library.custom_op(f'emb_lib::{name}', mutates_args=())
        def nz(x: L.Tensor) -> L.Tensor:
            return x.nonzero()

        @nz.register_fake
        def _(x):
            n = L.library.get_ctx().new_dynamic_size()
            return x.new_empty(n, x.dim(), dtype=L.int64)
        res[L] = L.library.opcheck(nz, (L.tensor([0., 1., 2.]),),
                                   test_utils=('test_schema', 'test_faketensor'))
    assert res[ember] == res[torch]


def test_triton_is_refused_as_on_a_cpu_install():
    for L in LIBS:
        with pytest.raises(ModuleNotFoundError, match="No module named 'triton'"):
            L.library.wrap_triton(lambda: None)
    name = _name('tri')
    reprs = []
    for L in LIBS:
        def f(x: L.Tensor) -> L.Tensor:
            return x.clone()
        reprs.append(repr(L.library.triton_op(f'emb_lib::{name}', mutates_args=())(f)))
    assert reprs[0] == reprs[1]


def test_impl_abstract_warns_and_register_torch_dispatch_is_refused():
    name = _name('abs')
    for L in LIBS:
        L.library.define(f'emb_lib::{name}', '(Tensor x) -> Tensor')
        with pytest.warns(FutureWarning, match='impl_abstract'):
            L.library.impl_abstract(f'emb_lib::{name}', lambda x: L.empty_like(x))
    with pytest.raises(NotImplementedError, match='register_torch_dispatch'):
        ember.library.register_torch_dispatch(f'emb_lib::{name}', object, lambda *a: None)


def test_tags_and_effect_type():
    assert list(ember.Tag.__members__) == list(torch.Tag.__members__)
    for t in torch.Tag.__members__:
        a, b = getattr(ember.Tag, t), getattr(torch.Tag, t)
        assert (repr(a), str(a), a.name, a.value) == (repr(b), str(b), b.name, b.value)
    assert repr(ember.library.EffectType.ORDERED) == repr(torch.library.EffectType.ORDERED)


def test_ops_aten_maps_to_ember_functions():
    x = np.array([[1., -2.], [3., 4.]], dtype=np.float32)
    for name, ov, args in [('add', 'Tensor', 2), ('sin', 'default', 1), ('relu', 'default', 1),
                           ('mm', 'default', 2), ('linalg_det', 'default', 1)]:
        e = getattr(getattr(ember.ops.aten, name), ov)(*[ember.tensor(x)] * args)
        t = getattr(getattr(torch.ops.aten, name), ov)(*[torch.tensor(x)] * args)
        assert_close(e, t, rtol=1e-6)
        assert str(getattr(getattr(ember.ops.aten, name), ov)) == \
            str(getattr(getattr(torch.ops.aten, name), ov))
    assert_same_error(lambda L: L.ops.aten.no_such_op_here)


def test_ops_namespace_reprs():
    assert repr(ember.ops) == repr(torch.ops)
    assert repr(ember.ops.emb_lib) == repr(torch.ops.emb_lib)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert not ember._stubs.is_missing(ember.ops)


def test_backprop_through_an_op_without_autograd_kernel_warns_as_torch():
    ns = _name('ns')
    got = {}
    for L in LIBS:
        lib = L.library.Library(ns, 'FRAGMENT')
        lib.define('twice(Tensor x) -> Tensor')
        lib.impl('twice', lambda x: x * 2, 'CPU')
        x = L.ones(2, requires_grad=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            getattr(L.ops, ns).twice(x).sum().backward()
        msgs = [str(i.message).split(' (Triggered')[0] for i in w
                if 'autograd kernel was not registered' in str(i.message)]
        lib.impl('twice', L.library.fallthrough_kernel, 'Autograd')
        with warnings.catch_warnings(record=True) as w2:
            warnings.simplefilter('always')
            getattr(L.ops, ns).twice(x).sum().backward()
        got[L] = (msgs, len([i for i in w2 if 'autograd kernel' in str(i.message)]),
                  x.grad.tolist())
        lib._destroy()
    assert got[ember] == got[torch]
    assert len(got[ember][0]) == 1
