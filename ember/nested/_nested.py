"""Nested tensors: a batch of tensors of different sizes (torch.nested).

A `NestedTensor` holds its components as ordinary ember tensors (`_ts`), each with its own
autograd history; the ops torch runs on nested tensors run per component (so gradients flow to
the components, and `nt.grad` gathers theirs), the others refuse with torch's
NotImplementedError. The strided layout (torch.strided) and the jagged one (torch.jagged:
values + offsets, one ragged dimension, `NestedTensor(size=(2, j1, 3), ...)` as torch prints
it) share the class.

The methods are the class's own; the free functions torch accepts nested tensors in
(softmax, log_softmax, matmul, bmm, linear, relu, gelu, silu, dropout) start with
`if input.is_nested:` and hand over to them, as the quantized tensors' do. Any other op reads
the tensor's values, which refuses (`_NestedData`) with torch's NotImplementedError naming it.
"""
import itertools
import weakref

import numpy as np

from .._ops.sparse import _SparseData, _op_name
from .._ops.sampling import pad as _pad_fn
from .._tensor import Tensor, Size, _wrap
from .._values import jagged, strided
from .._dtype import float32, float64
from .._torch_function import _disabled_torch_function_impl
from .._ops.creation import tensor as _tensor, zeros as _zeros
from .._ops.shape import cat, stack
from .._ops.index import masked_select as _masked_select
from .._ops.reduce import softmax as _softmax
from ..autograd.grad_mode import no_grad
from ..autograd.graph import backward as _backward

__all__ = ['NestedTensor']

_BACKEND_MSG = ("Could not run 'aten::{}' with arguments from the 'NestedTensorCPU' backend. "
                "This could be because the operator doesn't exist for this backend, or was "
                "omitted during the selective/custom build process (if using custom build).")


def _not_supported(name):
    return NotImplementedError(_BACKEND_MSG.format(name))


class _NestedData(_SparseData):
    """A nested tensor's `_data`: shape/dtype for the engine's bookkeeping; values refused."""
    __slots__ = ()

    def _error(self):
        return _not_supported(_op_name())


class _NestedInt:
    """A ragged size of the jagged layout (prints as torch's `j1`): one number per offsets
    tensor."""
    _ids = itertools.count(1)
    _by_offsets = {}  # id(offsets) -> (weakref to offsets, _NestedInt)

    def __init__(self, n):
        self.n = n

    @classmethod
    def of(cls, offsets):
        got = cls._by_offsets.get(id(offsets))
        if got is not None and got[0]() is offsets:
            return got[1]
        j = cls(next(cls._ids))
        cls._by_offsets[id(offsets)] = (weakref.ref(offsets), j)
        return j

    def __repr__(self):
        return f'j{self.n}'

    __str__ = __repr__


def _irregular(dim):
    return RuntimeError(f"Given dimension {dim} is irregular and does not have a size.")


class NestedTensor(Tensor):
    """A list of tensors of one dtype and dim, with different sizes."""
    __slots__ = ('_ts', '_layout', '_offsets', '_values', '_lengths', '_max_seqlen')
    _prints_as_tensor = False
    is_nested = True
    __torch_function__ = _disabled_torch_function_impl  # no part in __torch_function__

    # ---- construction ---------------------------------------------------------------------
    @classmethod
    def _make(cls, ts, layout=strided, offsets=None, values=None, lengths=None,
              max_seqlen=None):
        ts = list(ts)
        t = object.__new__(cls)
        d = ts[0] if ts else None
        nd = d.dim() if d is not None else 0
        padded = [len(ts)] + [max(x.shape[i] for x in ts) for i in range(nd)] if ts else [0]
        t._data = _NestedData(padded, d._data.dtype if d is not None else np.float32, layout)
        t._requires_grad = False
        t._grad = None
        t.grad_fn = next((x.grad_fn for x in ts if x.grad_fn is not None), None)
        t._output_nr = 0
        t._vc = ts[0]._vc if ts else _wrap(np.zeros(0))._vc
        t._base = None
        t._grad_acc = None
        t._hooks = None
        t._ts = ts
        t._layout = layout
        t._offsets = offsets
        t._values = values
        t._lengths = lengths
        t._max_seqlen = max_seqlen  # the jagged layout's padded length (None: unknown)
        return t

    def _like(self, ts):
        """A nested tensor of self's layout with new components."""
        if self._layout is jagged:
            return _jagged_from_list(ts, offsets=self._offsets, max_seqlen=self._max_seqlen)
        return NestedTensor._make(ts)

    # ---- metadata -------------------------------------------------------------------------
    @property
    def layout(self):
        return self._layout

    @property
    def requires_grad(self):
        return any(x.requires_grad for x in self._ts)

    @requires_grad.setter
    def requires_grad(self, value):
        for x in self._ts:
            x.requires_grad = value

    def requires_grad_(self, requires_grad=True):
        for x in self._ts:
            x.requires_grad_(requires_grad)
        return self

    @property
    def grad(self):
        grads = [x.grad for x in self._ts]
        if all(g is None for g in grads):
            return None
        return self._like([g if g is not None else x.detach() * 0
                           for g, x in zip(grads, self._ts)])

    @grad.setter
    def grad(self, value):
        for x, g in zip(self._ts, value.unbind() if value is not None else
                        [None] * len(self._ts)):
            x.grad = g

    def dim(self):
        return self._data.ndim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        return sum(x.numel() for x in self._ts)

    def element_size(self):
        return self._data.itemsize

    def is_contiguous(self, memory_format=None):
        return True

    def _sizes(self, dim):
        return {x.shape[dim - 1] for x in self._ts}

    def size(self, dim=None):
        if dim is None:
            if self._layout is jagged:
                return self.shape
            raise RuntimeError("Internal error: NestedTensorImpl doesn't support sizes. Please "
                               "file an issue.")
        d = dim + self.dim() if dim < 0 else dim
        if d == 0:
            return len(self._ts)
        sizes = self._sizes(d)
        if len(sizes) != 1:
            if self._layout is jagged:
                return _NestedInt.of(self._offsets)
            raise _irregular(dim)
        return sizes.pop()

    @property
    def shape(self):
        if self._layout is jagged:
            return Size([self.size(i) for i in range(self.dim())])
        return self.size()

    def stride(self, dim=None):
        raise RuntimeError("Internal error: NestedTensorImpl doesn't support strides. Please "
                           "file an issue.")

    def numpy(self, *, force=False):
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        raise _not_supported('numpy')

    def _nested_tensor_size(self):
        return _tensor([list(x.shape) for x in self._ts], dtype=None)

    def _nested_tensor_strides(self):
        return _tensor([list(x.stride()) for x in self._ts])

    # the jagged layout's parts
    def values(self):
        if self._layout is not jagged:
            raise _not_supported('values')
        if self._values is None or self.requires_grad:  # concatenated with their history
            return cat(self._ts)
        return self._values

    def offsets(self):
        if self._layout is not jagged:
            raise _not_supported('offsets')
        return self._offsets

    def lengths(self):
        if self._layout is not jagged:
            raise _not_supported('lengths')
        return self._lengths

    # ---- the components ---------------------------------------------------------------------
    def unbind(self, dim=0):
        if dim != 0:
            raise RuntimeError("NestedTensor can only be unbound along dimension 0 got "
                               f"dimension {dim} instead.")
        return tuple(self._ts)

    def __getitem__(self, index):
        if isinstance(index, int):
            return self._ts[index]
        if isinstance(index, tuple) and index and isinstance(index[0], int):
            rest = index[1:]
            return self._ts[index[0]][rest if len(rest) != 1 else rest[0]]
        raise RuntimeError("Internal error: NestedTensorImpl doesn't support sizes. Please file "
                           "an issue.")

    def __iter__(self):
        return iter(self._ts)

    def __len__(self):
        return len(self._ts)

    def to_padded_tensor(self, padding, output_size=None):
        return to_padded_tensor(self, padding, output_size)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn")
        if gradient is None:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        _backward(list(self._ts), list(gradient.unbind()), retain_graph, create_graph,
                  inputs=inputs)

    def detach(self):
        return self._like([x.detach() for x in self._ts])

    def clone(self, *, memory_format=None):
        return self._like([x.clone() for x in self._ts])

    def contiguous(self, memory_format=None):
        return self

    def to(self, *args, **kwargs):
        return self._like([x.to(*args, **kwargs) for x in self._ts])

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def _apply_each(self, fn, *args, **kwargs):
        """fn on each component (the free functions' hand-over)."""
        return self._like([fn(x, *args, **kwargs) for x in self._ts])

    # ---- printing ------------------------------------------------------------------------------
    def __repr__(self):
        if self._layout is jagged:
            size = '(' + ', '.join(str(s) for s in self.shape) + ')'
            contiguous = self._values is not None and self._lengths is None
            return (f"NestedTensor(size={size}, offsets={self._offsets!r}, "
                    f"contiguous={contiguous})")
        parts = []
        for x in self._ts:
            r = repr(x.detach())
            if x.requires_grad:
                r = r[:-1] + ', requires_grad=True)'
            parts.append('  ' + r.replace('\n', '\n  '))
        body = ',\n'.join(parts)
        tail = ''
        if self.grad_fn is not None:
            tail = f', grad_fn=<{self.grad_fn.name()}>'
        elif self.requires_grad:
            tail = ', requires_grad=True'
        return f"nested_tensor([\n{body}\n]{tail})"

    __str__ = __repr__

# ---- per-component operations -------------------------------------------------------------------

def _map(fn):
    def run(self, *args, **kwargs):
        return self._like([fn(x, *args, **kwargs) for x in self._ts])
    return run


def _map_inplace(name):
    def run(self, *args, **kwargs):
        for x in self._ts:
            getattr(x, name)(*args, **kwargs)
        return self
    return run


_UNARY = ('sin', 'cos', 'tanh', 'relu', 'abs', 'neg', 'sqrt', 'sgn', 'logical_not', 'isnan')
for _n in _UNARY:
    _f = _map((lambda n: lambda x, *a, **k: getattr(x, n)(*a, **k))(_n))
    setattr(NestedTensor, _n, _f)
for _n in ('tanh_', 'relu_', 'zero_', 'fill_', 'sin_', 'abs_', 'neg_'):
    setattr(NestedTensor, _n, _map_inplace(_n))
NestedTensor.__neg__ = NestedTensor.neg
NestedTensor.__abs__ = NestedTensor.abs


def _is_nt(x):
    return isinstance(x, NestedTensor)


def _binary(name, scalar_tensor_ok=True, nested_other_ok=True):
    """A binary op: with a number or a 0-d tensor per component, with a nested tensor of the
    same structure component by component; a dense operand refused as torch refuses it."""
    def run(a, b, *args, **kwargs):
        if _is_nt(a) and _is_nt(b):
            if not nested_other_ok:
                raise RuntimeError(f"{name} does not support nested tensor as other value.")
            if len(a._ts) != len(b._ts) or any(x.shape != y.shape
                                               for x, y in zip(a._ts, b._ts)):
                raise RuntimeError(f"{name} does not support broadcasting when given a "
                                   "NestedTensor")
            return a._like([getattr(x, name)(y, *args, **kwargs)
                            for x, y in zip(a._ts, b._ts)])
        nt, other, swapped = (a, b, False) if _is_nt(a) else (b, a, True)
        if isinstance(other, Tensor) and (other.dim() != 0 or not scalar_tensor_ok):
            if other.dim() == 0:
                raise _not_supported(f'{name}.Tensor')
            who = 'a non-nested self and nested other' if swapped else \
                'a nested self and non-nested other'
            raise RuntimeError(f"Expected both self and other to be nested, but got {who}")
        if swapped:
            return nt._like([getattr(other if isinstance(other, Tensor) else x.new_tensor(
                other), name)(x, *args, **kwargs) for x in nt._ts])
        return nt._like([getattr(x, name)(other, *args, **kwargs) for x in nt._ts])
    return run


for _n, _ops in (('add', ('add', '__add__', '__radd__')), ('sub', ('sub', '__sub__')),
                 ('mul', ('mul', '__mul__', '__rmul__')),
                 ('div', ('div', '__truediv__', 'true_divide'))):
    _f = _binary(_n)
    for _o in _ops:
        setattr(NestedTensor, _o, (lambda f, o: lambda a, b, *r, **k: f(b, a, *r, **k)
                                   if o.startswith('__r') else f(a, b, *r, **k))(_f, _o))
NestedTensor.__eq__ = NestedTensor.eq = _binary('eq', nested_other_ok=False)
NestedTensor.__gt__ = NestedTensor.gt = _binary('gt', scalar_tensor_ok=False)
NestedTensor.__hash__ = Tensor.__hash__


def _inplace_binary(name):
    def run(self, other, *args, **kwargs):
        others = other._ts if _is_nt(other) else [other] * len(self._ts)
        for x, y in zip(self._ts, others):
            getattr(x, name)(y, *args, **kwargs)
        return self
    return run


for _n in ('add_', 'mul_', 'sub_', 'div_'):
    setattr(NestedTensor, _n, _inplace_binary(_n))
NestedTensor.__iadd__ = NestedTensor.add_
NestedTensor.__imul__ = NestedTensor.mul_


def _nested_dim(self, dim, what):
    d = dim + self.dim() if dim < 0 else dim
    if d == 0:
        raise RuntimeError(what)
    return d - 1


def softmax(self, dim, dtype=None, _stacklevel=3, **kwargs):
    d = _nested_dim(self, dim, "Cannot apply softmax across nested dimension 0")
    return self._like([_softmax(x, d, dtype=dtype) for x in self._ts])


def log_softmax(self, dim, dtype=None, _stacklevel=3, **kwargs):
    raise _not_supported('_log_softmax')  # torch has no nested kernel for it


def transpose(self, dim0, dim1):
    d0 = _nested_dim(self, dim0, "Nested tensor dimension 0 cannot be transposed")
    d1 = _nested_dim(self, dim1, "Nested tensor dimension 0 cannot be transposed")
    return self._like([x.transpose(d0, d1) for x in self._ts])


def unsqueeze(self, dim):
    d = dim + self.dim() + 1 if dim < 0 else dim
    if d == 0:
        raise RuntimeError("Cannot unsqueeze nested tensor at dimension 0")
    return self._like([x.unsqueeze(d - 1) for x in self._ts])


def select(self, dim, index):
    if (dim + self.dim() if dim < 0 else dim) == 0:
        return self._ts[index]
    d = _nested_dim(self, dim, '')
    return self._like([x.select(d, index) for x in self._ts])


def matmul(a, b):
    if _is_nt(a) and _is_nt(b):
        if len(a._ts) != len(b._ts):
            raise RuntimeError("matmul: Expected size for first two dimensions of batch2 tensor "
                               "to be equal to the number of tensors in batch1")
        return a._like([x.matmul(y) for x, y in zip(a._ts, b._ts)])
    raise RuntimeError("Expected both to be nested, but got a nested self and non-nested "
                       "other")


def bmm(a, b):
    if _is_nt(b):
        return matmul(a, b)
    # a dense batch: one matrix per component
    out = []
    for i, (x, y) in enumerate(zip(a._ts, b.unbind(0))):
        if x.shape[-1] != y.shape[0]:
            raise RuntimeError(f"{i}-th nested matrices in batch cannot be multiplied "
                               f"({x.shape[0]}x{x.shape[1]} and {y.shape[0]}x{y.shape[1]})")
        out.append(x.matmul(y))
    return a._like(out)


def _same_trailing(self):
    last = {x.shape[-1] for x in self._ts}
    if len(last) != 1:
        raise RuntimeError("Expected all tensors in nested tensor to have the same trailing "
                           f"dimension, instead last dimension equals:  {self._ts[0].shape[-1]}")


def linear(input, weight, bias=None):
    if not _is_nt(input):
        raise _not_supported('linear')
    _same_trailing(input)
    return input._like([x.matmul(weight.t()) + (bias if bias is not None else 0)
                        for x in input._ts])


def masked_fill(self, mask, value):
    masks = mask._ts if _is_nt(mask) else [mask] * len(self._ts)
    return self._like([x.masked_fill(m, value) for x, m in zip(self._ts, masks)])


for _n, _f in (('softmax', softmax), ('log_softmax', log_softmax), ('transpose', transpose),
               ('unsqueeze', unsqueeze), ('select', select), ('matmul', matmul),
               ('__matmul__', matmul), ('bmm', bmm), ('masked_fill', masked_fill)):
    setattr(NestedTensor, _n, _f)
for _n in ('sum', 'mean', 'pow', '__pow__', 'exp', 'log', 'sigmoid', 'view', 'reshape',
           'expand', 'flatten', 'max', 'min', 'cumsum', 'clamp', 'sign', 'floor', 'round',
           'erf', 'reciprocal', 'rsqrt', 'split', 'chunk', 'square', 'nan_to_num', 'where',
           '__rsub__', 'rsub', 'item', 'tolist', 'permute', 'squeeze', 'narrow', 'repeat'):
    setattr(NestedTensor, _n, (lambda n: lambda self, *a, **k: _refuse(n))(_n.strip('_')))


def _refuse(name):
    raise _not_supported(name)


def __pow__(self, other):
    raise _not_supported('pow.Tensor_Scalar' if not isinstance(other, Tensor)
                         else 'pow.Tensor_Tensor')


def __rsub__(self, other):
    raise _not_supported('rsub.Scalar' if not isinstance(other, Tensor) else 'rsub.Tensor')


NestedTensor.__pow__ = NestedTensor.pow = __pow__
NestedTensor.__rsub__ = __rsub__


def _sum(self, dim=None, keepdim=False, *, dtype=None):
    if dim is None:
        raise _not_supported('sum')
    if not keepdim:
        raise RuntimeError("NestedTensor always requires keepdim=True for now.")
    d = _nested_dim(self, dim if isinstance(dim, int) else dim[0],
                    "NestedTensor does not support reductions across the batch dimension")
    return self._like([x.sum(d, keepdim=True, dtype=dtype) for x in self._ts])


NestedTensor.sum = _sum
NestedTensor._linear = linear


# ---- the public functions ---------------------------------------------------------------------

def _as_component(t, dtype, copy, requires_grad=False):
    if not isinstance(t, Tensor):
        t = _tensor(t, dtype=dtype)
    elif dtype is not None:
        t = t.to(dtype)
    if copy:
        t = t.detach().clone()
        if requires_grad:
            t.requires_grad_(True)
    return t


def _check_same_dim(ts):
    for i, t in enumerate(ts[1:], 1):
        if t.dim() != ts[0].dim():
            raise RuntimeError(
                "All Tensors given to nested_tensor must have the same dimension. Found "
                f"dimension {t.dim()} for Tensor at index {i} and dimension {ts[0].dim()} for "
                "Tensor at index 0.")


def _jagged_from_list(ts, offsets=None, max_seqlen=-1):
    if ts:
        shapes = [tuple(t.shape) for t in ts]
        ragged = {i for i in range(len(shapes[0])) if len({s[i] for s in shapes}) > 1}
        if ts[0].dim() == 0 or ragged - {0}:
            raise RuntimeError(
                "Cannot represent given tensor list as a nested tensor with the jagged layout. "
                "Note that the jagged layout only allows for a single ragged dimension. For "
                "example: (B, *, D_0, D_1, ..., D_N), with ragged * dim.")
    if offsets is None:
        lengths = [t.shape[0] for t in ts]
        offsets = _tensor(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
    with no_grad():
        values = cat(ts) if ts else None
    if max_seqlen == -1:
        max_seqlen = max((t.shape[0] for t in ts), default=0)
    return NestedTensor._make(ts, jagged, offsets=offsets, values=values,
                              max_seqlen=max_seqlen)


def nested_tensor(tensor_list, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """A nested tensor holding copies of the tensors (or nested lists) given; no history."""
    if layout is None:
        layout = strided
    if layout not in (strided, jagged):
        raise RuntimeError(f"Specified layout is unsupported for nested tensors: {layout}")
    ts = [_as_component(t, dtype, True) for t in tensor_list]
    _check_same_dim(ts)
    if layout is jagged:
        nt = _jagged_from_list(ts)
        return nt.requires_grad_(True) if requires_grad else nt
    return NestedTensor._make([t.requires_grad_(requires_grad) for t in ts])


def as_nested_tensor(ts, dtype=None, device=None, layout=None):
    """A nested tensor of the tensors given (or of a tensor's slices along dim 0), keeping their
    autograd history."""
    is_tensor = isinstance(ts, Tensor)
    if not is_tensor and not (isinstance(ts, (list, tuple)) and
                              all(isinstance(t, Tensor) for t in ts)):
        raise TypeError("as_nested_tensor(): Expected first argument to be a tensor or a list / "
                        "tuple of tensors ")
    if is_tensor and _is_nt(ts):
        return ts.to(dtype) if dtype is not None else ts
    items = list(ts.unbind(0)) if is_tensor else list(ts)
    items = [t.to(dtype) if dtype is not None else t for t in items]
    _check_same_dim(items)
    if layout is jagged:
        return _jagged_from_list(items)
    if layout not in (None, strided):
        raise RuntimeError(f"Specified layout is unsupported for nested tensors: {layout}")
    return NestedTensor._make(items)


def to_padded_tensor(input, padding, output_size=None):
    """The components padded with `padding` into one dense tensor."""
    if not _is_nt(input):
        raise RuntimeError("to_padded_tensor(): expected a nested tensor")
    ts = input._ts
    nd = input.dim() - 1
    target = [max(x.shape[i] for x in ts) for i in range(nd)] if ts else []
    if input._layout is jagged:
        if input._lengths is not None:
            raise RuntimeError("to_padded_tensor(): not supported for nested tensors with "
                               "holes")
        # torch pads the ragged dim to max_seqlen, or to all the values when it is unknown
        target[0] = input._max_seqlen if input._max_seqlen is not None else \
            input._values.shape[0]
    if output_size is not None:
        out = list(output_size)
        if len(out) != nd + 1 or out[0] < len(ts) or any(o < t for o, t in
                                                          zip(out[1:], target)):
            raise RuntimeError("Value in output_size is less than NestedTensor padded size. "
                               "Truncation is not supported.")
        target = out[1:]
    rows = []
    for x in ts:
        pads = []
        for i in reversed(range(nd)):
            pads += [0, target[i] - x.shape[i]]
        rows.append(_pad(x, pads, padding))
    result = stack(rows) if rows else _zeros([0] + target)
    if output_size is not None and output_size[0] > len(ts):
        extra = _zeros([output_size[0] - len(ts)] + target, dtype=result.dtype) + padding
        result = cat([result, extra])
    return result


def _pad(x, pads, value):
    return _pad_fn(x, pads, value=value)


def nested_tensor_from_jagged(values, offsets=None, lengths=None, jagged_dim=None,
                              min_seqlen=None, max_seqlen=None):
    """A jagged nested tensor viewing `values` (rows split at `offsets`, or at the running sum
    of `lengths`)."""
    if offsets is None:
        if lengths is None:
            raise RuntimeError("nested_tensor_from_jagged(): At least one of offsets or lengths "
                               "is required.")
        offsets = _tensor(np.concatenate([[0], np.cumsum(lengths.numpy())]).astype(np.int64))
        lengths = None
    o = offsets.tolist()
    ln = lengths.tolist() if lengths is not None else [b - a for a, b in zip(o, o[1:])]
    ts = [values[a:a + n] for a, n in zip(o, ln)]
    return NestedTensor._make(ts, jagged, offsets=offsets, values=values, lengths=lengths,
                              max_seqlen=max_seqlen)


def narrow(tensor, dim, start, length, layout=strided):
    """Slices tensor[i, start[i]:start[i]+length[i]] along dim 1 as a nested tensor."""
    if not isinstance(start, (int, Tensor)) or not isinstance(length, (int, Tensor)):
        raise RuntimeError("start must be an integer or a tensor")
    if layout is strided:
        if isinstance(start, Tensor) or isinstance(length, Tensor):
            raise RuntimeError("start and length must be integers for the strided layout NT "
                               "impl")
        return as_nested_tensor(tensor).narrow(dim, start, length)
    if layout is not jagged:
        raise RuntimeError("Specified layout is unsupported for nested narrow")
    if dim != 1:
        raise RuntimeError("jagged layout only supports dim=1")
    n = tensor.shape[0]
    st = start.tolist() if isinstance(start, Tensor) else [start] * n
    ln = length.tolist() if isinstance(length, Tensor) else [length] * n
    row = tensor.shape[1]
    offsets = _tensor([i * row + s for i, s in enumerate(st)] + [(n - 1) * row + st[-1] +
                                                                 ln[-1]])
    ts = [tensor[i, s:s + k] for i, (s, k) in enumerate(zip(st, ln))]
    flat = tensor.reshape(-1)
    return NestedTensor._make(ts, jagged, offsets=offsets, values=flat,
                              lengths=_tensor(ln))


def _strided_narrow(self, dim, start, length):
    if (dim + self.dim() if dim < 0 else dim) != 0:
        raise RuntimeError(f"narrow(): only dim=0 supported for nested tensors, but got: {dim}")
    return self._like(self._ts[start:start + length])


NestedTensor.narrow = _strided_narrow


def masked_select(tensor, mask):
    """The elements of each row of tensor where mask holds, as a jagged nested tensor."""
    if tensor.dim() < 1:
        raise RuntimeError("masked_select(): expected tensor to have at least one dimension")
    rows = [_masked_select(tensor[i], mask[i]) for i in range(tensor.shape[0])]
    lengths = [r.shape[0] for r in rows]
    offsets = _tensor(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
    return NestedTensor._make(rows, jagged, offsets=offsets,
                              values=_masked_select(tensor, mask))
