"""nn.Module: the base class of every layer and model (torch.nn.Module).

A module keeps its state in three ordered dicts filled by `__setattr__`:
`_parameters` (Parameter or None), `_buffers` (Tensor or None) and `_modules`
(child Module or None).  Everything else (iteration, state_dict, conversions,
repr) walks those dicts in insertion order, exactly as torch does.
"""
import functools
import inspect
import itertools
import warnings
import weakref
from collections import OrderedDict, namedtuple
from typing import TypeVar
from collections.abc import Mapping

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...utils.hooks import RemovableHandle, BackwardHook
from ..parameter import Parameter, Buffer, is_lazy
from ..._tensor import _check_device as _check_tensor_device, _parse_to
from ..._ops.creation import empty_like

__all__ = ['register_module_forward_pre_hook', 'register_module_forward_hook',
           'register_module_full_backward_pre_hook', 'register_module_backward_hook',
           'register_module_full_backward_hook', 'register_module_buffer_registration_hook',
           'register_module_module_registration_hook',
           'register_module_parameter_registration_hook', 'Module']

_EXTRA_STATE_KEY_SUFFIX = '_extra_state'


class _IncompatibleKeys(namedtuple('IncompatibleKeys', ['missing_keys', 'unexpected_keys'])):
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return '<All keys matched successfully>'
        return super().__repr__()

    __str__ = __repr__


def _typename(obj):
    """torch.typename: 'torch.FloatTensor' for tensors, 'module.QualName' otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, '__module__', '') or ''
    if hasattr(obj, '__qualname__'):
        qualname = obj.__qualname__
    elif hasattr(obj, '__name__'):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ''
        qualname = obj.__class__.__qualname__
    return qualname if module in ('', 'builtins') else f'{module}.{qualname}'


def _addindent(s, num_spaces):
    # Indent every line but the first; blank lines stay empty (torch 2.13 behaviour).
    lines = s.split('\n')
    if len(lines) == 1:
        return s
    pad = ' ' * num_spaces
    return lines[0] + '\n' + '\n'.join(pad + ln if ln.strip() else '' for ln in lines[1:])


class _WrappedHook:
    """A hook that receives the module as first argument, held through a weak reference."""

    def __init__(self, hook, module=None):
        self.hook = hook
        functools.update_wrapper(self, hook)
        self.with_module = module is not None
        if self.with_module:
            self.module = weakref.ref(module)

    def __call__(self, *args, **kwargs):
        if self.with_module:
            module = self.module()
            if module is None:
                raise RuntimeError('You are trying to call the hook of a dead Module!')
            return self.hook(module, *args, **kwargs)
        return self.hook(*args, **kwargs)

    def __getstate__(self):
        state = {'hook': self.hook, 'with_module': self.with_module}
        if self.with_module:
            state['module'] = self.module()
        return state

    def __setstate__(self, state):
        self.hook = state['hook']
        self.with_module = state['with_module']
        if self.with_module:
            if state['module'] is None:
                raise RuntimeError('You are trying to revive the hook of a dead Module!')
            self.module = weakref.ref(state['module'])


# ---- global hooks (shared by all modules; used for debugging and profiling) -------------------

_global_buffer_registration_hooks = OrderedDict()
_global_module_registration_hooks = OrderedDict()
_global_parameter_registration_hooks = OrderedDict()
_global_backward_pre_hooks = OrderedDict()
_global_backward_hooks = OrderedDict()
_global_is_full_backward_hook = None
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_always_called = OrderedDict()
_global_forward_hooks_with_kwargs = OrderedDict()


def _add_hook(table, hook, prepend=False, marks=()):
    """Store `hook` in `table` (hooks by handle id), first if `prepend`. `marks` pairs each side
    table (with_kwargs, always_call) with whether this hook is marked in it; the handle removes
    the hook and its marks."""
    handle = RemovableHandle(table, extra_dict=[side for side, _ in marks])
    table[handle.id] = hook
    for side, marked in marks:
        if marked:
            side[handle.id] = True
    if prepend:
        table.move_to_end(handle.id, last=False)
    return handle


def _registered(hooks, module, name, value):
    """`value` once the global registration `hooks` have seen it (each may replace it)."""
    for hook in hooks.values():
        out = hook(module, name, value)
        if out is not None:
            value = out
    return value


def _owner(module, target):
    """(submodule, name) for the dotted path `target` below `module`, torch's error if the
    submodule has no attribute `name`."""
    module_path, _, name = target.rpartition('.')
    mod = module.get_submodule(module_path)
    if not hasattr(mod, name):
        raise AttributeError(mod._get_name() + ' has no attribute `' + name + '`')
    return mod, name


def _check_new_name(module, kind, table, name):
    """register_buffer's and register_parameter's checks of `name`, with torch's messages."""
    if table not in module.__dict__:
        raise AttributeError(f'cannot assign {kind} before Module.__init__() call')
    if not isinstance(name, str):
        raise TypeError(f'{kind} name should be a string. Got {_typename(name)}')
    if '.' in name:
        raise KeyError(f'{kind} name can\'t contain "."')
    if name == '':
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if hasattr(module, name) and name not in module.__dict__[table]:
        raise KeyError(f"attribute '{name}' already exists")


def register_module_buffer_registration_hook(hook):
    return _add_hook(_global_buffer_registration_hooks, hook)


def register_module_module_registration_hook(hook):
    return _add_hook(_global_module_registration_hooks, hook)


def register_module_parameter_registration_hook(hook):
    return _add_hook(_global_parameter_registration_hooks, hook)


def register_module_forward_pre_hook(hook):
    return _add_hook(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    return _add_hook(_global_forward_hooks, hook,
                     marks=[(_global_forward_hooks_with_kwargs, with_kwargs),
                            (_global_forward_hooks_always_called, always_call)])


def _set_global_full(full):
    global _global_is_full_backward_hook
    if _global_is_full_backward_hook is (not full):
        raise RuntimeError('Cannot use both regular backward hooks and full backward hooks as a '
                           'global Module hook. Please use only one of them.')
    _global_is_full_backward_hook = full


def register_module_backward_hook(hook):
    _set_global_full(False)
    return _add_hook(_global_backward_hooks, hook)


def register_module_full_backward_pre_hook(hook):
    return _add_hook(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook):
    _set_global_full(True)
    return _add_hook(_global_backward_hooks, hook)


def _forward_unimplemented(self, *input):
    raise NotImplementedError(
        f'Module [{type(self).__name__}] is missing the required "forward" function')


# Device handling for Module.to / Module.cuda: ember only has the CPU.

def _device_type(device):
    if device is None:
        return None
    if isinstance(device, int):
        return 'cuda'
    if isinstance(device, str):
        return device.split(':')[0]
    return getattr(device, 'type', str(device))


def _check_device(device, what='Module.to'):
    # the error a CPU-only torch raises when the first tensor moves
    _check_tensor_device(device, to=True)


class Module:
    """Base class for all neural network modules (torch.nn.Module)."""

    dump_patches = False
    _version = 1
    training: bool
    call_super_init = False
    _compiled_call_impl = None
    T_destination = TypeVar('T_destination', bound=dict)

    def __init__(self, *args, **kwargs):
        if self.call_super_init is False and kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        if self.call_super_init is False and args:
            raise TypeError(f'{type(self).__name__}.__init__() takes 1 positional argument but '
                            f'{len(args) + 1} were given')
        # object.__setattr__ skips our own __setattr__ (which needs these dicts to exist).
        setattr_ = object.__setattr__
        setattr_(self, 'training', True)
        setattr_(self, '_parameters', {})
        setattr_(self, '_buffers', {})
        setattr_(self, '_non_persistent_buffers_set', set())
        setattr_(self, '_backward_pre_hooks', OrderedDict())
        setattr_(self, '_backward_hooks', OrderedDict())
        setattr_(self, '_is_full_backward_hook', None)
        setattr_(self, '_forward_hooks', OrderedDict())
        setattr_(self, '_forward_hooks_with_kwargs', OrderedDict())
        setattr_(self, '_forward_hooks_always_called', OrderedDict())
        setattr_(self, '_forward_pre_hooks', OrderedDict())
        setattr_(self, '_forward_pre_hooks_with_kwargs', OrderedDict())
        setattr_(self, '_state_dict_hooks', OrderedDict())
        setattr_(self, '_state_dict_pre_hooks', OrderedDict())
        setattr_(self, '_load_state_dict_pre_hooks', OrderedDict())
        setattr_(self, '_load_state_dict_post_hooks', OrderedDict())
        setattr_(self, '_modules', {})
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    forward = _forward_unimplemented

    # ---- registration ---------------------------------------------------------------------

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer (state that is not a parameter, e.g. BatchNorm's running_mean)."""
        _check_new_name(self, 'buffer', '_buffers', name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            '(torch Tensor or None required)')
        self._buffers[name] = _registered(_global_buffer_registration_hooks, self, name, tensor)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name, param):
        """Add a parameter (a Parameter, or None to reserve the name)."""
        _check_new_name(self, 'parameter', '_parameters', name)
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            '(torch.nn.Parameter or None required)')
        if param.grad_fn:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             f"parameters must be created explicitly. To express '{name}' as a "
                             'function of another Tensor, compute the value in the forward() '
                             'method.')
        self._parameters[name] = _registered(_global_parameter_registration_hooks, self, name,
                                             param)

    def add_module(self, name, module):
        """Add a child module, reachable as the attribute `name`."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f'{_typename(module)} is not a Module subclass')
        if not isinstance(name, str):
            raise TypeError(f'module name should be a string. Got {_typename(name)}')
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if '.' in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == '':
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = _registered(_global_module_registration_hooks, self, name, module)

    def register_module(self, name, module):
        """Alias for add_module."""
        self.add_module(name, module)

    def get_submodule(self, target):
        """Return the submodule at dotted path `target` ('' is self)."""
        if target == '':
            return self
        mod = self
        for item in target.split('.'):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + ' has no attribute `' + item + '`')
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError('`' + item + '` is not an nn.Module')
        return mod

    def set_submodule(self, target, module, strict=False):
        """Replace (or with strict=False, create) the submodule at dotted path `target`."""
        if target == '':
            raise ValueError('Cannot set the submodule without a target name!')
        atoms = target.split('.')
        if not isinstance(module, Module):
            raise ValueError(f'`module` is not an nn.Module, found {type(module)}')
        parent = self if len(atoms) == 1 else self.get_submodule('.'.join(atoms[:-1]))
        leaf = atoms[-1]
        if strict and not hasattr(parent, leaf):
            raise AttributeError(parent._get_name() + ' has no attribute `' + leaf + '`')
        if hasattr(parent, leaf) and not isinstance(getattr(parent, leaf), Module):
            raise AttributeError('`' + leaf + '` is not an nn.Module')
        setattr(parent, leaf, module)

    def get_parameter(self, target):
        """Return the parameter at dotted path `target`."""
        mod, name = _owner(self, target)
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError('`' + name + '` is not an nn.Parameter')
        return param

    def get_buffer(self, target):
        """Return the buffer at dotted path `target`."""
        mod, name = _owner(self, target)
        buf = getattr(mod, name)
        if name not in mod._buffers:
            raise AttributeError('`' + name + '` is not a buffer')
        return buf

    def get_extra_state(self):
        raise RuntimeError('Reached a code path in Module.get_extra_state() that should never be '
                           'called. Please file an issue at https://github.com/pytorch/pytorch/'
                           'issues/new?template=bug-report.yml to report this bug.')

    def set_extra_state(self, state):
        raise RuntimeError('Reached a code path in Module.set_extra_state() that should never be '
                           'called. Please file an issue at https://github.com/pytorch/pytorch/'
                           'issues/new?template=bug-report.yml to report this bug.')

    # ---- conversions ------------------------------------------------------------------------

    def _apply(self, fn, recurse=True):
        """Apply `fn` to every parameter, gradient and buffer, in place.

        A parameter keeps its identity: its data is replaced (`param.data = new`), so
        optimizers built before `.double()` still hold the right objects.
        """
        if recurse:
            for module in self.children():
                module._apply(fn)
        for key, param in self._parameters.items():
            if param is None:
                continue
            with no_grad():
                applied = fn(param)
            if applied is not param:
                param.data = applied
            grad = param.grad
            if grad is not None:
                with no_grad():
                    grad_applied = fn(grad)
                if grad_applied is not grad:
                    grad.data = grad_applied
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def apply(self, fn):
        """Call `fn` on every submodule (children first, post-order) and then on self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def cuda(self, device=None):
        _check_device('cuda' if device is None else device, 'Module.cuda')
        return self

    def ipu(self, device=None):
        _check_device('ipu', 'Module.ipu')

    def xpu(self, device=None):
        _check_device('xpu', 'Module.xpu')

    def mtia(self, device=None):
        _check_device('mtia', 'Module.mtia')

    def cpu(self):
        return self._apply(lambda t: t.cpu())

    def type(self, dst_type):
        return self._apply(lambda t: t.type(dst_type))

    def float(self):
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self):
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self):
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def bfloat16(self):
        return self._apply(lambda t: t.bfloat16() if t.is_floating_point() else t)

    def to_empty(self, *, device, recurse=True):
        _check_device(device, 'Module.to_empty')
        return self._apply(lambda t: empty_like(t), recurse=recurse)

    def to(self, *args, **kwargs):
        """Move and/or cast parameters and buffers: to(dtype), to(tensor), to(device, dtype)."""
        device, dtype, _, copy, _ = _parse_to(args, kwargs)
        if copy is not None:
            raise RuntimeError('.to() does not accept copy argument')
        _check_device(device)
        if dtype is not None:
            if not (dtype.is_floating_point or dtype.is_complex):
                raise TypeError('nn.Module.to only accepts floating point or complex dtypes, but '
                                f'got desired dtype={dtype}')
            if dtype.is_complex:
                warnings.warn(
                    'Complex modules are a new feature under active development whose design '
                    'may change, and some modules might not work as expected when using complex '
                    'tensors as parameters or buffers. Please file an issue at '
                    'https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml if a '
                    'complex module does not work as expected.', stacklevel=2)

        def convert(t):
            if dtype is not None and (t.is_floating_point() or t.is_complex()):
                return t.to(dtype)
            return t

        return self._apply(convert)

    def share_memory(self):
        """Move the parameters and buffers into shared memory (Tensor.share_memory_)."""
        return self._apply(lambda t: t.share_memory_())

    def compile(self, *args, **kwargs):
        """torch.compile has no counterpart in ember: the module keeps running eagerly."""
        return None

    # ---- hooks ------------------------------------------------------------------------------

    def register_full_backward_pre_hook(self, hook, prepend=False):
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    def register_backward_hook(self, hook):
        if self._is_full_backward_hook is True:
            raise RuntimeError('Cannot use both regular backward hooks and full backward hooks on '
                               'a single Module. Please use only one of them.')
        self._is_full_backward_hook = False
        return _add_hook(self._backward_hooks, hook)

    def register_full_backward_hook(self, hook, prepend=False):
        if self._is_full_backward_hook is False:
            raise RuntimeError('Cannot use both regular backward hooks and full backward hooks on '
                               'a single Module. Please use only one of them.')
        self._is_full_backward_hook = True
        return _add_hook(self._backward_hooks, hook, prepend)

    def _get_backward_hooks(self):
        full, legacy = [], []
        if _global_is_full_backward_hook is True:
            full += _global_backward_hooks.values()
        if self._is_full_backward_hook is True:
            full += self._backward_hooks.values()
        if _global_is_full_backward_hook is False:
            legacy += _global_backward_hooks.values()
        if self._is_full_backward_hook is False:
            legacy += self._backward_hooks.values()
        return full, legacy

    def _get_backward_pre_hooks(self):
        return [*_global_backward_pre_hooks.values(), *self._backward_pre_hooks.values()]

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) -> None or new args; with_kwargs: hook(module, args, kwargs)."""
        return _add_hook(self._forward_pre_hooks, hook, prepend,
                         [(self._forward_pre_hooks_with_kwargs, with_kwargs)])

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """hook(module, args, output) -> None or new output."""
        return _add_hook(self._forward_hooks, hook, prepend,
                         [(self._forward_hooks_with_kwargs, with_kwargs),
                          (self._forward_hooks_always_called, always_call)])

    # ---- calling ----------------------------------------------------------------------------

    def _slow_forward(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def _call_impl(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks or _global_forward_pre_hooks
                or _global_forward_hooks or _global_backward_hooks
                or _global_backward_pre_hooks):
            return self.forward(*args, **kwargs)  # the fast path: no hooks anywhere
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        result = None
        called_always = set()
        try:
            full_bw, legacy_bw = [], []
            bw_pre = []
            if self._backward_pre_hooks or _global_backward_pre_hooks:
                bw_pre = self._get_backward_pre_hooks()
            if self._backward_hooks or _global_backward_hooks:
                full_bw, legacy_bw = self._get_backward_hooks()

            for hook_id, hook in (*_global_forward_pre_hooks.items(),
                                  *self._forward_pre_hooks.items()):
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    res = hook(self, args, kwargs)
                    if res is not None:
                        if isinstance(res, tuple) and len(res) == 2:
                            args, kwargs = res
                        else:
                            raise RuntimeError('forward pre-hook must return None or a tuple of '
                                               f'(new_args, new_kwargs), but got {res}.')
                else:
                    res = hook(self, args)
                    if res is not None:
                        args = res if isinstance(res, tuple) else (res,)

            bw_hook = None
            if full_bw or bw_pre:
                bw_hook = BackwardHook(self, full_bw, bw_pre)
                args = bw_hook.setup_input_hook(args)

            result = self.forward(*args, **kwargs)

            for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
                if (hook_id in self._forward_hooks_always_called
                        or hook_id in _global_forward_hooks_always_called):
                    called_always.add(hook_id)
                if (hook_id in self._forward_hooks_with_kwargs
                        or hook_id in _global_forward_hooks_with_kwargs):
                    res = hook(self, args, kwargs, result)
                else:
                    res = hook(self, args, result)
                if res is not None:
                    result = res

            if bw_hook is not None:
                if not isinstance(result, (Tensor, tuple)):
                    warnings.warn('For backward hooks to be called, module output should be a '
                                  f'Tensor or a tuple of Tensors but received {type(result)}',
                                  stacklevel=2)
                result = bw_hook.setup_output_hook(result)

            if legacy_bw:
                self._attach_legacy_backward_hooks(result, legacy_bw)
            return result
        except Exception:
            # always_call hooks still run when forward (or an earlier hook) raised; global
            # hooks are called without kwargs, as torch calls them here.
            for what, hooks, always, with_kwargs in (
                    ('global module', _global_forward_hooks, _global_forward_hooks_always_called,
                     ()),
                    ('module', self._forward_hooks, self._forward_hooks_always_called,
                     self._forward_hooks_with_kwargs)):
                for hook_id, hook in hooks.items():
                    if hook_id not in always or hook_id in called_always:
                        continue
                    try:
                        if hook_id in with_kwargs:
                            res = hook(self, args, kwargs, result)
                        else:
                            res = hook(self, args, result)
                        if res is not None:
                            result = res
                    except Exception as e:
                        warnings.warn(f'{what} forward hook with ``always_call=True`` raised an '
                                      'exception that was silenced as another error was raised '
                                      f'in forward: {e}', stacklevel=2)
            raise

    def _attach_legacy_backward_hooks(self, result, hooks):
        # register_backward_hook: the hook sees the grads of the last op's node only.
        var = result
        while not isinstance(var, Tensor):
            var = next(v for v in var.values() if isinstance(v, Tensor)) \
                if isinstance(var, dict) else var[0]
        grad_fn = var.grad_fn
        if grad_fn is None:
            return
        if not hasattr(grad_fn, 'register_hook'):
            raise NotImplementedError('Module.register_backward_hook needs Node.register_hook, '
                                      'which ember autograd does not provide; use '
                                      'register_full_backward_hook')
        for hook in hooks:
            grad_fn.register_hook(_WrappedHook(hook, self))

    # torch's __call__ is _wrapped_call_impl -> _call_impl; one frame less here.
    __call__ = _wrapped_call_impl = _call_impl

    # ---- pickling ---------------------------------------------------------------------------

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop('_compiled_call_impl', None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        # Modules pickled by older versions may miss the newer hook tables.
        for name in ('_forward_pre_hooks', '_forward_pre_hooks_with_kwargs',
                     '_forward_hooks_with_kwargs', '_forward_hooks_always_called',
                     '_state_dict_hooks', '_state_dict_pre_hooks', '_load_state_dict_pre_hooks',
                     '_load_state_dict_post_hooks', '_backward_pre_hooks'):
            if name not in self.__dict__:
                object.__setattr__(self, name, OrderedDict())
        if '_non_persistent_buffers_set' not in self.__dict__:
            object.__setattr__(self, '_non_persistent_buffers_set', set())
        if '_is_full_backward_hook' not in self.__dict__:
            object.__setattr__(self, '_is_full_backward_hook', None)

    # ---- attribute protocol -----------------------------------------------------------------

    def __getattr__(self, name):
        # Only reached when normal lookup fails: parameters, buffers and children live here.
        d = self.__dict__
        if '_parameters' in d:
            params = d['_parameters']
            if name in params:
                return params[name]
        if '_buffers' in d:
            buffers = d['_buffers']
            if name in buffers:
                return buffers[name]
        if '_modules' in d:
            modules = d['_modules']
            if name in modules:
                return modules[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        def remove_from(*containers):
            for c in containers:
                if name in c:
                    if isinstance(c, dict):
                        del c[name]
                    else:
                        c.discard(name)

        params = self.__dict__.get('_parameters')
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError('cannot assign parameters before Module.__init__() call')
            remove_from(self.__dict__, self._buffers, self._modules,
                        self._non_persistent_buffers_set)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                '(torch.nn.Parameter or None expected)')
            self.register_parameter(name, value)
            return
        modules = self.__dict__.get('_modules')
        if isinstance(value, Module) or (modules is not None and name in modules):
            if isinstance(value, Module):
                if modules is None:
                    raise AttributeError('cannot assign module before Module.__init__() call')
                remove_from(self.__dict__, self._parameters, self._buffers,
                            self._non_persistent_buffers_set)
            elif value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                '(torch.nn.Module or None expected)')
            modules[name] = _registered(_global_module_registration_hooks, self, name, value)
            return
        buffers = self.__dict__.get('_buffers')
        if isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                '(torch.nn.Buffer, torch.Tensor or None expected)')
            if isinstance(value, Buffer):
                persistent = value.persistent
            else:
                persistent = name not in self._non_persistent_buffers_set
            if getattr(self.register_buffer, '__func__', None) is Module.register_buffer:
                self.register_buffer(name, value, persistent)
            elif 'persistent' in inspect.signature(self.register_buffer).parameters:
                self.register_buffer(name, value, persistent)
            else:
                if not persistent:
                    raise RuntimeError('Registering a non-persistent buffer on a Module subclass '
                                       'that implements register_buffer() without the persistent '
                                       'argument is not allowed.')
                self.register_buffer(name, value)
            return
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    # ---- state_dict -------------------------------------------------------------------------

    def _register_state_dict_hook(self, hook):
        if getattr(hook, '_from_public_api', False):
            raise RuntimeError('Cannot register the same function as the state dict post hook '
                               'that was previously registered via '
                               'register_state_dict_post_hook')
        return _add_hook(self._state_dict_hooks, hook)

    def register_state_dict_post_hook(self, hook):
        """hook(module, state_dict, prefix, local_metadata) -> None, after state_dict()."""
        hook._from_public_api = True
        return _add_hook(self._state_dict_hooks, hook)

    def register_state_dict_pre_hook(self, hook):
        """hook(module, prefix, keep_vars), before state_dict() saves this module."""
        return _add_hook(self._state_dict_pre_hooks, hook)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """Save this module's own parameters and persistent buffers (not its children's)."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix='', keep_vars=False):
        """An OrderedDict of every parameter and persistent buffer, keyed by dotted name."""
        if args:
            warnings.warn('Positional args are being deprecated, use kwargs instead. Refer to '
                          'https://pytorch.org/docs/main/generated/torch.nn.Module.html'
                          '#torch.nn.Module.state_dict for details.', FutureWarning, stacklevel=2)
            if destination is None:
                destination = args[0]
            if len(args) > 1 and prefix == '':
                prefix = args[1]
            if len(args) > 2 and keep_vars is False:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = dict(version=self._version)
        if hasattr(destination, '_metadata'):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + '.',
                                  keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            res = hook(self, destination, prefix, local_metadata)
            if not getattr(hook, '_from_public_api', False):
                if res is not None:
                    destination = res
            elif res is not None:
                raise RuntimeError('state_dict post-hook must return None')
        return destination

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        return _add_hook(self._load_state_dict_pre_hooks,
                         _WrappedHook(hook, self if with_module else None))

    def register_load_state_dict_pre_hook(self, hook):
        """hook(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors)."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def register_load_state_dict_post_hook(self, hook):
        """hook(module, incompatible_keys) -> None, after load_state_dict()."""
        return _add_hook(self._load_state_dict_post_hooks, hook)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Copy this module's own entries from `state_dict`, collecting problems in the lists."""
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                 error_msgs)
        persistent = {k: v for k, v in self._buffers.items()
                      if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in itertools.chain(self._parameters.items(),
                                                         persistent.items()) if v is not None}
        assign = local_metadata.get('assign_to_params_buffers', False)
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                error_msgs.append(f'While copying the parameter named "{key}", expected '
                                  'torch.Tensor or Tensor-like object from checkpoint but '
                                  f'received {type(value)}')
                continue
            lazy = is_lazy(param)
            # A 1-element checkpoint entry loads into a 0-d parameter (old BC rule).
            if not lazy and len(param.shape) == 0 and len(value.shape) == 1 \
                    and value.shape[0] == 1:
                value = value[0]
            if not lazy and value.shape != param.shape:
                error_msgs.append(f'size mismatch for {key}: copying a param with shape '
                                  f'{value.shape} from checkpoint, the shape in current model is '
                                  f'{param.shape}.')
                continue
            try:
                with no_grad():
                    if assign:
                        if isinstance(param, Parameter):
                            if not isinstance(value, Parameter):
                                value = Parameter(value, requires_grad=param.requires_grad)
                            else:
                                value.requires_grad_(param.requires_grad)
                        setattr(self, name, value)
                    else:
                        param.copy_(value)
            except Exception as ex:
                error_msgs.append(f'While copying the parameter named "{key}", whose dimensions '
                                  f'in the model are {param.size()} and whose dimensions in the '
                                  f'checkpoint are {value.size()}, an exception occurred : '
                                  f'{ex.args}.')
        extra_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    head = key[len(prefix):].split('.', 1)
                    if len(head) > 1:
                        if head[0] not in self._modules:
                            unexpected_keys.append(key)
                    elif head[0] not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from `state_dict`; returns _IncompatibleKeys."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f'Expected state_dict to be dict-like, got {type(state_dict)}.')
        missing_keys, unexpected_keys, error_msgs = [], [], []
        metadata = getattr(state_dict, '_metadata', None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata

        def load(module, local_state_dict, prefix=''):
            local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
            if assign:
                local_metadata['assign_to_params_buffers'] = assign
            module._load_from_state_dict(local_state_dict, prefix, local_metadata, True,
                                         missing_keys, unexpected_keys, error_msgs)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + '.'
                    child_sd = {k: v for k, v in local_state_dict.items()
                                if k.startswith(child_prefix)}
                    load(child, child_sd, child_prefix)
            incompatible = _IncompatibleKeys(missing_keys, unexpected_keys)
            for hook in module._load_state_dict_post_hooks.values():
                if hook(module, incompatible) is not None:
                    raise AssertionError('Hooks registered with '
                                         '``register_load_state_dict_post_hook`` are not expected '
                                         'to return new values, if incompatible_keys need to be '
                                         'modified, it should be done inplace.')

        load(self, state_dict)
        if strict:
            if unexpected_keys:
                error_msgs.insert(0, 'Unexpected key(s) in state_dict: {}. '.format(
                    ', '.join(f'"{k}"' for k in unexpected_keys)))
            if missing_keys:
                error_msgs.insert(0, 'Missing key(s) in state_dict: {}. '.format(
                    ', '.join(f'"{k}"' for k in missing_keys)))
        if error_msgs:
            raise RuntimeError('Error(s) in loading state_dict for {}:\n\t{}'.format(
                self.__class__.__name__, '\n\t'.join(error_msgs)))
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    # ---- iteration --------------------------------------------------------------------------

    def _named_members(self, get_members_fn, prefix='', recurse=True, remove_duplicate=True):
        memo = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for module_prefix, module in modules:
            for k, v in get_members_fn(module):
                if v is None:
                    continue
                if remove_duplicate:
                    i = id(v)  # by identity, as torch's set of tensors (no Python __hash__)
                    if i in memo:
                        continue
                    memo.add(i)
                yield module_prefix + ('.' if module_prefix else '') + k, v

    def parameters(self, recurse=True):
        if type(self).named_parameters is not Module.named_parameters:
            # a subclass that redefines named_parameters defines parameters() too, as in torch
            for _, param in self.named_parameters(recurse=recurse):
                yield param
            return
        # the same walk without building the names (zero_grad and optimisers call it per step)
        memo = set()
        for module in (self.modules() if recurse else (self,)):
            for v in module._parameters.values():
                if v is not None and id(v) not in memo:
                    memo.add(id(v))
                    yield v

    def named_parameters(self, prefix='', recurse=True, remove_duplicate=True):
        yield from self._named_members(lambda m: m._parameters.items(), prefix=prefix,
                                       recurse=recurse, remove_duplicate=remove_duplicate)

    def buffers(self, recurse=True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def named_buffers(self, prefix='', recurse=True, remove_duplicate=True):
        yield from self._named_members(lambda m: m._buffers.items(), prefix=prefix,
                                       recurse=recurse, remove_duplicate=remove_duplicate)

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_children(self):
        memo = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def modules(self, remove_duplicate=True):
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def named_modules(self, memo=None, prefix='', remove_duplicate=True):
        """Pre-order walk of the module tree; shared modules appear once by default."""
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ('.' if prefix else '') + name,
                                            remove_duplicate)

    # ---- modes and gradients ----------------------------------------------------------------

    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError('training mode is expected to be boolean')
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters (to None by default)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad.grad_fn is not None:
                    p.grad.detach_()
                else:
                    p.grad.requires_grad_(False)
                p.grad.zero_()

    # ---- printing ---------------------------------------------------------------------------

    def _get_name(self):
        return self.__class__.__name__

    def extra_repr(self):
        """The text between the parentheses of this module's repr (override in layers)."""
        return ''

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split('\n') if extra else []
        child_lines = ['(' + key + '): ' + _addindent(repr(module), 2)
                       for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + '('
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += '\n  ' + '\n  '.join(lines) + '\n'
        return main + ')'

    def __dir__(self):
        keys = (dir(self.__class__) + list(self.__dict__) + list(self._parameters)
                + list(self._modules) + list(self._buffers))
        return sorted(k for k in keys if not k[0].isdigit())

    def _replicate_for_data_parallel(self):
        raise NotImplementedError('nn.DataParallel is not supported by ember (CPU only)')

