"""torch.masked.MaskedTensor: a tensor whose elements are valid where its mask is True.

A MaskedTensor is a Tensor subclass holding `_masked_data` and `_masked_mask` (plain tensors).
Its `_data` slot holds a stand-in that answers shape and dtype but refuses every read of
values, so an op ember has not taught about masks raises NotImplementedError instead of
computing on the masked-out values. The ops torch's MaskedTensor supports as methods (the
elementwise unary and binary ops, the reductions, the view ops that apply to data and mask
alike) are methods of this class; they give torch's results and masks. Autograd through
MaskedTensor is not implemented (requires_grad=True raises NotImplementedError).
"""
import warnings

import numpy as np

from ... import _dtype
from ..._tensor import Tensor, _wrap, _VersionCounter, _FIELDS
from ..._torch_function import _disabled_torch_function_impl
from ..._values import strided
from .. import _ops as _mops

__all__ = ['MaskedTensor', 'is_masked_tensor']

_SUPPORTED = ('float16', 'float32', 'float64', 'bool', 'int8', 'int16', 'int32', 'int64')


def is_masked_tensor(obj, /):
    """True if obj is a MaskedTensor."""
    return isinstance(obj, MaskedTensor)


class _MaskedValues:
    """A MaskedTensor's `_data`: the metadata of an ndarray, no values."""
    __slots__ = ('shape', 'dtype', 'ndim', 'size', 'itemsize')

    def __init__(self, arr):
        self.shape, self.dtype, self.ndim = arr.shape, arr.dtype, arr.ndim
        self.size, self.itemsize = arr.size, arr.itemsize

    def _refuse(self, *args, **kwargs):
        raise NotImplementedError(
            "ember does not implement this operation for MaskedTensor (torch.masked supports "
            "the elementwise ops, reductions and views as MaskedTensor methods; use "
            "get_data()/get_mask() or to_tensor(value) for the rest)")

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        self._refuse()


for _name in ('__array__', '__array_ufunc__', '__array_function__', '__getitem__',
              '__setitem__', '__iter__', '__len__', '__bool__', '__float__', '__int__',
              '__index__', '__add__', '__radd__', '__sub__', '__mul__', '__rmul__',
              '__truediv__', '__neg__', '__pow__', '__lt__', '__gt__', '__le__', '__ge__'):
    setattr(_MaskedValues, _name, _MaskedValues._refuse)


def _tensors_match(a, b):
    return tuple(a.shape) == tuple(b.shape) and bool((a == b).all())


def _masks_match(a, b):
    if is_masked_tensor(a) and is_masked_tensor(b):
        return _tensors_match(a.get_mask(), b.get_mask())
    return True


def _get_data(a):
    return a._masked_data if is_masked_tensor(a) else a


def _fmt(x):
    v = x.item()
    return '{0:8.4f}'.format(v) if isinstance(v, float) else str(v)


def _masked_tensor_str(data, mask):
    if data.ndim == 1:
        elems = [_fmt(d) for d in data]
        m = mask.tolist()
        width = max([8 if not k else len(e) for e, k in zip(elems, m)] or [0])
        return '[' + ', '.join('--'.rjust(width) if not k else e
                               for e, k in zip(elems, m)) + ']'
    subs = [_masked_tensor_str(d, k) for d, k in zip(data, mask)]
    subs = ['\n'.join('  ' + line for line in s.split('\n')) for s in subs]
    return '[\n' + ',\n'.join(subs) + '\n]'


class MaskedTensor(Tensor):
    """Data and a same-shaped boolean mask of its valid elements."""
    _is_masked_tensor = True
    # its ops are its own methods and ember.masked's functions: Tensor's handler, which would
    # give their results as MaskedTensor, takes no part
    __torch_function__ = _disabled_torch_function_impl

    def __new__(cls, data, mask, requires_grad=False):
        if is_masked_tensor(data) or not isinstance(data, Tensor):
            raise TypeError("data must be a Tensor")
        if is_masked_tensor(mask) or not isinstance(mask, Tensor):
            raise TypeError("mask must be a Tensor")
        warnings.warn("The PyTorch API of MaskedTensors is in prototype stage and will change "
                      "in the near future. Please open a Github issue for features requests and "
                      "see our documentation on the torch.masked module for further information "
                      "about the project.", UserWarning, stacklevel=2)
        if data.requires_grad:
            warnings.warn("It is not recommended to create a MaskedTensor with a tensor that "
                          "requires_grad. To avoid this, you can use data.detach().clone()",
                          UserWarning, stacklevel=2)
        if requires_grad:
            raise NotImplementedError("ember does not implement autograd through MaskedTensor "
                                      "(torch.masked.MaskedTensor with requires_grad=True)")
        self = object.__new__(cls)
        fresh = _wrap(np.empty(0))
        for slot in _FIELDS:
            setattr(self, slot, getattr(fresh, slot))
        self._vc = _VersionCounter()
        return self

    def __init__(self, data, mask, requires_grad=False):
        if getattr(data, '_sparse', False) or getattr(mask, '_sparse', False):
            raise NotImplementedError("ember does not implement sparse MaskedTensors")
        self._set_data_mask(data.detach().clone(), mask.clone())

    def _set_data_mask(self, data, mask):
        self._masked_data = data
        self._masked_mask = mask
        self._validate_members()
        self._data = _MaskedValues(data._data)

    def _validate_members(self):
        data, mask = self._masked_data, self._masked_mask
        if mask.dtype != _dtype.bool:
            raise TypeError("mask must have dtype bool.")
        if str(data.dtype)[6:] not in _SUPPORTED:
            raise TypeError(f"{data.dtype} is not supported in MaskedTensor.")
        if data.dim() != mask.dim():
            raise ValueError("data.dim() must equal mask.dim()")
        if data.size() != mask.size():
            raise ValueError("data.size() must equal mask.size()")

    # ---- access ------------------------------------------------------------------------------

    def get_data(self):
        return self._masked_data.detach()

    def get_mask(self):
        return self._masked_mask

    def to_tensor(self, value):
        return self.get_data().masked_fill(~self.get_mask(), value)

    def is_sparse_coo(self):
        return False

    def is_sparse_csr(self):
        return False

    @property
    def is_sparse(self):
        return False

    @property
    def layout(self):
        return strided

    def __repr__(self):
        data, mask = self.get_data(), self.get_mask()
        if data.dim() == 0:
            s = _fmt(data)
            if not mask.item():
                s = '--'
            return f"MaskedTensor({s}, {mask.item()})"
        s = _masked_tensor_str(data, mask)
        return 'MaskedTensor(\n' + '\n'.join('  ' + line for line in s.split('\n')) + '\n)'

    __str__ = __repr__

    def __lt__(self, other):
        return MaskedTensor(self.get_data() < _get_data(other), self.get_mask())

    def __reduce_ex__(self, protocol):
        raise NotImplementedError("ember does not implement pickling a MaskedTensor")


def _wrap_result(data, mask):
    return MaskedTensor(data, mask)


def _quiet_wrap(data, mask):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return MaskedTensor(data, mask)


# ---- elementwise ops -------------------------------------------------------------------------

_UNARY = ('abs', 'absolute', 'acos', 'arccos', 'acosh', 'arccosh', 'angle', 'asin', 'arcsin',
          'asinh', 'arcsinh', 'atan', 'arctan', 'atanh', 'arctanh', 'bitwise_not', 'ceil',
          'clamp', 'clip', 'conj_physical', 'cos', 'cosh', 'deg2rad', 'digamma', 'erf', 'erfc',
          'erfinv', 'exp', 'exp2', 'expm1', 'fix', 'floor', 'frac', 'lgamma', 'log', 'log10',
          'log1p', 'log2', 'logit', 'i0', 'isnan', 'nan_to_num', 'neg', 'negative', 'positive',
          'pow', 'rad2deg', 'reciprocal', 'round', 'rsqrt', 'sigmoid', 'sign', 'sgn', 'signbit',
          'sin', 'sinc', 'sinh', 'sqrt', 'square', 'tan', 'tanh', 'trunc')
_BINARY = ('add', 'atan2', 'arctan2', 'bitwise_and', 'bitwise_or', 'bitwise_xor',
           'bitwise_left_shift', 'bitwise_right_shift', 'div', 'divide', 'floor_divide', 'fmod',
           'logaddexp', 'logaddexp2', 'mul', 'multiply', 'nextafter', 'remainder', 'sub',
           'subtract', 'true_divide', 'eq', 'ne', 'le', 'ge', 'greater', 'greater_equal', 'gt',
           'less_equal', 'lt', 'less', 'maximum', 'minimum', 'fmax', 'fmin', 'not_equal')
_BINARY_DUNDER = {'__add__': 'add', '__radd__': 'add', '__sub__': 'sub', '__mul__': 'mul',
                  '__rmul__': 'mul', '__truediv__': 'div', '__floordiv__': 'floor_divide',
                  '__mod__': 'remainder', '__eq__': 'eq', '__ne__': 'ne', '__le__': 'le',
                  '__ge__': 'ge', '__gt__': 'gt', '__and__': 'bitwise_and',
                  '__or__': 'bitwise_or', '__xor__': 'bitwise_xor'}


def _unary(name):
    fn = getattr(Tensor, name)

    def method(self, *args, **kwargs):
        return _wrap_result(fn(self.get_data(), *args, **kwargs), self.get_mask())

    def inplace(self, *args, **kwargs):
        self._set_data_mask(fn(self.get_data(), *args, **kwargs), self.get_mask())
        return self
    return method, inplace


def _binary(name, reflected=False):
    fn = getattr(Tensor, name)

    def method(self, other, *args, **kwargs):
        if kwargs:
            raise ValueError("len(kwargs) must equal 0")
        if any(isinstance(a, Tensor) for a in args):
            raise TypeError("MaskedTensor binary ops do not support Tensor arguments aside from "
                            "the lhs and rhs")
        if not _masks_match(self, other):
            raise ValueError("Input masks must match. If you need support for this, please "
                             "open an issue on Github.")
        a, b = self.get_data(), _get_data(other)
        data = fn(b, a, *args) if reflected else fn(a, b, *args)
        return _wrap_result(data, self.get_mask().expand_as(data))

    def inplace(self, other, *args):
        if not _masks_match(self, other):
            raise ValueError("Input masks must match. If you need support for this, please "
                             "open an issue on Github.")
        self._set_data_mask(fn(self.get_data(), _get_data(other), *args), self.get_mask())
        return self
    return method, inplace


for _name in _UNARY:
    _m, _i = _unary(_name)
    setattr(MaskedTensor, _name, _m)
    if _name not in ('angle', 'positive', 'signbit', 'isnan'):
        setattr(MaskedTensor, _name + '_', _i)
setattr(MaskedTensor, '__neg__', MaskedTensor.neg)
setattr(MaskedTensor, '__abs__', MaskedTensor.abs)
for _name in _BINARY:
    _m, _i = _binary(_name)
    setattr(MaskedTensor, _name, _m)
    if _name not in ('logaddexp', 'logaddexp2', 'fmin', 'minimum', 'maximum', 'fmax'):
        setattr(MaskedTensor, _name + '_', _i)
for _dunder, _name in _BINARY_DUNDER.items():
    setattr(MaskedTensor, _dunder, _binary(_name, reflected=False)[0])
MaskedTensor.__rsub__ = _binary('sub', reflected=True)[0]
MaskedTensor.__rtruediv__ = _binary('div', reflected=True)[0]
MaskedTensor.__pow__ = _binary('pow')[0]
MaskedTensor.__hash__ = Tensor.__hash__


# ---- reductions: torch.masked's, the result masked where no element was valid ---------------

def _multidim_any(mask, dim, keepdim):
    dims = [dim] if isinstance(dim, int) else list(dim)
    for d in sorted(dims, reverse=True):
        mask = mask.any(d, keepdim=keepdim)
    return mask


def _masked_all(data, dim=None, keepdim=False, mask=None):
    filled = data.masked_fill(~mask, True)
    return filled.all() if dim is None else filled.all(dim, keepdim=keepdim)


def _reduction(name):
    masked_fn = _masked_all if name == 'all' else getattr(_mops, name)

    def method(self, *args, **kwargs):
        data, mask = self.get_data(), self.get_mask()
        if not args and not kwargs:
            r = masked_fn(data, mask=mask)
            return _quiet_wrap(r, mask.any())
        names = ('dim', 'keepdim', 'dtype')
        a = dict(zip(names, args))
        a.update(kwargs)
        dim, keepdim = a.get('dim'), a.get('keepdim', False)
        if name == 'all':
            r = masked_fn(data, dim=dim, keepdim=keepdim, mask=mask)
        else:
            r = masked_fn(data, dim=dim, keepdim=keepdim, dtype=a.get('dtype'), mask=mask)
        return _quiet_wrap(r, _multidim_any(mask, dim, keepdim))
    method.__name__ = name
    return method


for _name in ('sum', 'mean', 'amin', 'amax', 'argmin', 'argmax', 'prod', 'all', 'norm', 'var',
              'std'):
    setattr(MaskedTensor, _name, _reduction(_name))


# ---- views and shape ops: applied to data and mask alike ---------------------------------------

def _passthrough(name):
    fn = getattr(Tensor, name)

    def method(self, *args, **kwargs):
        return _quiet_wrap(fn(self.get_data(), *args, **kwargs),
                           fn(self.get_mask(), *args, **kwargs))
    method.__name__ = name
    return method


for _name in ('select', 'transpose', 't', '__getitem__', 'expand', 'view', 'unsqueeze',
              'unfold', 'reshape', 'flatten', 'squeeze', 'permute', 'narrow', 'contiguous',
              'clone', 'detach', 'expand_as', 'view_as', 'movedim'):
    setattr(MaskedTensor, _name, _passthrough(_name))


def _split_like(name):
    fn = getattr(Tensor, name)

    def method(self, *args, **kwargs):
        return tuple(_quiet_wrap(d, m) for d, m in zip(fn(self.get_data(), *args, **kwargs),
                                                       fn(self.get_mask(), *args, **kwargs)))
    return method


MaskedTensor.split = _split_like('split')
MaskedTensor.unbind = _split_like('unbind')
MaskedTensor.chunk = _split_like('chunk')


def _to(self, *args, **kwargs):
    return _quiet_wrap(self.get_data().to(*args, **kwargs), self.get_mask())


MaskedTensor.to = _to
MaskedTensor.float = lambda self: _to(self, _dtype.float32)
MaskedTensor.double = lambda self: _to(self, _dtype.float64)
MaskedTensor.dim = lambda self: self._masked_data.dim()
MaskedTensor.numel = lambda self: self._masked_data.numel()
MaskedTensor.size = lambda self, dim=None: self._masked_data.size(dim) if dim is not None \
    else self._masked_data.size()
MaskedTensor.to_dense = lambda self: self
MaskedTensor.numpy = MaskedTensor.tolist = MaskedTensor.item = _MaskedValues._refuse


def _no_sparse(self, *args, **kwargs):
    raise NotImplementedError("ember does not implement sparse MaskedTensors")


MaskedTensor.to_sparse = MaskedTensor.to_sparse_csr = MaskedTensor.to_sparse_coo = _no_sparse
