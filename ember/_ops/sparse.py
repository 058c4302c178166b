"""Sparse tensors: COO (torch.sparse_coo) and CSR (torch.sparse_csr) on top of it.

A sparse tensor is a ``SparseTensor`` (a Tensor subclass) holding an int64 index array
``_ix`` (sparse_dim x nnz) and a values array ``_v`` (nnz x dense dims), plus a coalesced
flag. Its ``_data`` slot holds a ``_SparseData``: it answers the metadata every layer reads
(shape, dtype, ndim, size) so the autograd engine and the shape checks of the dense ops work
unchanged, and refuses anything that would read values (NumPy conversion, ufuncs, indexing)
with NotImplementedError naming the op. A dense op handed a sparse tensor therefore raises
instead of computing on anything, and the dense path pays nothing. CSR is the same object
with ``_layout = sparse_csr``: a coalesced 2-d COO whose row pointers are computed on demand.
"""
import sys
import warnings

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _VersionCounter, _parse_to, _check_device, _wrap, _wrap_dim, \
    tensor_op, _register_methods, _LEGACY_NAMES
from .._tensor_str import _values_str, _add_suffixes
from .._values import sparse_coo, sparse_csr, strided
from .._torch_function import _disabled_torch_function_impl
from ..autograd.grad_mode import _State
from ..autograd.graph import _attach, _record, derivative
from .creation import tensor as _tensor, zeros
from . import linalg as _linalg

__all__ = ['sparse_coo_tensor', 'sparse_csr_tensor', 'spmm', 'smm', 'hspmm', 'hsmm', 'dsmm',
           'sspaddmm', 'resize_as_sparse_']


# ---- the stand-in for _data ------------------------------------------------------------------

def _op_name():
    """The ember function the user called that reached a sparse tensor's values: the outermost
    public ember frame on the stack."""
    f = sys._getframe(2)
    name = None
    while f is not None:
        mod = f.f_globals.get('__name__', '')
        if not (mod == 'ember' or mod.startswith('ember.')):
            break
        code = f.f_code.co_name
        if code in ('op', 'method', 'fn', 'inner'):
            # an op built by a factory: its name, or its ufunc's, is in the closure
            loc = f.f_locals
            code = loc.get('name') or getattr(loc.get('ufunc'), '__name__', None)
            code = code if isinstance(code, str) else '_'
        elif code.startswith('__') and code.endswith('__'):
            code = code.strip('_')  # an operator: __getitem__, __eq__
        if mod != __name__ and not code.startswith('_') and code not in ('wrapper', '<lambda>'):
            name = code
        f = f.f_back
    return name or 'this operation'


def _refused(layout):
    return NotImplementedError(
        f"ember does not implement {_op_name()} for sparse tensors (layout={layout!r}): "
        f"call .to_dense() first if a dense result is what you want")


class _SparseData:
    """A sparse tensor's ``_data``: shape, dtype, ndim, size and itemsize as an ndarray's; any
    attempt to read values raises NotImplementedError."""
    __slots__ = ('shape', 'dtype', 'ndim', 'size', 'itemsize', '_layout')

    def __init__(self, shape, dtype, layout):
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        n = 1
        for s in self.shape:
            n *= s
        self.size = n
        self.itemsize = self.dtype.itemsize
        self._layout = layout

    def __getattr__(self, name):
        if name.startswith('__') and name not in ('__array_interface__', '__array_struct__'):
            raise AttributeError(name)
        raise object.__getattribute__(self, '_error')()

    def _error(self):
        # (a subclass gives its own: the quantized tensors' _QData)
        return _refused(self._layout)

    def _refuse(self, *args, **kwargs):
        raise self._error()

    __array__ = __array_ufunc__ = __array_function__ = _refuse
    __getitem__ = __setitem__ = __iter__ = __len__ = __bool__ = _refuse
    __float__ = __int__ = __index__ = __complex__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _refuse
    __rtruediv__ = __matmul__ = __rmatmul__ = __neg__ = __pow__ = __abs__ = _refuse
    __iadd__ = __isub__ = __imul__ = __itruediv__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = _refuse


def _is_sp(t):
    return isinstance(t, Tensor) and type(t._data) is _SparseData


# ---- invariant checks (torch.sparse.check_sparse_tensor_invariants) ---------------------------

class _Checks:
    enabled = False
    explicit = False  # torch warns once when neither the flag nor the argument was given
    warned = False


def _want_checks(check_invariants):
    if check_invariants is not None:
        return check_invariants
    if not _Checks.explicit and not _Checks.warned:
        _Checks.warned = True
        warnings.warn(
            "Sparse invariant checks are implicitly disabled. Memory errors (e.g. SEGFAULT) "
            "will occur when operating on a sparse tensor which violates the invariants, but "
            "checks incur performance overhead. To silence this warning, explicitly opt in or "
            "out. See `torch.sparse.check_sparse_tensor_invariants.__doc__` for guidance. ",
            UserWarning, stacklevel=3)
    return _Checks.enabled


# ---- construction ----------------------------------------------------------------------------

class SparseTensor(Tensor):
    """A sparse COO (or CSR) tensor. ``type(s)`` prints as torch.Tensor, as torch's does."""
    __slots__ = ('_ix', '_v', '_coal', '_cache')
    _prints_as_tensor = True
    _sparse = True
    __torch_function__ = _disabled_torch_function_impl  # no part in __torch_function__

    # metadata ---------------------------------------------------------------------------------
    @property
    def is_sparse(self):
        return self._data._layout is sparse_coo

    @property
    def is_sparse_csr(self):
        return self._data._layout is sparse_csr

    @property
    def layout(self):
        return self._data._layout

    def is_contiguous(self, memory_format=None):
        return False

    def stride(self, dim=None):
        raise RuntimeError(f"Sparse{'Csr' if self.is_sparse_csr else ''}CPU tensors do not "
                           "have strides")

    def numpy(self, *, force=False):
        raise TypeError(f"can't convert {'Sparse' if self.is_sparse else 'SparseCsr'} layout "
                        "tensor to numpy. Use Tensor.to_dense() first.")

    def sparse_dim(self):
        return self._ix.shape[0]

    def dense_dim(self):
        return self._v.ndim - 1

    def _nnz(self):
        return self._v.shape[0]

    def is_coalesced(self):
        _need_coo(self, 'is_coalesced')
        return self._coal

    def _indices(self):
        _need_coo(self, '_indices')
        return _wrap(self._ix)

    def _values(self):
        return _wrap(self._v)

    def indices(self):
        _need_coo(self, 'indices')
        if not self._coal:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return _wrap(self._ix)

    def values(self):
        if self.is_sparse and not self._coal:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        out = _wrap(self._v)
        if _State.enabled and self._requires_grad:
            _attach(out, ValuesBackward0, (self,), ix=self._ix, shape=self._data.shape,
                    layout=self._data._layout)
        return out

    def crow_indices(self):
        _need_csr(self, 'crow_indices')
        return _wrap(_crow(self._ix[0], self._data.shape[0]))

    def col_indices(self):
        _need_csr(self, 'col_indices')
        return _wrap(self._ix[1])

    def __repr__(self, *, tensor_contents=None):
        return _sparse_repr(self)

    def __reduce_ex__(self, protocol):
        raise NotImplementedError("ember does not implement saving or pickling sparse tensors "
                                  "yet")

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        t = _like(self, self._ix.copy(), self._v.copy())
        t._requires_grad = self._requires_grad
        memo[id(self)] = t
        return t

    def type(self, dtype=None, non_blocking=False, **kwargs):
        if dtype is None:
            return 'torch.sparse.' + (self.dtype._legacy or self.dtype.name)
        if isinstance(dtype, str):
            dtype = _LEGACY_NAMES[dtype.replace('torch.', '').replace('sparse.', '')]
        return self.to(dtype)

    # conversion -------------------------------------------------------------------------------
    def to(self, *args, **kwargs):
        dev, dtype, _, copy, _ = _parse_to(args, kwargs)
        _check_device(dev, to=True)
        if dtype is None or dtype._np == self._data.dtype:
            return self.clone() if copy else self
        out = _like(self, self._ix, self._v.astype(dtype._np))
        return _rec(_ToCopyBackward0, out, (self,), dtype=self.dtype)

    def detach(self):
        return _like(self, self._ix, self._v)

    @property
    def data(self):
        return _like(self, self._ix, self._v)

    def clone(self, *, memory_format=None):
        out = _like(self, self._ix.copy(), self._v.copy())
        return _rec(_CloneBackward0, out, (self,))

    def to_dense(self, dtype=None, *, masked_grad=None):
        d = _dense_array(self)
        if dtype is not None:
            d = d.astype(dtype._np)
        out = _record(ToDenseBackward0, d, (self,), ix=_coalesced(self)[0],
                      shape=self._data.shape, layout=self._data._layout)
        return out

    def coalesce(self):
        _need_coo(self, 'coalesce')
        if self._coal:
            return self
        ix, v = _coalesced(self)
        out = _coo(ix, v, self._data.shape, True)
        return _rec(CoalesceBackward0, out, (self,))

    def to_sparse(self, *args, layout=None, blocksize=None, dense_dim=None):
        if layout is sparse_csr:
            return self.to_sparse_csr()
        if self.is_sparse:
            return self
        out = _coo(self._ix, self._v, self._data.shape, True)
        return _rec(_ToSparseBackward0, out, (self,))

    def to_sparse_coo(self):
        return self.to_sparse()

    def to_sparse_csr(self, dense_dim=None):
        if self.is_sparse_csr:
            return self
        if self._ix.shape[0] != 2 or self._v.ndim != 1:
            raise NotImplementedError("ember does not implement to_sparse_csr for batched or "
                                      "hybrid sparse tensors")
        ix, v = _coalesced(self)
        out = _coo(ix, v, self._data.shape, True, sparse_csr)
        return _rec(_ToSparseCsrBackward0, out, (self,))

    def _coalesced_(self, coalesced):
        self._coal = bool(coalesced)
        return self

    # arithmetic that keeps sparsity -----------------------------------------------------------
    def __neg__(self):
        return neg(self)

    def neg(self):
        return neg(self)

    negative = neg

    def add(self, other, *, alpha=1):
        return add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return add(self, other, alpha=-alpha)

    def __add__(self, other):
        return add(self, other)

    def __radd__(self, other):
        return add(other, self)

    def __sub__(self, other):
        return add(self, other, alpha=-1)

    def __rsub__(self, other):
        return add(other, self, alpha=-1)

    def mul(self, other):
        return mul(self, other)

    def __mul__(self, other):
        return mul(self, other)

    def __rmul__(self, other):
        return mul(self, other)

    def div(self, other, *, rounding_mode=None):
        return _div(self, other, rounding_mode)

    def __truediv__(self, other):
        return _div(self, other, None)

    def add_(self, other, *, alpha=1):
        return _inplace(self, add(self, other, alpha=alpha))

    def sub_(self, other, *, alpha=1):
        return _inplace(self, add(self, other, alpha=-alpha))

    def mul_(self, other):
        return _inplace(self, mul(self, other))

    def div_(self, other, *, rounding_mode=None):
        return _inplace(self, _div(self, other, rounding_mode))

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def zero_(self):
        self._ix = np.zeros((self._ix.shape[0], 0), np.int64)
        self._v = np.zeros((0,) + self._v.shape[1:], self._v.dtype)
        self._coal = True
        self._cache = None
        self._vc.value += 1
        return self

    # shape ------------------------------------------------------------------------------------
    def t(self):
        if self._data.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, "
                               f"but self is {self.sparse_dim()} sparse and {self.dense_dim()} "
                               "dense dimensions")
        return transpose(self, 0, self._data.ndim - 1) if self._data.ndim == 2 else self

    def transpose(self, dim0, dim1):
        return transpose(self, dim0, dim1)

    @property
    def mT(self):
        return transpose(self, -2, -1)

    @property
    def T(self):
        return self.t()

    # reductions and products ------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        if keepdim:
            raise NotImplementedError("ember does not implement sum(keepdim=True) for sparse "
                                      "tensors")
        return sparse_sum(self, dim, dtype)

    def mm(self, mat2):
        return _linalg.mm(self, mat2)

    def matmul(self, other):
        return _linalg.matmul(self, other)

    __matmul__ = matmul

    def __rmatmul__(self, other):
        return _linalg.matmul(other, self)

    def softmax(self, dim, dtype=None):
        return softmax(self, dim, dtype)

    def log_softmax(self, dim, dtype=None):
        return log_softmax(self, dim, dtype)

    def sparse_mask(self, mask):
        return sparse_mask(self, mask)

    # zero-preserving elementwise ops, computed on the coalesced values (torch's rule)
    def _unary(self, fn, *args, **kwargs):
        # the dense op on the coalesced values; its gradient flows back through them
        c = self.coalesce() if self.is_sparse else self
        r = fn(c.values(), *args, **kwargs)
        out = _coo(c._ix, r._data, self._data.shape, True, self._data._layout)
        return _rec(SparseCooTensorWithDimsAndTensorsBackward0, out, (r,), ix=c._ix,
                    shape=self._data.shape)

    def _add_to_dense(self, d):
        """Scatter-add this tensor's entries into the ndarray d (dense += sparse)."""
        if self._v.shape[0]:
            np.add.at(d, tuple(self._ix), self._v.astype(d.dtype, copy=False))


def _make_unary(name):
    def method(self, *args, **kwargs):
        return self._unary(getattr(Tensor, name), *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    return method


# torch computes these on the values of a coalesced COO tensor (each maps 0 to 0)
for _name in ('abs', 'relu', 'sin', 'sinh', 'tan', 'tanh', 'asin', 'asinh', 'atan', 'atanh',
              'sqrt', 'square', 'expm1', 'log1p', 'sign', 'sgn', 'trunc', 'floor', 'ceil',
              'round', 'frac', 'erf', 'erfinv', 'deg2rad', 'rad2deg', 'nan_to_num', 'signbit',
              'isnan', 'isinf', 'isposinf', 'isneginf', 'angle', 'conj_physical', 'pow'):
    setattr(SparseTensor, _name, _make_unary(_name))
del _name


def _need_coo(t, what):
    if not t.is_sparse:
        raise RuntimeError(f"{what} expected sparse coordinate tensor layout but got "
                           f"{_layout_name(t)}")


def _need_csr(t, what):
    if not t.is_sparse_csr:
        raise RuntimeError(f"{what} expected sparse row compressed tensor layout but got "
                           f"{_layout_name(t)}")


def _layout_name(t):
    return {strided: 'Strided', sparse_coo: 'Sparse', sparse_csr: 'SparseCsr'}.get(
        t.layout, str(t.layout))


_FRESH = (('_requires_grad', False), ('_grad', None), ('grad_fn', None), ('_output_nr', 0),
          ('_base', None), ('_grad_acc', None), ('_hooks', None))


def _coo(ix, v, shape, coalesced, layout=sparse_coo):
    """A sparse tensor around index array ix (int64, sparse_dim x nnz) and values v."""
    t = object.__new__(SparseTensor)
    for name, value in _FRESH:  # a new tensor's autograd metadata, as _tensor._wrap sets it
        setattr(t, name, value)
    t._data = _SparseData(shape, v.dtype, layout)
    t._vc = _VersionCounter()
    t._ix = ix
    t._v = v
    t._coal = bool(coalesced) or v.shape[0] <= 1
    t._cache = None
    return t


def _like(s, ix, v):
    return _coo(ix, v, s._data.shape, s._coal, s._data._layout)


def _rec(op, out, inputs, **saved):
    """Make the sparse tensor `out` the output of a node of class `op` when grad is needed."""
    if _State.enabled and any(t is not None and t._requires_grad for t in inputs):
        _attach(out, op, inputs, **saved)
    return out


def _inplace(self, result):
    """Write result's entries into self (sparse in-place ops rebind the arrays)."""
    if self._requires_grad and self.grad_fn is None and _State.enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    self._ix, self._v, self._coal, self._cache = result._ix, result._v, result._coal, None
    self._data = _SparseData(result._data.shape, result._v.dtype, self._data._layout)
    self._vc.value += 1
    if result.grad_fn is not None:
        self.grad_fn = result.grad_fn
        self._requires_grad = True
    return self


def _sparse_shape(s):
    return s._data.shape[:s._ix.shape[0]]


def _keys(ix, sshape):
    """One int64 key per entry: the row-major position of its sparse coordinates."""
    if ix.shape[0] == 0:
        return np.zeros(ix.shape[1], np.int64)
    return np.ravel_multi_index(tuple(ix), sshape) if ix.shape[1] else np.zeros(0, np.int64)


def _coalesce_arrays(ix, v, sshape):
    """Sort the entries by index and sum duplicates (in index order, as torch does)."""
    nnz = v.shape[0]
    if nnz == 0:
        return ix, v
    keys = _keys(ix, sshape)
    order = np.argsort(keys, kind='stable')
    k = keys[order]
    vs = v[order]
    first = np.empty(nnz, bool)
    first[0] = True
    np.not_equal(k[1:], k[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    if len(starts) < nnz:
        vs = np.add.reduceat(vs, starts, axis=0).astype(v.dtype, copy=False)
        k = k[starts]
    if ix.shape[0] == 0:
        return np.zeros((0, len(k)), np.int64), vs
    return np.stack(np.unravel_index(k, sshape)).astype(np.int64).reshape(len(sshape), -1), vs


def _coalesced(s):
    """(indices, values) of s coalesced; cached on s (sparse tensors change only through
    in-place ops, which drop the cache)."""
    if s._coal:
        return s._ix, s._v
    c = s._cache
    if c is None:
        c = s._cache = _coalesce_arrays(s._ix, s._v, _sparse_shape(s))
    return c


def _dense_array(s):
    out = np.zeros(s._data.shape, s._v.dtype)
    if s._v.shape[0]:
        if s._coal:
            out[tuple(s._ix)] = s._v
        else:
            np.add.at(out, tuple(s._ix), s._v)
    return out


def _crow(rows, n):
    crow = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=crow[1:])
    return crow


def _gather(g, ix, shape):
    """The gradient g (dense or sparse, of the given shape) at the coordinates ix, as an
    ndarray (nnz x dense dims)."""
    sd = ix.shape[0]
    if not _is_sp(g):
        return np.asarray(g._data[tuple(ix)]) if ix.shape[1] else \
            np.zeros((0,) + tuple(shape[sd:]), g._data.dtype)
    gi, gv = _coalesced(g)
    if gi.shape[0] != sd:
        return _dense_array(g)[tuple(ix)]
    sshape = tuple(shape[:sd])
    out = np.zeros((ix.shape[1],) + gv.shape[1:], gv.dtype)
    if gv.shape[0] and ix.shape[1]:
        gk = _keys(gi, sshape)
        k = _keys(ix, sshape)
        pos = np.minimum(np.searchsorted(gk, k), len(gk) - 1)
        found = gk[pos] == k
        out[found] = gv[pos[found]]
    return out


# ---- gradients -------------------------------------------------------------------------------

@derivative
def SparseCooTensorWithDimsAndTensorsBackward0(grad, ix, shape):
    return _wrap(_gather(grad, ix, shape))


@derivative
def ToDenseBackward0(grad, ix, shape, layout):
    # torch's grad.sparse_mask(input): the input's coalesced pattern, not flagged so
    return _coo(ix, _gather(grad, ix, shape), shape, layout is not sparse_coo, layout)


@derivative
def ValuesBackward0(grad, ix, shape, layout):
    return _coo(ix, grad._data, shape, True, layout)


@derivative('ToSparseBackward0')
def _ToSparseBackward0(grad):
    return grad.to_dense() if _is_sp(grad) else grad


ToSparseBackward1 = derivative('ToSparseBackward1')(_ToSparseBackward0._formula)
_ToSparseCsrBackward0 = derivative('ToSparseCsrBackward0')(_ToSparseBackward0._formula)


@derivative
def CoalesceBackward0(grad):
    return grad


@derivative('CloneBackward0')
def _CloneBackward0(grad):
    return grad


@derivative('ToCopyBackward0')
def _ToCopyBackward0(grad, dtype):
    return grad.to(dtype)


@derivative('NegBackward0')
def _NegBackward0(grad):
    return -grad


@derivative('MulBackward0')
def _MulBackward0(grad, other):
    return grad * other


@derivative('DivBackward0')
def _DivBackward0(grad, other):
    return grad / other


@derivative('AddBackward0')
def _AddBackward0(grad, alpha):
    return grad, (grad * alpha if alpha != 1 else grad)


@derivative('SumBackward0')
def _SparseFullSumBackward0(grad, ix, shape, vshape):
    # an expanded gradient, as torch's (so adding it to another concatenates, as there)
    return _coo(ix, np.broadcast_to(grad._data, vshape), shape, True)


@derivative
def SparseSumBackward0(grad, ix, shape, dims):
    sd = ix.shape[0]
    kept_sparse = [d for d in range(sd) if d not in dims]
    kept_dense = [d for d in range(sd, len(shape)) if d not in dims]
    g = _dense_array(grad) if _is_sp(grad) else grad._data
    # g's dims: the kept sparse dims then the kept dense dims
    v = g[tuple(ix[kept_sparse])] if kept_sparse else np.broadcast_to(g, (ix.shape[1],) + g.shape)
    # put the summed dense dims back (size 1) and broadcast over them
    full = (ix.shape[1],) + tuple(shape[d] if d in kept_dense else 1
                                  for d in range(sd, len(shape)))
    v = np.broadcast_to(v.reshape(full), (ix.shape[1],) + tuple(shape[sd:])).copy()
    return _coo(ix, v, shape, False)


@derivative
def SparseAddmmBackward0(grad, mat1, mat2, beta, alpha):
    g = grad._data
    ix, _ = _coalesced(mat1)
    d2 = mat2._data
    # grad.mm(mat2.t()).sparse_mask(mat1): only the entries of mat1's pattern are computed
    sampled = np.einsum('ij,ij->i', g[ix[0]], d2[ix[1]]) if ix.shape[1] else \
        np.zeros(0, g.dtype)
    if alpha != 1:
        sampled = sampled * alpha
    g1 = _coo(ix, sampled.astype(g.dtype, copy=False), mat1._data.shape,
              mat1._data._layout is not sparse_coo, mat1._data._layout)
    g2 = _wrap(_matmul(transpose(mat1, 0, 1), grad))
    if alpha != 1:
        g2 = g2 * alpha
    return (grad * beta if beta != 1 else grad), g1, g2


# ---- ops ---------------------------------------------------------------------------------------

def _as_index_array(indices):
    if isinstance(indices, Tensor):
        if _is_sp(indices):
            raise TypeError("indices must be a dense tensor")
        a = indices._data
    else:
        a = np.asarray(indices)
    if a.dtype.kind not in 'iub' and a.size:
        a = a.astype(np.int64)
    return np.ascontiguousarray(a, dtype=np.int64)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      pin_memory=False, requires_grad=False, check_invariants=None,
                      is_coalesced=None):
    """torch.sparse_coo_tensor: a COO tensor from its indices (sparse_dim x nnz) and values
    (nnz x dense dims); the size is inferred from the indices when not given."""
    _check_device(device)
    if isinstance(values, Tensor):
        vt = values if dtype is None or dtype._np == values._data.dtype else values.to(dtype)
    else:
        vt = _tensor(values, dtype=dtype)
    ix = _as_index_array(indices)
    if ix.ndim == 1 and ix.size == 0:
        ix = ix.reshape(1, 0)
    if ix.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: "
                           f"[{', '.join(str(s) for s in ix.shape)}]")
    v = vt._data
    if v.ndim == 0:
        raise RuntimeError("values must be at least 1-dimensional, but got 0-dimensional")
    sd, nnz = ix.shape
    if v.shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {v.shape[0]}")
    if size is None:
        sshape = tuple(int(m) + 1 for m in ix.max(axis=1)) if nnz else (0,) * sd
        shape = sshape + v.shape[1:]
    else:
        shape = tuple(int(s) for s in size)
        if len(shape) != sd + v.ndim - 1:
            raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: "
                               f"len(size) = {len(shape)}, sparse_dim = {sd}, dense_dim = "
                               f"{v.ndim - 1}")
        if tuple(shape[sd:]) != v.shape[1:]:
            raise RuntimeError(f"values has incorrect size, expected "
                               f"[{', '.join(str(s) for s in (nnz,) + shape[sd:])}], got "
                               f"[{', '.join(str(s) for s in v.shape)}]")
        if _want_checks(check_invariants) and nnz:
            for d in range(sd):
                lo, hi = int(ix[d].min()), int(ix[d].max())
                if lo < 0:
                    raise RuntimeError(f"found negative index {lo} for dim {d}")
                if hi >= shape[d]:
                    raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size "
                                       f"is {shape[d]} but found index {hi}")
    coal = bool(is_coalesced) if is_coalesced is not None else nnz <= 1
    out = _coo(ix, v, shape, coal)
    if requires_grad:
        out.requires_grad_(True)
        return out
    return _rec(SparseCooTensorWithDimsAndTensorsBackward0, out, (vt,), ix=ix, shape=shape)


def sparse_csr_tensor(crow_indices, col_indices, values, size=None, *, dtype=None,
                      device=None, pin_memory=False, requires_grad=False,
                      check_invariants=None):
    """torch.sparse_csr_tensor (2-d, no batch or dense dims)."""
    _check_device(device)
    crow = _as_index_array(crow_indices)
    col = _as_index_array(col_indices)
    vt = values if isinstance(values, Tensor) else _tensor(values, dtype=dtype)
    if dtype is not None and dtype._np != vt._data.dtype:
        vt = vt.to(dtype)
    if crow.ndim != 1 or col.ndim != 1 or vt._data.ndim != 1:
        raise NotImplementedError("ember does not implement batched or hybrid CSR tensors")
    nrows = len(crow) - 1
    if size is None:
        shape = (nrows, int(col.max()) + 1 if col.size else 0)
    else:
        shape = tuple(int(s) for s in size)
    if _want_checks(check_invariants):
        if crow[0] != 0:
            raise RuntimeError("`crow_indices[..., 0] == 0` is not satisfied.")
        if crow[-1] != len(col):
            raise RuntimeError("`crow_indices[..., -1] == nnz` is not satisfied.")
    rows = np.repeat(np.arange(nrows, dtype=np.int64), np.diff(crow))
    ix = np.stack([rows, col]) if col.size else np.zeros((2, 0), np.int64)
    out = _coo(ix, vt._data, shape, True, sparse_csr)
    if requires_grad:
        out.requires_grad_(True)
        return out
    return _rec(SparseCooTensorWithDimsAndTensorsBackward0, out, (vt,), ix=ix, shape=shape)


@tensor_op(name='to_sparse')
def _to_sparse(self, *args, layout=None, blocksize=None, dense_dim=None):
    """Tensor.to_sparse(sparse_dim) / to_sparse(*, layout=None, blocksize=None, dense_dim=None)."""
    if args:
        if len(args) > 1 or layout is not None or dense_dim is not None:
            raise TypeError("to_sparse() takes a sparse_dim, or the keywords layout, blocksize "
                            "and dense_dim")
        sd = int(args[0])
        node = _ToSparseBackward0
    else:
        if layout is sparse_csr:
            return _to_sparse_csr(self, dense_dim)
        if layout not in (None, sparse_coo):
            raise NotImplementedError(f"ember does not implement to_sparse(layout={layout!r})")
        sd = self._data.ndim - (dense_dim or 0)
        node = ToSparseBackward1
    d = self._data
    if not 0 <= sd <= d.ndim:
        raise RuntimeError(f"sparse_dim argument must be in [0, {d.ndim}] range, but {sd} is "
                           "given")
    mask = d != 0
    if sd < d.ndim:
        mask = mask.any(axis=tuple(range(sd, d.ndim)))
    ix = np.array(np.nonzero(mask), dtype=np.int64).reshape(sd, -1)
    v = d[tuple(ix)] if sd else d[None].copy()
    out = _coo(ix, np.ascontiguousarray(v), d.shape, True)
    return _rec(node, out, (self,))


@tensor_op(name='to_sparse_coo')
def _to_sparse_coo(self):
    return _to_sparse(self)


@tensor_op(name='to_sparse_csr')
def _to_sparse_csr(self, dense_dim=None):
    if self._data.ndim != 2:
        raise NotImplementedError("ember does not implement to_sparse_csr for tensors that are "
                                  "not 2-d")
    return _to_sparse(self).to_sparse_csr()


def _dense_only(name, msg):
    def method(self):
        raise RuntimeError(msg)
    method.__name__ = method.__qualname__ = name
    return method


def _backend_only(name):
    def method(self):
        raise NotImplementedError(f"Could not run 'aten::{name}' with arguments from the 'CPU' "
                                  "backend: it needs a sparse tensor")
    method.__name__ = method.__qualname__ = name
    return method


_register_methods(__name__, {
    'coalesce': _dense_only('coalesce', "coalesce expected sparse coordinate tensor layout "
                            "but got Strided"),
    'is_coalesced': _dense_only('is_coalesced', "is_coalesced expected sparse coordinate "
                                "tensor layout but got Strided"),
    'indices': _dense_only('indices', "indices expected sparse coordinate tensor layout but "
                           "got Strided"),
    'values': _dense_only('values', "values expected sparse tensor layout but got Strided"),
    'crow_indices': _dense_only('crow_indices', "crow_indices expected sparse row compressed "
                                "tensor layout but got Strided"),
    'col_indices': _dense_only('col_indices', "col_indices expected sparse row compressed "
                               "tensor layout but got Strided"),
    '_indices': _backend_only('_indices'), '_values': _backend_only('_values'),
    '_nnz': _backend_only('_nnz'),
    'sparse_dim': lambda self: 0,
    'dense_dim': lambda self: self._data.ndim,
})


def _check_same_shape(a, b, what):
    if a._data.shape != b._data.shape:
        raise RuntimeError(f"{what} operands have incompatible sizes")


def neg(input):
    out = _like(input, input._ix, -input._v)
    return _rec(_NegBackward0, out, (input,))


def _is_number(x):
    return isinstance(x, (int, float, bool, np.number)) or (
        isinstance(x, Tensor) and not _is_sp(x) and x._data.ndim == 0)


def _scalar(x):
    return x.item() if isinstance(x, Tensor) else x


def mul(input, other):
    """sparse * number, number * sparse, sparse * sparse (same shape), sparse * dense."""
    if not _is_sp(input):
        input, other = other, input
    if _is_number(other):
        c = _scalar(other)
        v = input._v * c
        if input._v.dtype.kind in 'biu' and isinstance(c, float):
            v = v.astype(_dtype.get_default_dtype()._np)
        elif input._v.dtype.kind in 'fc':
            v = v.astype(input._v.dtype, copy=False)
        out = _like(input, input._ix, v)
        return _rec(_MulBackward0, out, (input,), other=c)
    if (input._requires_grad or other._requires_grad) and _State.enabled:
        raise NotImplementedError("ember does not implement the gradient of mul of a sparse "
                                  "tensor and a tensor")
    if input._data.shape != other._data.shape:
        raise RuntimeError("mul operands have incompatible sizes")
    ix, v = _coalesced(input)
    if _is_sp(other):
        # the product is nonzero only where both are specified
        jx, w = _coalesced(other)
        sshape = _sparse_shape(input)
        k1, k2 = _keys(ix, sshape), _keys(jx, sshape)
        common, i1, i2 = np.intersect1d(k1, k2, assume_unique=True, return_indices=True)
        return _coo(ix[:, i1], v[i1] * w[i2], input._data.shape, True)
    return _coo(ix, v * other._data[tuple(ix)], input._data.shape, True)


def _div(input, other, rounding_mode):
    if not _is_number(other):
        raise NotImplementedError("ember does not implement div of a sparse tensor by a tensor "
                                  "that is not a scalar")
    c = _scalar(other)
    v = input._v / c if rounding_mode is None else np.floor_divide(input._v, c) \
        if rounding_mode == 'floor' else np.trunc(input._v / c)
    if input._v.dtype.kind == 'f':
        v = v.astype(input._v.dtype, copy=False)
    out = _like(input, input._ix, v)
    return _rec(_DivBackward0, out, (input,), other=c)


def add(input, other, *, alpha=1):
    """sparse + sparse (sparse), dense + sparse (dense); sparse + dense raises as torch."""
    a_sp, b_sp = _is_sp(input), _is_sp(other)
    if a_sp and not b_sp:
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                           "instead.")
    if input._data.shape != other._data.shape:
        raise RuntimeError(f"add: expected 'self' and 'other' to have same size, but self has "
                           f"size {list(input._data.shape)} while other has size "
                           f"{list(other._data.shape)} (FYI: op2-sparse addition does not "
                           "currently support broadcasting)")
    if not a_sp:
        r = input._data.astype(np.result_type(input._data, other._v), copy=True)
        if other._v.shape[0]:
            np.add.at(r, tuple(other._ix), other._v * alpha if alpha != 1 else other._v)
        return _record(_AddBackward0, r, (input, other), alpha=alpha)
    if input._ix.shape[0] != other._ix.shape[0]:
        raise RuntimeError("add: expected 'self' and 'other' to have same sparse dimensions")
    w = other._v * alpha if alpha != 1 else other._v
    dt = np.result_type(input._v, other._v)
    if input is other:
        out = _like(input, input._ix, (input._v + w).astype(dt, copy=False))
    elif input._v.flags.c_contiguous and w.flags.c_contiguous:
        # torch walks both entry lists as if sorted, adding entries whose indices meet; the
        # result is flagged coalesced when both operands were
        sshape = _sparse_shape(input)
        i1, i2 = _merge_walk(_keys(input._ix, sshape), _keys(other._ix, sshape))
        has1, has2 = i1 >= 0, i2 >= 0
        ix = np.empty((input._ix.shape[0], len(i1)), np.int64)
        ix[:, has1] = input._ix[:, i1[has1]]
        ix[:, ~has1] = other._ix[:, i2[~has1]]
        v = np.zeros((len(i1),) + input._v.shape[1:], dt)
        v[has1] = input._v[i1[has1]]
        v[has2] += w[i2[has2]].astype(dt, copy=False)
        out = _coo(ix, v, input._data.shape, input._coal and other._coal)
    else:
        # values that are not contiguous (an expanded gradient): torch concatenates
        out = _coo(np.concatenate([input._ix, other._ix], axis=1),
                   np.concatenate([input._v.astype(dt, copy=False), w.astype(dt, copy=False)]),
                   input._data.shape, False)
    return _rec(_AddBackward0, out, (input, other), alpha=alpha)


def _merge_walk(a, b):
    """torch's merge of two entry lists by key: for each result entry, the position in a and
    in b it takes (-1 for none). Equal keys at both heads meet in one entry."""
    if len(a) and len(b) and a[-1] < b[0]:
        return (np.concatenate([np.arange(len(a)), np.full(len(b), -1)]),
                np.concatenate([np.full(len(a), -1), np.arange(len(b))]))
    a, b = a.tolist(), b.tolist()
    na, nb = len(a), len(b)
    i = j = 0
    out1, out2 = [], []
    while i < na or j < nb:
        if i >= na:
            cmp = -1
        elif j >= nb:
            cmp = 1
        else:
            x, y = a[i], b[j]
            cmp = 0 if x == y else (1 if x < y else -1)
        if cmp >= 0:
            out1.append(i)
            i += 1
        else:
            out1.append(-1)
        if cmp <= 0:
            out2.append(j)
            j += 1
        else:
            out2.append(-1)
    return np.array(out1, np.int64), np.array(out2, np.int64)


def transpose(input, dim0, dim1):
    nd = input._data.ndim
    d0, d1 = _wrap_dim(dim0, nd), _wrap_dim(dim1, nd)
    sd = input._ix.shape[0]
    if (d0 < sd) != (d1 < sd):
        raise RuntimeError("transpose(): cannot transpose a sparse dimension with a dense one")
    shape = list(input._data.shape)
    shape[d0], shape[d1] = shape[d1], shape[d0]
    if d0 < sd:
        ix = input._ix.copy()
        ix[[d0, d1]] = ix[[d1, d0]]
        v = input._v
        coal = input._coal and d0 == d1
    else:
        ix = input._ix
        v = np.swapaxes(input._v, d0 - sd + 1, d1 - sd + 1)
        coal = input._coal
    out = _coo(ix, v, shape, coal, sparse_coo)
    return _rec(_TransposeBackward0, out, (input,), dim0=d0, dim1=d1)


@derivative('TransposeBackward0')
def _TransposeBackward0(grad, dim0, dim1):
    return grad.transpose(dim0, dim1)


def sparse_sum(input, dim=None, dtype=None):
    """torch.sparse.sum: a dense scalar over all dims, else a sparse tensor over the dims that
    remain (dense once every sparse dim is summed)."""
    if not _is_sp(input):
        if dim is None:
            raise RuntimeError("coalesce expected sparse coordinate tensor layout but got "
                               "Strided")
        raise NotImplementedError("Could not run 'aten::_indices' with arguments from the "
                                  "'CPU' backend: torch.sparse.sum takes a sparse tensor")
    ix, v = _coalesced(input)
    if dtype is not None:
        v = v.astype(dtype._np)
    elif v.dtype.kind in 'biu':
        v = v.astype(np.int64)
    shape = input._data.shape
    if dim is None:
        r = v.sum(axis=0).sum() if v.size else np.zeros((), v.dtype)
        r = np.asarray(r, dtype=v.dtype)
        return _record(_SparseFullSumBackward0, r, (input,), ix=ix, shape=shape,
                       vshape=v.shape)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    nd = len(shape)
    dims = sorted(set(_wrap_dim(d, nd) for d in dims))
    sd = ix.shape[0]
    sdims = [d for d in dims if d < sd]
    ddims = [d - sd + 1 for d in dims if d >= sd]
    w = v.sum(axis=tuple(ddims)) if ddims else v
    kept = [d for d in range(sd) if d not in sdims]
    out_shape = tuple(s for d, s in enumerate(shape) if d not in dims)
    if not kept:
        r = w.sum(axis=0).astype(w.dtype, copy=False)
        return _record(SparseSumBackward0, np.ascontiguousarray(r), (input,), ix=ix,
                       shape=shape, dims=tuple(dims))
    kix, kv = _coalesce_arrays(ix[kept], w, tuple(shape[d] for d in kept))
    out = _coo(kix, kv, out_shape, True)
    return _rec(SparseSumBackward0, out, (input,), ix=ix, shape=shape, dims=tuple(dims))


def _matmul(a, b, sparse_result=False):
    """The ndarray product of two 2-d operands (or a 2-d and a 1-d), one of them sparse: the
    sparse operand's rows (coalesced, so each row sums in index order, as torch's kernel).
    Two sparse operands give a sparse tensor where the caller takes one (`sparse_result`)."""
    if _is_sp(a) and _is_sp(b):
        if not sparse_result:
            raise NotImplementedError("ember does not implement this product of two sparse "
                                      "tensors")
        return _sparse_sparse(a, b)
    if _is_sp(a):
        if a._ix.shape[0] != 2 or a._v.ndim != 1:
            raise NotImplementedError("ember does not implement matrix products of hybrid "
                                      "sparse tensors")
        ix, v = _coalesced(a)
        d = b._data
        dt = np.result_type(v, d)
        vec = d.ndim == 1
        d2 = d[:, None] if vec else d
        m = a._data.shape[0]
        out = np.zeros((m, d2.shape[1]), dt)
        if v.shape[0]:
            contrib = d2[ix[1]] * v[:, None]
            first = np.empty(len(v), bool)
            first[0] = True
            np.not_equal(ix[0, 1:], ix[0, :-1], out=first[1:])
            starts = np.flatnonzero(first)
            out[ix[0, starts]] = np.add.reduceat(contrib, starts, axis=0)
        return out[:, 0] if vec else out
    if not _is_sp(b):
        # neither is sparse: another stand-in refused NumPy (a MaskedTensor's); let it say so
        np.asarray(a._data), np.asarray(b._data)
    # dense @ sparse: (S^T @ D^T)^T
    if b._ix.shape[0] != 2 or b._v.ndim != 1:
        raise NotImplementedError("ember does not implement matrix products of hybrid sparse "
                                  "tensors")
    d = a._data
    if d.ndim == 1:
        return _matmul(transpose(b, 0, 1), a)
    return np.ascontiguousarray(_matmul(transpose(b, 0, 1), _wrap(d.T)).T)


def _sparse_sparse(a, b):
    """a @ b for two sparse 2-d tensors, a coalesced sparse tensor: every entry (i, k) of a
    meets every entry (k, j) of b."""
    if a._ix.shape[0] != 2 or b._ix.shape[0] != 2 or a._v.ndim != 1 or b._v.ndim != 1:
        raise NotImplementedError("ember does not implement matrix products of hybrid sparse "
                                  "tensors")
    if _State.enabled and (a._requires_grad or b._requires_grad):
        raise NotImplementedError("ember does not implement the gradient of a product of two "
                                  "sparse tensors")
    _check_mm(a, b)
    ai, av = _coalesced(a)
    bi, bv = _coalesced(b)
    m, k = a._data.shape
    n = b._data.shape[1]
    counts = np.bincount(bi[0], minlength=k)
    starts = np.cumsum(counts) - counts          # where each row of b begins (b is sorted)
    rep = counts[ai[1]]                          # how many entries of b each entry of a meets
    first = np.repeat(np.arange(len(av)), rep)
    within = np.arange(int(rep.sum())) - np.repeat(np.cumsum(rep) - rep, rep)
    second = starts[ai[1]][first] + within
    ix, v = _coalesce_arrays(np.stack([ai[0][first], bi[1][second]]),
                             av[first] * bv[second], (m, n))
    return _coo(ix.reshape(2, -1), v.astype(np.result_type(av, bv), copy=False), (m, n), True)


def sparse_mm(mat1, mat2):
    """torch.sparse.mm: sparse @ dense with the sparse operand's gradient sparse."""
    if not _is_sp(mat1):
        return _linalg.mm(mat1, mat2)
    if _is_sp(mat2):
        return _sparse_sparse(mat1, mat2)
    return sparse_addmm(zeros(mat1._data.shape[0], mat2._data.shape[1],
                              dtype=mat2.dtype), mat1, mat2, beta=0)


def sparse_addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """torch.sparse.addmm: beta * input + alpha * (mat1 @ mat2), mat1 sparse."""
    if not _is_sp(mat1) or _is_sp(mat2):
        return _linalg.addmm(input, mat1, mat2, beta=beta, alpha=alpha)
    _check_mm(mat1, mat2)
    r = _matmul(mat1, mat2)
    if alpha != 1:
        r = r * alpha
    if beta != 0:
        c = input._data
        r = r + (c if beta == 1 else beta * c)
    return _record(SparseAddmmBackward0, r.astype(mat2._data.dtype, copy=False),
                   (input, mat1, mat2), mat1=mat1, mat2=mat2, beta=beta, alpha=alpha)


def _check_mm(a, b):
    sa, sb = a._data.shape, b._data.shape
    if len(sa) != 2 or len(sb) != 2:
        raise RuntimeError(f"addmm: matrices expected, got {len(sa)}D, {len(sb)}D tensors")
    if sa[1] != sb[0]:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {sa[1]}, got "
                           f"{sb[0]}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"addmm: expected 'mat1' and 'mat2' to have the same dtype")


def spmm(input, mat2):
    """torch.spmm: mm with a sparse first operand (MmBackward0, dense gradients)."""
    return _linalg.mm(input, mat2)


def sparse_mask(input, mask):
    """input's values at mask's (coalesced) pattern, as a sparse tensor."""
    if not _is_sp(mask):
        raise RuntimeError("sparse_mask expects mask to be sparse")
    if input._data.shape != mask._data.shape:
        raise RuntimeError(f"sparse_mask(): operands have incompatible sizes; self has size "
                           f"{list(input._data.shape)} but mask has size "
                           f"{list(mask._data.shape)}")
    if input._requires_grad and _State.enabled:
        raise NotImplementedError("ember does not implement the gradient of sparse_mask")
    ix, _ = _coalesced(mask)
    return _coo(ix, _gather(input, ix, input._data.shape), input._data.shape, True,
                mask._data._layout)


_register_methods(__name__, {'sparse_mask': sparse_mask})


def _group_softmax(s, dim, log):
    """Softmax over the specified entries of s along dim (unspecified entries are -inf)."""
    ix, v = _coalesced(s)
    shape = s._data.shape
    nd = len(shape)
    dim = _wrap_dim(dim, nd)
    sd = ix.shape[0]
    v = v.astype(np.float64 if v.dtype == np.float64 else v.dtype, copy=True)
    if dim >= sd:
        ax = dim - sd + 1
        m = v.max(axis=ax, keepdims=True) if v.size else v
        e = np.exp(v - m)
        tot = e.sum(axis=ax, keepdims=True)
        r = (v - m - np.log(tot)) if log else e / tot
        return ix, r.astype(v.dtype, copy=False), None
    # group the entries by their other sparse coordinates
    others = [d for d in range(sd) if d != dim]
    gk = _keys(ix[others], tuple(shape[d] for d in others)) if others else \
        np.zeros(ix.shape[1], np.int64)
    order = np.argsort(gk, kind='stable')
    k = gk[order]
    if not len(k):
        return ix, v, None
    first = np.empty(len(k), bool)
    first[0] = True
    np.not_equal(k[1:], k[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    group = np.cumsum(first) - 1
    vs = v[order]
    m = np.maximum.reduceat(vs, starts, axis=0)[group]
    e = np.exp(vs - m)
    tot = np.add.reduceat(e, starts, axis=0)[group]
    rs = (vs - m - np.log(tot)) if log else e / tot
    r = np.empty_like(rs)
    r[order] = rs
    return ix, r.astype(v.dtype, copy=False), (order, starts, group)


def _group_sum(x, groups, dim_is_dense, ax):
    if groups is None:
        return x.sum(axis=ax, keepdims=True)
    order, starts, group = groups
    s = np.add.reduceat(x[order], starts, axis=0)[group]
    out = np.empty_like(s)
    out[order] = s
    return out


@derivative
def SparseSoftmaxBackward0(grad, ix, shape, result, groups, ax):
    g = _gather(grad, ix, shape)
    y = result
    return _coo(ix, y * (g - _group_sum(g * y, groups, groups is None, ax)), shape, True)


@derivative
def SparseLogSoftmaxBackward0(grad, ix, shape, result, groups, ax):
    g = _gather(grad, ix, shape)
    return _coo(ix, g - np.exp(result) * _group_sum(g, groups, groups is None, ax), shape,
                True)


def _softmax(input, dim, dtype, log):
    if not _is_sp(input):
        raise RuntimeError("input must be a sparse tensor")
    s = input if dtype is None else input.to(dtype)
    ix, r, groups = _group_softmax(s, dim, log)
    shape = input._data.shape
    out = _coo(ix, r, shape, True)
    d = _wrap_dim(dim, len(shape))
    ax = d - ix.shape[0] + 1 if d >= ix.shape[0] else None
    return _rec(SparseLogSoftmaxBackward0 if log else SparseSoftmaxBackward0, out, (s,), ix=ix,
                shape=shape, result=r, groups=groups, ax=ax)


def softmax(input, dim, dtype=None):
    """torch.sparse.softmax: over the specified entries along dim."""
    return _softmax(input, dim, dtype, False)


def log_softmax(input, dim, dtype=None):
    """torch.sparse.log_softmax."""
    return _softmax(input, dim, dtype, True)


# ---- printing ----------------------------------------------------------------------------------

def _tensor_text(a, dtype, indent):
    if a.size == 0:
        return '[]' + ', size=' + str(tuple(a.shape))
    return _values_str(a, dtype, indent)


def _sparse_repr(t):
    """torch's repr of a sparse tensor: its indices and values, then size, nnz, layout."""
    indent = len('tensor(')
    dtype = t.dtype
    default = _dtype.get_default_dtype()
    suffixes = ['size=' + str(tuple(t._data.shape)), 'nnz=' + str(t._v.shape[0])]
    if dtype not in (default, _dtype._default_complex(), _dtype.int64, _dtype.bool):
        suffixes.append(f'dtype={dtype!r}')
    parts = []
    if t.is_sparse:
        arrays = (('indices', t._ix),)
    else:
        arrays = (('crow_indices', _crow(t._ix[0], t._data.shape[0])),
                  ('col_indices', t._ix[1]))
    for name, a in arrays:
        prefix = name + '=tensor('
        parts.append(prefix + _tensor_text(a, _dtype.int64, indent + len(prefix)) + ')')
    prefix = 'values=tensor('
    parts.append(prefix + _tensor_text(t._v, dtype, indent + len(prefix)) + ')')
    text = 'tensor(' + (',\n' + ' ' * indent).join(parts)
    suffixes.append('layout=' + repr(t._data._layout))
    fn = t.grad_fn
    if fn is not None:
        suffixes.append(f'grad_fn=<{fn.name()}>')
    elif t._requires_grad:
        suffixes.append('requires_grad=True')
    # torch puts a COO tensor's first suffix on a new line, then wraps at linewidth
    return _add_suffixes(text, suffixes, indent, force_newline=t.is_sparse)


# ---- more of torch's sparse products ----------------------------------------------------------

@derivative('NotImplemented')
def _NoDerivative(grad, what):
    raise RuntimeError(f"derivative for aten::{what} is not implemented")


def hspmm(mat1, mat2):
    """torch.hspmm: sparse @ dense as a hybrid COO tensor (the rows mat1 has entries in)."""
    if not _is_sp(mat1) or _is_sp(mat2):
        raise RuntimeError("hspmm: expected a sparse first and a dense second argument")
    _check_mm(mat1, mat2)
    r = _matmul(mat1, mat2)
    ix, _ = _coalesced(mat1)
    rows = np.unique(ix[0]) if ix.shape[1] else np.zeros(0, np.int64)
    out = _coo(rows.reshape(1, -1).astype(np.int64), np.ascontiguousarray(r[rows]),
               (mat1._data.shape[0], mat2._data.shape[1]), False)
    return _rec(_NoDerivative, out, (mat1, mat2), what='hspmm')


def smm(input, mat):
    """torch.smm: sparse @ dense as a 2-d COO tensor (every column of the rows with entries)."""
    h = hspmm(input, mat)
    rows = h._ix[0]
    n = h._data.shape[1]
    ix = np.stack([np.repeat(rows, n), np.tile(np.arange(n, dtype=np.int64), len(rows))])
    out = _coo(ix, h._v.reshape(-1), h._data.shape, False)
    return _rec(_NoDerivative, out, (input, mat), what='sspaddmm')


def dsmm(input, mat):
    """torch.dsmm: sparse @ dense, dense result."""
    return _linalg.mm(input, mat)


hsmm = hspmm


def sspaddmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """torch.sspaddmm: beta * input + alpha * (mat1 @ mat2), input and mat1 sparse, the result
    sparse (input's entries, then the product's)."""
    if not _is_sp(input):
        raise RuntimeError("sspaddmm: expected a sparse input")
    p = smm(mat1, mat2)
    if input._data.shape != p._data.shape:
        raise RuntimeError(f"sspaddmm: Argument #1: Expected dim 0 size {p._data.shape[0]}, "
                           f"got {input._data.shape[0]}")
    dt = np.result_type(input._v, p._v)
    r = _coo(np.concatenate([input._ix, p._ix], axis=1),
             np.concatenate([(input._v * beta).astype(dt, copy=False),
                             (p._v * alpha).astype(dt, copy=False)]), p._data.shape, False)
    r = _rec(_NoDerivative, r, (input, mat1, mat2), what='sspaddmm')
    return r if out is None else _inplace(out, r)


def spdiags(diagonals, offsets, shape, layout=None):
    """torch.sparse.spdiags: a 2-d sparse tensor from rows of diagonals at the given offsets
    (diagonals[k, j] lands at (j - offsets[k], j))."""
    d = diagonals._data
    offs = offsets._data if isinstance(offsets, Tensor) else np.asarray(offsets)
    if d.ndim == 1:
        d = d[None]
    offs = np.atleast_1d(offs).astype(np.int64)
    if len(offs) != d.shape[0]:
        raise RuntimeError("Number of diagonals (" + str(d.shape[0]) + ") does not match the "
                           "number of offsets (" + str(len(offs)) + ")")
    m, n = (int(s) for s in shape)
    rows, cols, vals = [], [], []
    for k, o in enumerate(offs.tolist()):
        j = np.arange(max(o, 0), min(n, m + o, d.shape[1]), dtype=np.int64)
        rows.append(j - o)
        cols.append(j)
        vals.append(d[k, j])
    ix = np.stack([np.concatenate(rows), np.concatenate(cols)]) if rows else \
        np.zeros((2, 0), np.int64)
    out = _coo(ix, np.concatenate(vals).astype(d.dtype) if vals else np.zeros(0, d.dtype),
               (m, n), False)
    if layout is sparse_csr:
        return out.to_sparse_csr()
    if layout not in (None, sparse_coo):
        raise NotImplementedError(f"ember does not implement spdiags(layout={layout!r})")
    return _rec(_NoDerivative, out, (diagonals,), what='spdiags')


@derivative
def SparseSampledAddmmBackward0(grad, input, mat1, mat2, beta, alpha):
    ix = input._ix
    g = _gather(grad, ix, input._data.shape)
    gs = _coo(ix, (g * alpha).astype(g.dtype, copy=False), input._data.shape, True)
    g_in = _coo(ix, (g * beta).astype(g.dtype, copy=False), input._data.shape, True,
                input._data._layout)
    g1 = _wrap(_matmul(gs, mat2.mT)) if mat1._requires_grad else None
    g2 = _wrap(_matmul(transpose(gs, 0, 1), mat1).T.copy()) if mat2._requires_grad else None
    return g_in, g1, g2


def sampled_addmm(input, mat1, mat2, *, beta=1.0, alpha=1.0, out=None):
    """torch.sparse.sampled_addmm: beta * input + alpha * (mat1 @ mat2) at input's (CSR)
    pattern only."""
    if not _is_sp(input) or not input.is_sparse_csr:
        raise NotImplementedError("Could not run 'aten::sparse_sampled_addmm' with arguments "
                                  "from the 'SparseCPU' backend: input must be a CSR tensor")
    a, b = mat1._data, mat2._data
    if a.ndim != 2 or b.ndim != 2:
        raise NotImplementedError("ember does not implement batched sampled_addmm")
    if a.shape[1] != b.shape[0] or (a.shape[0], b.shape[1]) != input._data.shape:
        raise RuntimeError(f"sampled_addmm: Expected mat1 and mat2 of sizes compatible with "
                           f"input {list(input._data.shape)}, got {list(a.shape)} and "
                           f"{list(b.shape)}")
    ix = input._ix
    prod = np.einsum('ij,ji->i', a[ix[0]], b[:, ix[1]]) if ix.shape[1] else \
        np.zeros(0, a.dtype)
    v = (beta * input._v + alpha * prod).astype(input._v.dtype, copy=False)
    r = _coo(ix, v, input._data.shape, True, sparse_csr)
    r = _rec(SparseSampledAddmmBackward0, r, (input, mat1, mat2), input=input, mat1=mat1,
             mat2=mat2, beta=beta, alpha=alpha)
    return r if out is None else _inplace(out, r)


def _sparse_resize_(self, size, sparse_dim, dense_dim):
    """Tensor.sparse_resize_: a new size for the same entries (sizes may only grow where
    entries lie)."""
    if not _is_sp(self):
        raise RuntimeError("sparse_resize_ expected sparse coordinate tensor layout but got "
                           "Strided")
    size = tuple(int(s) for s in size)
    if len(size) != sparse_dim + dense_dim:
        raise RuntimeError(f"number of dimensions must be sparse_dim ({sparse_dim}) + "
                           f"dense_dim ({dense_dim}), but got {len(size)}")
    if self._v.shape[0]:
        if sparse_dim != self._ix.shape[0] or dense_dim != self._v.ndim - 1:
            raise RuntimeError("resize_ on a non-empty sparse tensor cannot change its sparse "
                               "or dense dimensions")
        old = self._data.shape
        if any(n < o for n, o in zip(size[:sparse_dim], old[:sparse_dim])) or \
                tuple(size[sparse_dim:]) != tuple(old[sparse_dim:]):
            raise RuntimeError("shrinking the size of a non-empty sparse tensor is not "
                               "supported")
    else:
        self._ix = np.zeros((sparse_dim, 0), np.int64)
        self._v = np.zeros((0,) + size[sparse_dim:], self._v.dtype)
    self._data = _SparseData(size, self._v.dtype, self._data._layout)
    self._cache = None
    return self


def _sparse_resize_and_clear_(self, size, sparse_dim, dense_dim):
    if not _is_sp(self):
        raise RuntimeError("sparse_resize_and_clear_ expected sparse coordinate tensor layout "
                           "but got Strided")
    self.zero_()
    self._ix = np.zeros((sparse_dim, 0), np.int64)
    self._v = np.zeros((0,) + tuple(int(s) for s in size)[sparse_dim:], self._v.dtype)
    return _sparse_resize_(self, size, sparse_dim, dense_dim)


def resize_as_sparse_(input, the_template):
    """torch.resize_as_sparse_: input takes the template's size and sparse/dense dims."""
    return _sparse_resize_(input, the_template.shape, the_template.sparse_dim(),
                           the_template.dense_dim())


_register_methods(__name__, {
    'smm': smm, 'sspaddmm': sspaddmm, 'sparse_resize_': _sparse_resize_,
    'sparse_resize_and_clear_': _sparse_resize_and_clear_,
    'resize_as_sparse_': resize_as_sparse_,
})
