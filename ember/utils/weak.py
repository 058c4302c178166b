"""torch.utils.weak: weak references and weak-keyed dictionaries that compare keys by identity
(tensors define `==` elementwise, so weakref.WeakKeyDictionary cannot hold them)."""
import copy as _copy
import weakref
from collections.abc import MutableMapping

from .._tensor import Tensor

__all__ = ['TensorWeakRef', 'WeakIdRef', 'WeakIdKeyDictionary', 'WeakTensorKeyDictionary']

WeakRef = weakref.ref


class WeakIdRef(weakref.ref):
    """A weak reference hashed and compared by the identity of its referent (while alive)."""
    __slots__ = ['_id']
    _key = staticmethod(id)

    def __init__(self, key, callback=None):
        self._id = self._key(key)
        super().__init__(key, callback)

    def __call__(self):
        return super().__call__()

    def __hash__(self):
        return self._id

    def __eq__(self, other):
        a, b = self(), other()
        if a is not None and b is not None:
            return self._key(a) == self._key(b)
        return self is other


class _WeakHashRef(WeakIdRef):
    """A weak reference hashed by its referent's hash (equal referents: equal hashes)."""
    __slots__ = []
    _key = staticmethod(hash)


class WeakIdKeyDictionary(MutableMapping):
    """A dictionary whose keys are held weakly and looked up by identity; an entry goes when
    its key is collected."""

    def __init__(self, dict=None, ref_type=WeakIdRef):  # noqa: A002 - torch's name
        self.data = {}
        self.ref_type = ref_type
        self_ref = weakref.ref(self)

        def remove(k, selfref=self_ref):
            owner = selfref()
            if owner is not None:
                owner.data.pop(k, None)
        self._remove = remove
        if dict is not None:
            self.update(dict)

    def __getitem__(self, key):
        return self.data[self.ref_type(key)]

    def __setitem__(self, key, value):
        self.data[self.ref_type(key, self._remove)] = value

    def __delitem__(self, key):
        del self.data[self.ref_type(key)]

    def __contains__(self, key):
        try:
            ref = self.ref_type(key)
        except TypeError:
            return False
        return ref in self.data

    def __len__(self):
        return sum(1 for k in list(self.data) if k() is not None)

    def __iter__(self):
        for ref in list(self.data):
            obj = ref()
            if obj is not None:
                yield obj

    def __repr__(self):
        return f'<{type(self).__name__} at {id(self):#x}>'

    def keyrefs(self):
        return list(self.data)

    def copy(self):
        new = WeakIdKeyDictionary(ref_type=self.ref_type)
        for key, value in self.items():
            new[key] = value
        return new

    __copy__ = copy

    def __deepcopy__(self, memo):
        new = WeakIdKeyDictionary(ref_type=self.ref_type)
        for key, value in self.items():
            new[key] = _copy.deepcopy(value, memo)
        return new

    def __or__(self, other):
        if isinstance(other, MutableMapping):
            c = self.copy()
            c.update(other)
            return c
        return NotImplemented

    def __ior__(self, other):
        self.update(other)
        return self

    def __eq__(self, other):
        if not isinstance(other, MutableMapping):
            return NotImplemented
        return {id(k): v for k, v in self.items()} == {id(k): v for k, v in other.items()}


WeakTensorKeyDictionary = WeakIdKeyDictionary


class TensorWeakRef:
    """A weak reference to a tensor."""

    def __init__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise AssertionError(f'expected torch.Tensor, got {type(tensor)}.')
        self.ref = weakref.ref(tensor)

    def __call__(self):
        out = self.ref()
        if out is None:
            return out
        if not isinstance(out, Tensor):
            raise AssertionError(f'expected torch.Tensor, got {type(out)}.')
        return out
