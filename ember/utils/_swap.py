"""torch.utils.swap_tensors and set_module."""
import copyreg
import weakref

__all__ = ['swap_tensors', 'set_module']


def set_module(obj, mod):
    """Set `obj.__module__` (for nicer printing)."""
    if not isinstance(mod, str):
        raise TypeError('The mod argument should be a string')
    obj.__module__ = mod


_POISONED = ('Trying to execute AccumulateGrad node that was poisoned by swap_tensors this can '
             'happen when you try to run backward on a tensor that was swapped. For a module m '
             'with `torch.__future__.set_swap_module_params_on_conversion(True)` you should not '
             'change the device or dtype of the module (e.g. `m.cpu()` or `m.half()`) between '
             'running forward and backward. To resolve this, please only change the device/dtype '
             'before running forward (or after both forward and backward).')


def _poison(t):
    # a leaf's AccumulateGrad node still holds the swapped object: running it would accumulate
    # into the other tensor's content, so (as torch) it refuses to run
    ref = t._grad_acc if t._requires_grad and t.grad_fn is None else None
    node = ref() if ref is not None else None
    if node is not None:
        def refuse(grad_outputs):
            raise RuntimeError(_POISONED)
        node.register_prehook(refuse)


def swap_tensors(t1, t2):
    """Swap the contents of two tensors (class, data, autograd state and attributes), each
    keeping its identity."""
    if weakref.getweakrefs(t1):
        raise RuntimeError('Cannot swap t1 because it has weakref associated with it')
    if weakref.getweakrefs(t2):
        raise RuntimeError('Cannot swap t2 because it has weakref associated with it')
    slots = set(copyreg._slotnames(type(t1)))
    if slots != set(copyreg._slotnames(type(t2))):
        raise RuntimeError('Cannot swap t1 and t2 if they have different slots')
    _poison(t1)
    _poison(t2)
    t1.__class__, t2.__class__ = t2.__class__, t1.__class__
    d1, d2 = t1.__dict__, t2.__dict__
    t1.__dict__, t2.__dict__ = d2, d1
    # the tensor itself (ember keeps it in the slots): data, dtype, grad, graph links
    for slot in slots:
        has1, has2 = hasattr(t1, slot), hasattr(t2, slot)
        v1 = getattr(t1, slot) if has1 else None
        v2 = getattr(t2, slot) if has2 else None
        if has2:
            setattr(t1, slot, v2)
        elif has1:
            delattr(t1, slot)
        if has1:
            setattr(t2, slot, v1)
        elif has2:
            delattr(t2, slot)
