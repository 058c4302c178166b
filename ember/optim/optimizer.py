"""Optimizer: the base class of every ember.optim algorithm (torch.optim.Optimizer).

Updates run in NumPy, in place on each parameter's ``_data``, without building a graph: this is
the training hot path. Each update follows torch's single-tensor implementation operation by
operation (same order of floating-point operations), so trajectories match torch's.
"""
import functools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from .._dtype import float32
from .._tensor import Tensor, _wrap
from .._threads import can_split, get_num_threads, run_parallel
from ..autograd.grad_mode import enable_grad
from ..utils.hooks import RemovableHandle

__all__ = ['Optimizer', 'register_optimizer_step_pre_hook', 'register_optimizer_step_post_hook',
           'required']


class _RequiredParameter:
    """Singleton class representing a required parameter for an Optimizer."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """hook(optimizer, args, kwargs) runs before every optimizer's step."""
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    """hook(optimizer, args, kwargs) runs after every optimizer's step."""
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _value(x):
    """A hyper-parameter or scalar state as a Python number (lr may be a 1-element tensor)."""
    return x._data.item() if isinstance(x, Tensor) else x


def _hyper(v):
    """A group value as the update rules read it: tensors (lr, betas...) as Python numbers."""
    if isinstance(v, (Tensor, np.generic)):
        # NumPy scalars too: a float64 one would turn float32 updates into float64 ones
        return v.item() if isinstance(v, np.generic) else v._data.item()
    if type(v) is tuple:
        return tuple(_hyper(x) for x in v)
    return v


def _scalar_state(value):
    """torch keeps `step` (and NAdam's mu_product) as a float32 0-d tensor."""
    return _wrap(np.array(value, dtype=np.float32))


def _zeros(d):
    """A state buffer shaped and typed as the parameter's array (torch.zeros_like)."""
    return _wrap(np.zeros_like(d))


def _bump(p):
    # an optimizer step is an in-place write: saved-tensor checks must see it
    p._vc.value += 1


def _lerp_(a, b, w):
    """a.lerp_(b, w) with torch's formula (the branch keeps it exact at both ends)."""
    if w < 0.5:
        a += w * (b - a)
    else:
        a[...] = b - (b - a) * (1 - w)


# torch's argument checks: the message for each hyper-parameter that must be >= 0
_ARG_NAMES = {'lr': 'learning rate', 'eps': 'epsilon value'}


# parameter elements (in all) below which an optimizer step stays on one thread: a
# transformer block's AdamW step (0.8M elements) went from 3.1 to ~1.7 ms on two
_PARALLEL_MIN = 1 << 18


def _run_updates(one, todo, parallel):
    """one(*item) for every item of todo ((param, state, grad) triples): on this thread, or,
    for a large step of an optimizer whose updates are independent per parameter, on ember's
    threads, the parameters dealt to the least loaded thread biggest first. Each parameter's
    arithmetic is the same wherever it runs, so the results do not depend on the split."""
    k = min(get_num_threads(), len(todo))
    if (not parallel or k < 2 or sum(it[0]._data.size for it in todo) < _PARALLEL_MIN
            or not can_split()):
        for it in todo:
            one(*it)
        return
    run_parallel(lambda items: [one(*it) for it in items], [(b,) for b in _deal(todo, k) if b])


def _deal(todo, k):
    """todo's items in k lists of nearly equal total size: biggest first to the least loaded."""
    loads = [[0, j, []] for j in range(k)]
    for it in sorted(todo, key=lambda it: -it[0]._data.size):
        least = min(loads)
        least[0] += it[0]._data.size
        least[2].append(it)
    return [b[2] for b in loads]


def _adam_moments(state, g, beta1, beta2):
    """Adam's running moments, in place: exp_avg moves toward g, exp_avg_sq toward g * g."""
    m = state['exp_avg']._data
    v = state['exp_avg_sq']._data
    w = 1 - beta1
    if w < 0.5 and g.dtype == m.dtype == v.dtype and g.shape == m.shape == v.shape:
        # the same arithmetic in one scratch array instead of four temporaries
        t = np.subtract(g, m)
        t *= w
        m += t                      # _lerp_(m, g, w)
        v *= beta2
        np.multiply(g, 1 - beta2, out=t)
        t *= g
        v += t
        return m, v
    _lerp_(m, g, w)
    v *= beta2
    v += ((1 - beta2) * g) * g
    return m, v


def _check_args(*, allow_nan=False, **args):
    """Raise torch's ValueError for the first invalid argument, in the order given.

    ``lr`` may be a 1-element tensor; ``betas`` must lie in [0, 1) and ``rho`` in [0, 1].
    torch's SGD tests ``x < 0`` where the others test ``not 0 <= x``: ``allow_nan`` keeps
    that difference (a NaN passes SGD's checks).
    """
    lr = args.get('lr')
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    for name, v in args.items():
        if v is required:
            continue
        if name == 'betas':
            for i in (0, 1):
                if not 0.0 <= v[i] < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {v[i]}")
        elif name == 'rho':
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"Invalid rho value: {v}")
        elif (v < 0.0) if allow_nan else not 0.0 <= v:
            raise ValueError(f"Invalid {_ARG_NAMES.get(name, name + ' value')}: {v}")


def _pick(args, names):
    """The constructor's arguments named in ``names`` (one string), as a defaults dict in that
    order: torch's order, which the groups and their state_dict keep."""
    return {name: args[name] for name in names.split()}


def _capturable_devices(xla):
    """torch's list of devices a capturable optimizer accepts (never the CPU)."""
    return ['cuda', 'xpu', 'hpu', 'privateuseone'] + (['xla'] if xla else [])


class Optimizer:
    """Base class for all optimizers: param_groups, state, hooks, (de)serialisation and step.

    ``step`` is a template (as Chainer's UpdateRule, or torch's functional optimizers): it
    runs the closure, walks each group's parameters that have a gradient, negates the
    gradient for ``maximize``, applies weight decay (coupled L2, or decoupled when the group
    says ``decoupled_weight_decay``), creates the state on first use with ``step`` as a
    float32 0-d tensor, counts the step, and bumps each parameter's version. An algorithm
    supplies its defaults and checks in ``__init__``, ``_init_state`` and ``_update``, the
    rule for one parameter. An optimizer with its own ``step`` (LBFGS, user subclasses)
    uses only the rest of the class, as with torch.
    """

    # does the state hold a `step` counter (all of torch's but SGD's)
    _has_step = True
    # the zero buffers, shaped as the parameter, that a new state holds after `step`
    _zero_state = ()
    # the state keys torch stores as float32 0-d tensors (older saves have numbers)
    _scalar_state_keys = ('step',)
    # capturable=True on the CPU fails in step as torch's: what it names, and whether its
    # device list has 'xla', for the single-tensor and the foreach implementation
    _capturable_what = ('params and state_steps', 'params and state_steps')
    _capturable_xla = (True, False)
    # the update applies weight_decay itself (Adafactor reads the parameter before decaying)
    _own_weight_decay = False
    # the constructor's defaults had no `differentiable` (a load adds it to the defaults only)
    _no_differentiable = False

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{'params': param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)
        if type(self)._update is not Optimizer._update:
            self._check_flags(defaults)

    def _check_flags(self, defaults):
        """torch's checks of fused / differentiable, for the algorithms built on the template."""
        if defaults.get('fused'):
            if defaults.get('differentiable'):
                raise RuntimeError("`fused` does not support `differentiable`")
            if defaults.get('foreach'):
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        if defaults.get('differentiable'):
            raise NotImplementedError("ember.optim: differentiable=True (differentiating "
                                      "through the optimizer step) is not supported")

    def __init_subclass__(cls, **kwargs):
        # every subclass's step runs the step hooks (torch patches step the same way)
        super().__init_subclass__(**kwargs)
        if 'step' in cls.__dict__ and not getattr(cls.__dict__['step'], '_hooked', False):
            cls.step = Optimizer._hook_step(cls.__dict__['step'])

    @staticmethod
    def _hook_step(func):
        @functools.wraps(func)
        def wrapper(self, *args, **kwargs):
            for hook in chain(_global_optimizer_pre_hooks.values(),
                              self._optimizer_step_pre_hooks.values()):
                result = hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(f"{func} must return None or a tuple of (new_args, "
                                           f"new_kwargs), but got {result}.")
            out = func(self, *args, **kwargs)
            self._opt_called = True
            for hook in chain(self._optimizer_step_post_hooks.values(),
                              _global_optimizer_post_hooks.values()):
                hook(self, args, kwargs)
            return out
        wrapper._hooked = True
        return wrapper

    def __getstate__(self):
        return {'defaults': self.defaults, 'state': self.state,
                'param_groups': self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ('_optimizer_step_pre_hooks', '_optimizer_step_post_hooks',
                     '_optimizer_state_dict_pre_hooks', '_optimizer_state_dict_post_hooks',
                     '_optimizer_load_state_dict_pre_hooks',
                     '_optimizer_load_state_dict_post_hooks'):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        # groups saved by older versions lack newer options; steps may be plain numbers
        for group in self.param_groups:
            for k, v in self.defaults.items():
                if v is not required and (k != 'differentiable' or not self._no_differentiable):
                    group.setdefault(k, v)
            for p in group['params']:
                st = self.state.get(p)
                if not st:
                    continue
                for key in self._scalar_state_keys:
                    if key in st and not isinstance(st[key], Tensor):
                        st[key] = _scalar_state(float(st[key]))
        # torch adds this to the defaults only, never to the groups (LBFGS, Adafactor)
        if 'differentiable' not in self.defaults:
            self._no_differentiable = True
            self.defaults['differentiable'] = False

    def __repr__(self):
        s = self.__class__.__name__ + ' ('
        for i, group in enumerate(self.param_groups):
            s += '\n'
            s += f'Parameter Group {i}\n'
            for key in sorted(group.keys()):
                if key != 'params':
                    s += f'    {key}: {group[key]}\n'
        s += ')'
        return s

    # ---- hooks ------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook):
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return _register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return _register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return _register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return _register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ---- state dict -------------------------------------------------------------------------
    def state_dict(self):
        """{'state': {param index: state}, 'param_groups': [group with 'params' indices]}."""
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        mapping = {}
        start = 0

        def pack_group(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != 'params'}
            for i, p in enumerate(group['params'], start):
                mapping.setdefault(id(p), i)
            packed['params'] = [mapping[id(p)] for p in group['params']]
            start += len(packed['params'])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        state_dict = {'state': packed_state, 'param_groups': param_groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param, value, param_id, param_groups,
                                                 key=None):
        fused = capturable = False
        for pg in param_groups:
            if param_id in pg['params']:
                fused = pg.get('fused', False)
                capturable = pg.get('capturable', False)
                break
        if key == 'step':
            if capturable or fused:
                return value.to(dtype=float32)
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype)
        return value

    def load_state_dict(self, state_dict):
        """Load a state saved by ``state_dict`` (ember's or PyTorch's: the same structure)."""
        state_dict = state_dict.copy()  # shallow, as torch
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict['param_groups'])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g['params']) != len(s['params']) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g['params'] for g in saved_groups),
                          chain.from_iterable(g['params'] for g in groups)))

        def cast(param, value, param_id=None, key=None):
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(
                    param, value, param_id, saved_groups, key)
            if isinstance(value, dict):
                return {k: cast(param, v, param_id, key=k) for k, v in value.items()}
            if isinstance(value, (list, tuple)) and not isinstance(value, str):
                return type(value)(cast(param, v, param_id) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict['state'].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v, param_id=k)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group['params'] = group['params']
            if 'param_names' in group and 'param_names' not in new_group:
                new_group['param_names'] = group['param_names']
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({'state': state, 'param_groups': param_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    # ---- gradients and groups ---------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g = p.grad
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    if g._sparse:
                        g.zero_()  # a sparse gradient: no entries left
                        continue
                    g._data[...] = 0
                    g._vc.value += 1

    def step(self, closure=None):
        """Perform one optimisation step; ``closure`` re-evaluates the model, returns the loss."""
        if type(self)._update is Optimizer._update:
            raise NotImplementedError
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        update = self._update
        for group in self.param_groups:
            hp = {k: _hyper(v) for k, v in group.items() if k != 'params'}
            if hp.get('capturable'):
                self._fail_capturable(group, hp)
            lr = hp['lr']
            wd = 0 if self._own_weight_decay else hp.get('weight_decay', 0)
            decoupled = hp.get('decoupled_weight_decay', False)
            maximize = hp.get('maximize', False)
            stateful = self._stateful(hp)
            has_step = self._has_step
            state = None
            todo = []
            for p in group['params']:
                g = p.grad
                if g is None:
                    continue
                if g._sparse:  # a sparse gradient
                    self._sparse_step(hp, p, g)
                    continue
                if stateful:
                    state = self.state[p]
                    if not state:
                        self._new_state(hp, p, state)
                    if has_step:
                        state['step']._data += 1
                todo.append((p, state, g._data))

            def one(p, state, g):
                d = p._data
                if maximize:
                    g = -g
                if wd != 0:
                    if decoupled:
                        d *= 1 - lr * wd
                    else:
                        g = g + wd * d
                update(hp, state, d, g)
                p._vc.value += 1  # an in-place write: saved-tensor checks must see it
            _run_updates(one, todo, self._parallel_update)
        return loss

    # the template's parts: what an algorithm writes -------------------------------------------
    # whether `_update` touches only its own parameter's arrays and state, so that parameters
    # may be updated on different threads (see _run_updates)
    _parallel_update = False

    def _init_state(self, group, p, state):
        """Fill a parameter's new state (after `step`); ``group`` holds the group's values."""
        for key in self._zero_state:
            state[key] = _zeros(p._data)

    def _update(self, hp, state, d, g):
        """Update the parameter's array ``d`` in place from its gradient array ``g``.

        ``g`` is already negated for maximize and carries coupled weight decay; ``hp`` holds
        the group's hyper-parameters as Python numbers; ``state['step']`` is already counted.
        """
        raise NotImplementedError

    def _sparse_step(self, hp, p, g):
        """Update p from a sparse gradient g: torch's error unless the algorithm has a
        sparse form (SGD)."""
        raise RuntimeError(self._sparse_error or
                           f"{type(self).__name__} does not support sparse gradients")

    _sparse_error = None

    def _stateful(self, hp):
        """Does this group keep per-parameter state (SGD without momentum keeps none)."""
        return True

    def _new_state(self, group, p, state):
        if self._has_step:
            state['step'] = _scalar_state(0.0)
        self._init_state(group, p, state)

    def _fail_capturable(self, group, hp):
        # torch builds the state, then its update asserts the device: a CPU one never passes
        for p in group['params']:
            if p.grad is not None and not self.state[p]:
                self._new_state(hp, p, self.state[p])
        i = 1 if hp.get('foreach') else 0
        raise AssertionError(f"If capturable=True, {self._capturable_what[i]} must be on "
                             f"supported devices: {_capturable_devices(self._capturable_xla[i])}.")

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group['params']
        if isinstance(params, Tensor):
            param_group['params'] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group['params'] = list(params)
        tensors, names = [], []
        for p in param_group['params']:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group['params'] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            param_group['param_names'] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params "
                                "is " + _typename(p))
            if not self.defaults.get('differentiable', None) and not (
                    p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see github.com/pytorch/pytorch/"
                          "issues/40967 for more information", stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group['params'])
            if ('param_names' in param_group) != ('param_names' in group):
                txt = 'with names' if 'param_names' in param_group else 'without names'
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)


# the template's step runs the step hooks too (subclasses' own steps are wrapped on creation)
Optimizer.step = Optimizer._hook_step(Optimizer.step)


def _register(hooks, hook, prepend):
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _typename(o):
    if isinstance(o, Tensor):
        return o.type()  # torch.typename: 'torch.FloatTensor', also for Parameters
    return type(o).__module__ + '.' + type(o).__qualname__ \
        if type(o).__module__ != 'builtins' else type(o).__qualname__
