"""torch.overrides and the __torch_function__ protocol against torch: Tensor subclasses and
modes see the calls torch shows them (names, order, types), results keep the subclass, the
disabling context managers, the helper functions and tables, and the errors."""
import gc

import numpy as np
import pytest

import ember
from ember._torch_function import State

torch = pytest.importorskip("torch")

LIBS = (ember, torch)


@pytest.fixture(autouse=True)
def _no_dispatch_left():
    """Each test starts and ends with the protocol disarmed (its classes collected)."""
    yield
    gc.collect()
    if State.armed:  # a class still referenced (a traceback): leave the suite as it was
        from ember import overrides
        overrides._SUBCLASSES.clear()
        overrides._disarm()


def both(program):
    return program(ember), program(torch)


def logging_tensor(lib, log):
    class LoggingTensor(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            log.append((func.__name__, tuple(t.__name__ for t in types)))
            return super().__torch_function__(func, types, args, kwargs)
    return LoggingTensor


def values(t):
    return np.asarray(ember.Tensor.detach(t).numpy() if isinstance(t, ember.Tensor)
                      else torch.Tensor.detach(t).numpy())


def test_subclass_sees_functions_methods_operators_and_layers():
    def program(lib):
        log = []
        L = logging_tensor(lib, log)
        x = lib.tensor(np.arange(6.0).reshape(2, 3) / 7 - 0.3, dtype=lib.float32).as_subclass(L)
        out = []
        calls = [lambda: x + 1, lambda: 2 * x, lambda: 1 - x, lambda: lib.add(x, 1, alpha=2),
                 lambda: lib.nn.functional.relu(x), lambda: x.sum(dim=0), lambda: -x,
                 lambda: x ** 2, lambda: x[0], lambda: x @ x.t(), lambda: lib.cat([x, x]),
                 lambda: x.relu(), lambda: lib.max(x, 0), lambda: x / 2, lambda: x < 0,
                 lambda: lib.linalg.vector_norm(x), lambda: lib.special.expit(x)]
        for f in calls:
            log.clear()
            r = f()
            first = r[0] if isinstance(r, tuple) else r
            out.append((list(log), type(first).__name__,
                        values(first).astype(float).round(4).tolist()))
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
        log.clear()
        y = model(x)
        out.append(([n for n, _ in log if n != '__get__'], type(y).__name__,
                    values(y).round(5).tolist()))
        return out
    e, t = both(program)
    assert e == t


def test_gradients_through_a_subclass_are_plain():
    def program(lib):
        log = []
        L = logging_tensor(lib, log)
        w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).as_subclass(L)
        y = (x * w).tanh().sum()
        n_forward = len(log)
        y.backward()
        names = [n for n, _ in log[n_forward:]]
        return (type(y).__name__, y.grad_fn.name(), n_forward, names,
                type(w.grad).__name__, values(w.grad).round(6).tolist())
    e, t = both(program)
    assert e == t


def test_as_subclass_is_an_alias_in_the_graph():
    def program(lib):
        class S(lib.Tensor):
            pass
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        s = a.as_subclass(S)
        p = lib.tensor([1.0, 2.0]).as_subclass(S)
        p.add_(1)
        base = lib.tensor([1.0, 2.0])
        q = base.as_subclass(S)
        q.mul_(3)
        (s * s).sum().backward()
        # (ember: a subclass without a __torch_function__ of its own gives plain results)
        return (type(s).__name__, s.grad_fn.name(), s.requires_grad, s.is_leaf, p.grad_fn,
                values(base).tolist(), values(a.grad).tolist())
    e, t = both(program)
    assert e[:4] == t[:4] and e[4] is t[4] is None and e[5:] == t[5:]


def test_mode_sees_model_factories_and_nested_modes():
    def program(lib):
        from_outer, from_inner = [], []

        class Outer(lib.overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                from_outer.append(func.__name__)
                return func(*args, **(kwargs or {}))

        class Inner(lib.overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                from_inner.append(func.__name__)
                if func is lib.add:  # handled here: the result never reaches the outer mode
                    return lib.sub(*args)
                return func(*args, **(kwargs or {}))
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.ReLU(), lib.nn.Linear(3, 2))
        x = lib.ones(5, 4)
        with Outer():
            y = model(x)
            z = lib.softmax(y, -1).sum()
            lib.zeros(2)
            lib.zeros_like(y)
            with Inner():
                w = lib.add(lib.ones(2), 1)
                v = x.mean()
        return from_outer, from_inner, values(z).round(5).tolist(), values(w).tolist(), \
            values(v).tolist()
    e, t = both(program)
    assert e == t


def test_base_mode_and_mode_returning_not_implemented():
    def program(lib):
        class Count(lib.overrides.BaseTorchFunctionMode):
            n = 0

            def __torch_function__(self, func, types, args=(), kwargs=None):
                Count.n += 1
                return super().__torch_function__(func, types, args, kwargs)

        class Refuse(lib.overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                return NotImplemented
        with Count() as m:
            r = lib.ones(3).exp().sum()
            assert lib.overrides._get_current_function_mode() is m
        with Refuse():
            with pytest.raises(TypeError) as err:
                lib.ones(2).neg()
        return Count.n, values(r).round(4).tolist(), str(err.value).split('<')[0]
    e, t = both(program)
    assert e == t


def test_disable_torch_function_context_managers():
    def program(lib):
        log = []
        L = logging_tensor(lib, log)
        x = lib.ones(2).as_subclass(L)
        with lib._C.DisableTorchFunctionSubclass():
            a = x + 1
            enabled_inside = lib._C._is_torch_function_enabled()
        with lib._C.DisableTorchFunction():
            b = x * 2
        c = x - 1
        return (len(log), type(a).__name__, type(b).__name__, type(c).__name__,
                enabled_inside, lib._C._is_torch_function_enabled())
    e, t = both(program)
    assert e == t


def test_disabled_impl_and_parameters_take_no_part():
    def program(lib):
        class Plain(lib.Tensor):
            __torch_function__ = lib._C._disabled_torch_function_impl
        p = lib.nn.Parameter(lib.ones(2))
        x = lib.ones(2).as_subclass(Plain)
        return (type(p * 2).__name__, type(x + 1).__name__,
                lib.overrides.has_torch_function((p, x)),
                lib.overrides.has_torch_function_unary(lib.ones(1)))
    e, t = both(program)
    assert e == t


def test_handle_torch_function_for_user_functions_and_precedence():
    def program(lib):
        log = []

        class A(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                log.append(('A', func.__name__, tuple(t.__name__ for t in types)))
                return NotImplemented

        class B(A):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                log.append(('B', func.__name__, tuple(t.__name__ for t in types)))
                if func.__name__ == 'scaled':
                    return 'B handled'
                return NotImplemented

        def scaled(x, y):
            if lib.overrides.has_torch_function_variadic(x, y):
                return lib.overrides.handle_torch_function(scaled, (x, y), x, y)
            return x * y

        a = lib.ones(2).as_subclass(A)
        b = lib.ones(2).as_subclass(B)
        r1 = scaled(a, b)
        errors = []
        for call in (lambda: lib.mul(a, b), lambda: a.neg(), lambda: a + 1,
                     lambda: lib.linalg.vector_norm(a)):
            with pytest.raises(TypeError) as err:
                call()
            errors.append(str(err.value).replace('ember.', 'torch.').replace('__main__.', '')
                          .replace('test_overrides.', ''))
        plain = scaled(lib.ones(2), lib.ones(2))
        return log, r1, errors, values(plain).tolist()
    e, t = both(program)
    assert e == t


def test_duck_type_with_torch_function():
    def program(lib):
        class Duck:
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return ('duck', func.__name__)
        log = []
        logging_tensor(lib, log)  # ember dispatches to duck types while the protocol is armed
        return lib.add(Duck(), 1), lib.nn.functional.relu(Duck()), \
            lib.overrides.is_tensor_like(Duck()), lib.overrides.is_tensor_like(3)
    e, t = both(program)
    assert e == t


def test_wrap_torch_function_and_redispatch():
    def program(lib):
        log = []

        class L(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                log.append(func.__name__)
                return lib.overrides.redispatch_function(func, types, args, kwargs)

        @lib.overrides.wrap_torch_function(lambda a, b: (a, b))
        def fused(a, b):
            return a * b + 1
        x = lib.tensor([3.0]).as_subclass(L)
        y = lib.tensor([4.0]).as_subclass(L)
        r = fused(x, y)
        return log, values(r).tolist(), fused.__name__
    e, t = both(program)
    assert e == t


def test_tables_and_names():
    for lib in LIBS:
        ov = logging_tensor(lib, [])  # armed: Tensor.add is a function of its own
        ov = lib.overrides
        table = ov.get_overridable_functions()
        assert lib.add in table[lib] and lib.Tensor.add in table[lib.Tensor]
        assert ov.resolve_name(lib.add) == 'torch.add'
        assert ov.resolve_name(lib.Tensor.add) == 'torch.Tensor.add'
        assert ov.resolve_name(lib.nn.functional.linear) == 'torch.nn.functional.linear'
        assert ov.is_tensor_method_or_property(lib.Tensor.add)
        assert not ov.is_tensor_method_or_property(lib.add)
        assert ov.is_tensor_method_or_property(lib.Tensor.shape.__get__)
        ignored = ov.get_ignored_functions()
        assert lib.zeros in ignored and lib.add not in ignored
        assert lib.Tensor.grad.__get__ in ov.get_default_nowrap_functions()
        dummies = ov.get_testing_overrides()
        assert dummies[lib.add](lib.ones(1), 1) == -1
        assert lib.nn.functional.has_torch_function is ov.has_torch_function
        assert lib.autograd.handle_torch_function is ov.handle_torch_function
    with ember.overrides.enable_reentrant_dispatch():  # torch's needs __torch_dispatch__
        assert ember.ones(1).add(1).item() == 2


def test_plain_programs_pay_nothing():
    """Nothing is wrapped until a subclass or a mode asks for dispatch, and the originals are
    back once they are gone."""
    add, method = ember.add, ember.Tensor.__dict__['add']
    assert not State.armed
    log = []
    L = logging_tensor(ember, log)
    assert State.armed and ember.add is not add
    del L
    gc.collect()
    assert not State.armed and ember.add is add and ember.Tensor.__dict__['add'] is method
    with ember.overrides.BaseTorchFunctionMode():
        assert State.armed
    assert not State.armed and ember.add is add
