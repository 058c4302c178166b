"""Shape and view ops: view/reshape, transpose/permute, squeeze, expand, cat/stack, split...

View ops return tensors that share memory (and the version counter) with their input, as
torch's views do; `reshape`/`flatten` copy only when no view is possible.
"""
import functools

import numpy as np

from .. import _dtype
from .._threads import map_rows
from .._tensor import (Tensor, Size, _link_view, _wrap, _wrap_dim, _view_of, tensor_op,
                       _register_methods)
from ..autograd.grad_mode import _State
from ..autograd.graph import _record, derivative
from .complex import view_as_real, view_as_complex
from .sampling import _constant_pad
from ._util import (_size_args, _out, _as_view, _writeable_view, _fused, _alloc_errors,
                    _check_inplace,
                    _embed_slice, _rebase_inplace, _nograph)
from ._autocast import autocast

__all__ = ['reshape', 'transpose', 'swapaxes', 'swapdims', 'permute', 't', 'squeeze',
           'unsqueeze', 'flatten', 'unflatten', 'broadcast_to', 'narrow', 'chunk',
           'split', 'tensor_split', 'unbind', 'movedim', 'moveaxis', 'flip', 'fliplr', 'flipud',
           'roll', 'rot90', 'cat', 'concat', 'concatenate', 'stack', 'hstack', 'vstack',
           'dstack', 'column_stack', 'select', 'clone', 'tile', 'diag', 'diagonal',
           'diag_embed', 'tril', 'triu', 'meshgrid', 'broadcast_tensors', 'broadcast_shapes',
           'atleast_1d', 'atleast_2d', 'atleast_3d', 'ravel', 'squeeze_copy', 'view_as_real',
           'view_as_complex', 'as_strided', 'block_diag', 'cartesian_prod', 'vsplit', 'hsplit']


def _axis_alias(fn):
    """Accept NumPy's `axis=` for `dim=`, as torch's argument parser does for native ops
    (d2l writes `torch.cat((X, Y), axis=1)`)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if 'axis' in kwargs:
            if 'dim' in kwargs:
                raise TypeError(f"{fn.__name__}() got an unexpected keyword argument 'axis'")
            kwargs['dim'] = kwargs.pop('axis')
        return fn(*args, **kwargs)
    return wrapper


def _viewing(out, input):
    """Make `out` (a recorded view op's result) a view of `input`: shared version counter
    and base."""
    return _link_view(out, input)


def _infer_shape(shape, numel):
    """Resolve a single -1 in `shape`, with torch's error messages."""
    n = 1
    for s in shape:  # the common case: every size given
        if s < 0:
            break
        n *= s
    else:
        if n != numel:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        return shape
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for i, s in enumerate(shape):
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
    if neg:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if known == 0 and numel == 0:
            raise RuntimeError(
                f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                "unspecified dimension size -1 can be any value and is ambiguous")
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    n = 1
    for s in shape:
        n *= s
    if n != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _reshape_backward(grad, shape):
    return grad.reshape(shape)


ViewBackward0 = derivative('ViewBackward0')(_reshape_backward)
UnsafeViewBackward0 = derivative('UnsafeViewBackward0')(_reshape_backward)  # a reshape's copy


def _unsafe_view(input, shape):
    """torch's _unsafe_view: the reshape that ends a composite (kron), recorded as
    UnsafeViewBackward0."""
    d = input._data
    return _record(UnsafeViewBackward0, d.reshape(shape), (input,), shape=d.shape)


def _contiguous_view(self, shape):
    """view/reshape's common call on a contiguous tensor, `t.view(2, 3)` or `t.view(-1, 4)`:
    sizes that are plain ints, at most one -1, that fit numel; None for anything else (the
    full path then parses the arguments and raises torch's errors)."""
    d = self._data
    if d.__class__ is not np.ndarray or not d.flags.c_contiguous or not shape:
        return None
    n = 1
    infer = False
    for s in shape:
        if s.__class__ is not int:
            return None
        if s < 0:
            if s != -1 or infer:
                return None
            infer = True
        else:
            n *= s
    if infer:
        if n == 0 or d.size % n:
            return None
    elif n != d.size:
        return None
    r = d.reshape(shape)
    if self._requires_grad and _State.enabled:
        return _viewing(_record(ViewBackward0, r, (self,), shape=d.shape), self)
    return _view_of(self, r)


@tensor_op
def view(self, *shape):
    r = _contiguous_view(self, shape)
    if r is not None:
        return r
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list, Size)):
        d = shape[0]
        if isinstance(d, _dtype.dtype):
            return _wrap(self._data.view(_dtype.to_numpy(d)))
    shape = _infer_shape(_size_args(shape), self._data.size)
    d = self._data
    try:
        r = d.reshape(shape, copy=False) if shape != d.shape else d.view()
    except (ValueError, AttributeError):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") \
            from None
    return _viewing(_record(ViewBackward0, r, (self,), shape=d.shape), self)


@tensor_op
def view_as(self, other):
    return view(self, other._data.shape)


@tensor_op
def reshape(input, *shape):
    r = _contiguous_view(input, shape)
    if r is not None:
        return r
    shape = _infer_shape(_size_args(shape), input._data.size)
    d = input._data
    try:
        r = d.reshape(shape, copy=False)
        return _viewing(_record(ViewBackward0, r, (input,), shape=d.shape), input)
    except ValueError:
        return _record(UnsafeViewBackward0, _c_copy(d, shape), (input,), shape=d.shape)


@tensor_op
def reshape_as(self, other):
    return reshape(self, other._data.shape)


@derivative
def TransposeBackward0(grad, dim0, dim1):
    return grad.transpose(dim0, dim1)


TransposeBackward1 = derivative('TransposeBackward1')(TransposeBackward0._formula)  # transpose_


def _transposed(input, dim0, dim1, node):
    """input with two dims swapped, recorded as `node` (a view for transpose, self's new
    value for transpose_)."""
    n = input._data.ndim
    a, b = _wrap_dim(dim0, n), _wrap_dim(dim1, n)
    if n < 2:
        return _record(node, input._data.view(), (input,), dim0=0, dim1=0)
    return _record(node, input._data.swapaxes(a, b), (input,), dim0=a, dim1=b)


@tensor_op(aliases=('swapaxes', 'swapdims'))
def transpose(input, dim0, dim1):
    return _viewing(_transposed(input, dim0, dim1, TransposeBackward0), input)


swapaxes = swapdims = transpose


@derivative
def TBackward0(grad):
    if _nograph() and not grad._sparse:  # no graph to build: the transposed array will do
        d = grad._data
        return _wrap(d.T if d.ndim == 2 else d)
    return grad.t()


TBackward1 = derivative('TBackward1')(TBackward0._formula)  # t_


def _t(input, node):
    n = input._data.ndim
    if n > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {n}D")
    return _record(node, input._data.view() if n < 2 else input._data.T, (input,))


@tensor_op
def t(input):
    return _viewing(_t(input, TBackward0), input)


@derivative
def PermuteBackward0(grad, dims):
    return grad.permute(tuple(int(i) for i in np.argsort(dims)))


@tensor_op
def permute(input, *dims):
    dims = _size_args(dims)
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal "
            f"to len(dims) = {len(dims)}")
    dims = tuple(_wrap_dim(d, n) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _viewing(_record(PermuteBackward0, input._data.transpose(dims), (input,), dims=dims),
                    input)


def _T(self):
    n = self._data.ndim
    return permute(self, tuple(range(n - 1, -1, -1)))


def _mT(self):
    if self._data.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self._data.ndim}-D tensor.")
    return transpose(self, -2, -1)


def _reshape_back(grad, shape):
    return grad.reshape(shape)


# squeeze(), squeeze(dim), squeeze(dims); squeeze_ records 3, 4, 5
_SQUEEZE = tuple(derivative(f'SqueezeBackward{i}')(_reshape_back) for i in range(6))
SqueezeBackward0, SqueezeBackward1, SqueezeBackward2 = _SQUEEZE[:3]
UnsqueezeBackward0 = derivative('UnsqueezeBackward0')(_reshape_back)
UnsqueezeBackward1 = derivative('UnsqueezeBackward1')(_reshape_back)  # unsqueeze_


def _squeezed(input, dim, nodes):
    """input without (some of) its size-1 dims, recorded as nodes[0] (all dims), nodes[1] (one
    dim) or nodes[2] (a tuple or list of dims): torch's squeeze, squeeze.dim, squeeze.dims."""
    d = input._data
    if dim is None:
        r = d.reshape(tuple(s for s in d.shape if s != 1))
        return _record(nodes[0], r, (input,), shape=d.shape)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    wrapped = [_wrap_dim(x, d.ndim) for x in dims]  # checked on a 0-d tensor too
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"dim {next(x for x in wrapped if wrapped.count(x) > 1)} "
                           "appears multiple times in the list of dims")
    axes = set(wrapped) if d.ndim else set()
    r = d.reshape(tuple(s for i, s in enumerate(d.shape) if not (i in axes and s == 1)))
    op = nodes[2] if isinstance(dim, (tuple, list)) else nodes[1]
    return _record(op, r, (input,), shape=d.shape)


@tensor_op
@_axis_alias
def squeeze(input, dim=None):
    return _viewing(_squeezed(input, dim, _SQUEEZE[:3]), input)


def _unsqueezed(input, dim, node):
    d = input._data
    ax = _wrap_dim(dim, d.ndim + 1)
    # torch's stride for the new dim: size * stride of the dim after it (1 when last)
    st = d.strides
    new = d.shape[ax] * st[ax] if ax < d.ndim else d.itemsize
    r = _as_view(d, d.shape[:ax] + (1,) + d.shape[ax:], st[:ax] + (new,) + st[ax:])
    return _record(node, r, (input,), shape=d.shape)


@tensor_op
@_axis_alias
def unsqueeze(input, dim):
    return _viewing(_unsqueezed(input, dim, UnsqueezeBackward0), input)


@tensor_op
def flatten(input, start_dim=0, end_dim=-1):
    if input.is_quantized:  # its own method (ember/_ops/quantized.py)
        return input.flatten(start_dim, end_dim)
    d = input._data
    s, e = _wrap_dim(start_dim, d.ndim), _wrap_dim(end_dim, d.ndim)
    if d.ndim == 0:
        return reshape(input, (1,))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    n = 1
    for x in d.shape[s:e + 1]:
        n *= x
    return reshape(input, d.shape[:s] + (n,) + d.shape[e + 1:])


@tensor_op
def ravel(input):
    return flatten(input)


@tensor_op
def unflatten(input, dim, sizes):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    sizes = tuple(sizes)
    if -1 in sizes:
        known = 1
        for s in sizes:
            if s != -1:
                known *= s
        sizes = tuple(d.shape[ax] // known if s == -1 else s for s in sizes)
    n = 1
    for s in sizes:
        n *= s
    if n != d.shape[ax]:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
            f"{dim} ({d.shape[ax]}) in the input tensor")
    return view(input, d.shape[:ax] + sizes + d.shape[ax + 1:])


@derivative
def ExpandBackward0(grad, shape):
    return grad  # the engine sums it down to the input's shape


@tensor_op
def expand(self, *sizes):
    if not sizes:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    sizes = _size_args(sizes)
    d = self._data
    if len(sizes) < d.ndim:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{[{', '.join(map(str, d.shape))}]}}, size=[" +
            ', '.join(map(str, sizes)) + "]): the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the "
            f"tensor ({d.ndim})")
    lead = len(sizes) - d.ndim
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                    "non-existing dimension 0")
            target.append(s)
        else:
            cur = d.shape[i - lead]
            if s == -1:
                s = cur
            elif cur != s and cur != 1:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) must match the existing size "
                    f"({cur}) at non-singleton dimension {i}.  Target sizes: "
                    f"[{', '.join(map(str, sizes))}].  Tensor sizes: "
                    f"[{', '.join(map(str, d.shape))}]")
            target.append(s)
    target = tuple(target)
    if target == d.shape:
        return _viewing(_record(ExpandBackward0, d.view(), (self,), shape=d.shape), self)
    # torch: stride 0 where a dim is really expanded; new leading dims of size 1 get
    # unsqueeze's stride. Read-only where elements overlap (torch refuses those writes).
    st = [0] * lead + list(d.strides)
    for i in range(len(target) - 1, -1, -1):
        if i < lead and target[i] == 1:
            st[i] = target[i + 1] * st[i + 1] if i + 1 < len(target) else 0
        elif i >= lead and d.shape[i - lead] != target[i]:
            st[i] = 0
    r = _as_view(d, target, tuple(st))
    if any(s == 0 and n > 1 for s, n in zip(st, target)):
        r.flags.writeable = False
    return _viewing(_record(ExpandBackward0, r, (self,), shape=d.shape), self)


@tensor_op
def expand_as(self, other):
    return expand(self, other._data.shape)


@tensor_op
def broadcast_to(input, size):
    return expand(input, tuple(size))


def broadcast_shapes(*shapes):
    try:
        return Size(np.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s)
                                          for s in shapes]))
    except ValueError:
        raise RuntimeError("Shape mismatch: objects cannot be broadcast to a single shape"
                           ) from None


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    shape = broadcast_shapes(*[t._data.shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


# the gradient of a piece of the input: zeros of the input's shape with grad at idx
SliceBackward0 = derivative('SliceBackward0')(_embed_slice)  # narrow, x[a:b]
SelectBackward0 = derivative('SelectBackward0')(_embed_slice)  # select, x[i]
SplitBackward0 = derivative('SplitBackward0')(_embed_slice)
SplitWithSizesBackward0 = derivative('SplitWithSizesBackward0')(_embed_slice)
UnbindBackward0 = derivative('UnbindBackward0')(_embed_slice)


@tensor_op
@_axis_alias
def narrow(input, dim, start, length):
    d = input._data
    if d.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    ax = _wrap_dim(dim, d.ndim)
    if isinstance(start, Tensor):
        start = int(start)
    if start < 0:
        start += d.shape[ax]
    if start < 0 or start + length > d.shape[ax] or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({d.shape[ax]}).")
    idx = (slice(None),) * ax + (slice(start, start + length),)
    return _viewing(_record(SliceBackward0, _writeable_view(d[idx]), (input,), shape=d.shape,
                            idx=idx), input)


@tensor_op
@_axis_alias
def select(input, dim, index):
    d = input._data
    if d.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    ax = _wrap_dim(dim, d.ndim)
    n = d.shape[ax]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(d.shape)} at dimension {dim}")
    idx = (slice(None),) * ax + (index,)
    return _viewing(_record(SelectBackward0, _writeable_view(d[idx + (Ellipsis,)]), (input,),
                            shape=d.shape, idx=idx), input)


@tensor_op
@_axis_alias
def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    n = d.shape[ax]
    size = -(-n // chunks) if n else 0
    if size == 0:  # torch gives `chunks` empty pieces of an empty dim
        return split(input, [0] * chunks, ax)
    return split(input, size, ax)


@tensor_op
def split(tensor, split_size_or_sections, dim=0):
    return _split(tensor, split_size_or_sections, dim, SplitBackward0, SplitWithSizesBackward0)


def _split(tensor, split_size_or_sections, dim, op_size, op_sizes, view=True):
    """split's pieces, recorded under op_size (one size) or op_sizes (a list of sizes);
    torch.unsafe_split's pieces are no views (view=False)."""
    d = tensor._data
    ax = _wrap_dim(dim, d.ndim)
    n = d.shape[ax]
    if isinstance(split_size_or_sections, (int, np.integer)):
        s = int(split_size_or_sections)
        if s <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if s and n else [0]
        op = op_size
    else:
        op = op_sizes
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                f"size at dimension {ax}), but got split_sizes={sizes}")
    out = []
    start = 0
    for s in sizes:
        idx = (slice(None),) * ax + (slice(start, start + s),)
        r = _record(op, d[idx], (tensor,), shape=d.shape, idx=idx)
        out.append(_viewing(r, tensor) if view else r)
        start += s
    return tuple(out)


@tensor_op
@_axis_alias
def tensor_split(input, indices_or_sections, dim=0):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    n = d.shape[ax]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        q, r = divmod(n, k)
        bounds = np.cumsum([0] + [q + 1] * r + [q] * (k - r))
    else:
        idx = [int(i) for i in indices_or_sections]
        bounds = [0] + idx + [n]
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        a, b = min(int(a), n), min(max(int(b), int(a)), n)
        out.append(narrow(input, ax, a, b - a))
    return tuple(out)


@tensor_op
def vsplit(input, indices_or_sections):
    return tensor_split(input, indices_or_sections, 0)


@tensor_op
def hsplit(input, indices_or_sections):
    return tensor_split(input, indices_or_sections, 1 if input.ndim > 1 else 0)


@tensor_op
@_axis_alias
def unbind(input, dim=0):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    out = []
    for i in range(d.shape[ax]):
        idx = (slice(None),) * ax + (i,)
        out.append(_viewing(_record(UnbindBackward0, d[idx + (Ellipsis,)], (input,),
                                    shape=d.shape, idx=idx), input))
    return tuple(out)


@tensor_op(aliases=('moveaxis',))
def movedim(input, source, destination):
    d = input._data
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    src = tuple(_wrap_dim(s, d.ndim) for s in src)
    dst = tuple(_wrap_dim(s, d.ndim) for s in dst)
    if d.ndim == 0:  # dims 0 and -1 of a 0-d tensor: nothing moves
        return permute(input, ())
    order = [i for i in range(d.ndim) if i not in src]
    for s_, t_ in sorted(zip(dst, src)):
        order.insert(s_, t_)
    return permute(input, tuple(order))


moveaxis = movedim


@derivative
def FlipBackward0(grad, dims):
    return grad.flip(dims)


@tensor_op
def flip(input, dims):
    d = input._data
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    axes = tuple(_wrap_dim(x, d.ndim) for x in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"dim {axes[0]} appears multiple times in the list of dims")
    r = np.flip(d, axes).copy() if d.ndim else d.copy()
    return _record(FlipBackward0, r, (input,), dims=axes)


@tensor_op
def fliplr(input):
    return flip(input, 1)


@tensor_op
def flipud(input):
    return flip(input, 0)


@derivative
def RollBackward0(grad, shifts, dims):
    if dims is None:
        return grad.reshape(-1).roll(shifts).reshape(grad.shape)
    return grad.roll(shifts, dims)


@tensor_op
def roll(input, shifts, dims=None):
    d = input._data
    if dims is None:
        r = np.roll(d.reshape(-1), shifts).reshape(d.shape)
        return _record(RollBackward0, r, (input,), shifts=-shifts if isinstance(shifts, int)
                       else tuple(-s for s in shifts), dims=None)
    shifts_t = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims_t = (dims,) if isinstance(dims, int) else tuple(dims)
    r = np.roll(d, shifts_t, tuple(_wrap_dim(x, d.ndim) for x in dims_t))
    return _record(RollBackward0, r, (input,), shifts=tuple(-s for s in shifts_t), dims=dims_t)


@tensor_op
def rot90(input, k=1, dims=(0, 1)):
    return _fused(Rot90Backward0, lambda: _rot90(input, k, dims), (input,), k=k, dims=dims)


@derivative
def Rot90Backward0(grad, k, dims):
    return grad.rot90(-k, dims)


def _rot90(input, k, dims):
    k %= 4
    a, b = dims
    if k == 0:
        return clone(input)
    if k == 1:
        return flip(input, b).transpose(a, b)
    if k == 2:
        return flip(input, (a, b))
    return flip(input, a).transpose(a, b)


@derivative
def CatBackward0(grad, dim, sizes):
    return grad.split(list(sizes), dim)


@autocast('promote')
@_axis_alias
def cat(tensors, dim=0, *, out=None):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(x).__name__}")
    if tensors[0].is_quantized:  # ember/_ops/quantized.py
        return tensors[0]._qcat(tensors, dim)
    # torch skips legacy empty 1-D tensors of shape (0,)
    live = [x for x in tensors if x._data.shape != (0,)]
    if not live:
        live = tensors[:1]
    ref = live[0]._data
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    ax = _wrap_dim(dim, ref.ndim)
    arrays = _promoted_arrays(live)
    try:
        r = _concatenate(arrays, ax)
    except ValueError:
        problem = _cat_shape_problem(arrays, ax)  # NumPy refused them: torch's message says why
        if problem is None:
            raise
        raise RuntimeError(problem) from None
    sizes = tuple(a.shape[ax] for a in arrays)
    return _out(out, _record(CatBackward0, r, tuple(live), dim=ax, sizes=sizes))


def _cat_shape_problem(arrays, ax):
    """torch's message for arrays that cannot be concatenated along ax, or None."""
    ref = arrays[0]
    for i, a in enumerate(arrays):
        if a.ndim != ref.ndim:
            return f"Tensors must have same number of dimensions: got {ref.ndim} and {a.ndim}"
        for j in range(ref.ndim):
            if j != ax and a.shape[j] != ref.shape[j]:
                return (f"Sizes of tensors must match except in dimension {ax}. Expected size "
                        f"{ref.shape[j]} but got size {a.shape[j]} for tensor number {i} in the "
                        "list.")
    return None


def _promoted_arrays(tensors):
    """The tensors' arrays, in their promoted dtype when they differ (cat and stack)."""
    arrays = [x._data for x in tensors]
    d0 = arrays[0].dtype
    for a in arrays:
        if a.dtype != d0:
            rd = tensors[0].dtype
            for x in tensors[1:]:
                rd = _dtype.promote_types(rd, x.dtype)
            return [a.astype(rd._np, copy=False) for a in arrays]
    return arrays


# elements from which a copy (a reshape that cannot view, contiguous(), a concatenation along a
# later axis) runs over ranges of the first axis, one per thread
_COPY_SPLIT = 1 << 18


def _c_copy(d, shape):
    """d's values in a new C-contiguous array of `shape` (what d.reshape(shape) gives when it
    cannot view); large ones copied one range of d's first axis per thread."""
    if d.size < _COPY_SPLIT or d.ndim == 0:
        return d.reshape(shape) if shape != d.shape else np.ascontiguousarray(d)
    out = np.empty(shape, d.dtype)
    whole = out.reshape(d.shape)        # a view: out is contiguous
    map_rows(lambda lo, hi: np.copyto(whole[lo:hi], d[lo:hi]), d.shape[0], d.size // d.shape[0])
    return out


def _concatenate(arrays, ax):
    """np.concatenate(arrays, ax); large C-contiguous ones joined along ax > 0 (U-Net's skip
    connections) one range of the first axis per thread, as the split ops around them lay
    out their batch."""
    total = 0
    for a in arrays:    # (a loop: a generator's sum cost 1-2 us, on a 1 us concatenation)
        total += a.size
    if ax == 0 or total < _COPY_SPLIT or not all(a.flags.c_contiguous for a in arrays):
        return np.concatenate(arrays, axis=ax)
    shape = list(arrays[0].shape)
    shape[ax] = sum(a.shape[ax] for a in arrays)
    r = np.empty(shape, arrays[0].dtype)
    if r.size:
        map_rows(lambda lo, hi: np.concatenate([a[lo:hi] for a in arrays], axis=ax,
                                               out=r[lo:hi]), shape[0], r.size // shape[0])
    return r


concat = concatenate = cat


@autocast('promote')
@_axis_alias
def stack(tensors, dim=0, *, out=None):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(x).__name__}")
    if tensors[0].is_quantized:  # ember/_ops/quantized.py
        return tensors[0]._qcat(tensors, dim, stack=True)
    shape0 = tensors[0]._data.shape
    for i, x in enumerate(tensors):
        if x._data.shape != shape0:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape0)} at entry 0 "
                f"and {list(x._data.shape)} at entry {i}")
    ax = _wrap_dim(dim, len(shape0) + 1)
    if out is not None:
        return cat([unsqueeze(x, ax) for x in tensors], ax, out=out)
    r = _stack_arrays(_promoted_arrays(tensors), ax)
    return _record(StackBackward0, r, tuple(tensors), dim=ax)


def _stack_arrays(arrays, ax):
    """np.stack(arrays, ax), C-contiguous. np.stack expands each array in Python (40 us for
    a DataLoader batch of 64 images); along the first axis one concatenation does it."""
    a0 = arrays[0]
    if ax:
        return np.ascontiguousarray(np.stack(arrays, axis=ax))
    if a0.ndim == 0:                    # a batch of labels
        return np.array(arrays, dtype=a0.dtype)
    return _concatenate(arrays, 0).reshape((len(arrays),) + a0.shape)


@derivative
def StackBackward0(grad, dim):
    return grad.unbind(dim)


def hstack(tensors, *, out=None):
    tensors = atleast_1d(*tensors) if len(tensors) > 1 else (atleast_1d(tensors[0]),)
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    tensors = [atleast_2d(x) for x in tensors]
    return cat(tensors, 0, out=out)


def dstack(tensors, *, out=None):
    tensors = [atleast_3d(x) for x in tensors]
    return cat(tensors, 2, out=out)


def column_stack(tensors, *, out=None):
    tensors = [x.reshape(-1, 1) if x._data.ndim <= 1 else x for x in tensors]
    return cat(tensors, 1, out=out)


def atleast_1d(*tensors):
    res = [x if x._data.ndim >= 1 else reshape(x, (1,)) for x in _flat(tensors)]
    return res[0] if len(res) == 1 else tuple(res)


def atleast_2d(*tensors):
    res = []
    for x in _flat(tensors):
        n = x._data.ndim
        res.append(x if n >= 2 else reshape(x, (1, 1) if n == 0 else (1, x._data.shape[0])))
    return res[0] if len(res) == 1 else tuple(res)


def atleast_3d(*tensors):
    res = []
    for x in _flat(tensors):
        n, s = x._data.ndim, x._data.shape
        if n == 0:
            x = reshape(x, (1, 1, 1))
        elif n == 1:
            x = reshape(x, (1, s[0], 1))
        elif n == 2:
            x = unsqueeze(x, 2)
        res.append(x)
    return res[0] if len(res) == 1 else tuple(res)


def _flat(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tensors[0]
    return tensors


@derivative
def CloneBackward0(grad):
    return grad


@tensor_op
def clone(input, *, memory_format=None):
    return _record(CloneBackward0, input._data.copy(), (input,))


@tensor_op
def contiguous(self, memory_format=None):
    if self._data.flags.c_contiguous:
        return self
    return _record(CloneBackward0, _c_copy(self._data, self._data.shape), (self,))


@tensor_op
def tile(input, dims):
    dims = tuple(dims)
    d = input._data
    if len(dims) < d.ndim:
        dims = (1,) * (d.ndim - len(dims)) + dims
    return repeat(input, *dims)


@derivative
def RepeatBackward0(grad, shape, src_shape, sizes):
    # grad has shape sizes[i] * src_shape[i]; fold each repeated axis and sum it away
    folded = []
    for r, s in zip(sizes, src_shape):
        folded += [r, s]
    g = grad.reshape(tuple(folded)).sum(tuple(range(0, 2 * len(sizes), 2)))
    return g.reshape(shape)


@tensor_op
@_alloc_errors
def repeat(self, *sizes):
    sizes = _size_args(sizes)
    d = self._data
    if len(sizes) < d.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    src = d.reshape((1,) * (len(sizes) - d.ndim) + d.shape)
    r = np.tile(src, sizes)
    return _record(RepeatBackward0, r, (self,), shape=d.shape, src_shape=src.shape,
                   sizes=tuple(sizes))


@derivative
def DiagonalBackwardBackward0(grad, offset, dim1, dim2):
    return grad.diagonal(offset, dim1, dim2)


def _diag_scatter(grad, shape, offset, a, b):
    """The gradient of diagonal(offset, a, b): grad written onto that diagonal of zeros."""
    g = grad._data
    z = np.zeros(shape, dtype=g.dtype)
    nd = len(shape)
    zm = np.moveaxis(z, (a, b), (nd - 2, nd - 1))
    n = g.shape[-1]
    i = np.arange(n)
    rows, cols = (i, i + offset) if offset >= 0 else (i - offset, i)
    zm[..., rows, cols] = g
    return _record(DiagonalBackwardBackward0, z, (grad,), offset=offset, dim1=a, dim2=b)


def _diag_backward(grad, shape, diagonal):
    if len(shape) == 1:
        return grad.diagonal(diagonal)
    return _diag_scatter(grad, shape, diagonal, 0, 1)


# torch's diag is diag_embed (1-D input) or a copy of diagonal (2-D input)
_DiagEmbedBackward0 = derivative('DiagEmbedBackward0')(_diag_backward)
_DiagonalBackward0_copy = derivative('DiagonalBackward0_copy')(_diag_backward)


@tensor_op
def diag(input, diagonal=0):
    d = input._data
    if d.ndim not in (1, 2):
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{d.ndim}D")
    op = _DiagEmbedBackward0 if d.ndim == 1 else _DiagonalBackward0_copy
    return _record(op, np.diag(d, diagonal).copy(), (input,), shape=d.shape, diagonal=diagonal)


@derivative
def DiagonalBackward0(grad, shape, offset, dim1, dim2):
    return _diag_scatter(grad, shape, offset, dim1, dim2)


@tensor_op
def diagonal(input, offset=0, dim1=0, dim2=1):
    d = input._data
    a, b = _wrap_dim(dim1, d.ndim), _wrap_dim(dim2, d.ndim)
    r = np.diagonal(d, offset, a, b)
    if not r.flags.writeable and d.flags.writeable:  # NumPy's diagonal is read-only
        r = _as_view(r, r.shape, r.strides)
    return _viewing(_record(DiagonalBackward0, r, (input,), shape=d.shape, offset=offset,
                            dim1=a, dim2=b), input)


@derivative
def DiagEmbedBackward0(grad, offset, dim1, dim2):
    return grad.diagonal(offset, dim1, dim2)


@tensor_op
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    d = input._data
    n = d.shape[-1] + abs(offset)
    out = np.zeros(d.shape[:-1] + (n, n), dtype=d.dtype)
    i = np.arange(d.shape[-1])
    r0, c0 = (i, i + offset) if offset >= 0 else (i - offset, i)
    out[..., r0, c0] = d
    nd = out.ndim
    a, b = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if (a, b) != (nd - 2, nd - 1):
        out = np.moveaxis(out, (nd - 2, nd - 1), (a, b))
    return _record(DiagEmbedBackward0, np.ascontiguousarray(out), (input,), offset=offset,
                   dim1=a, dim2=b)


@derivative
def TrilBackward0(grad, diagonal):
    return grad.tril(diagonal)


@derivative
def TriuBackward0(grad, diagonal):
    return grad.triu(diagonal)


@tensor_op(inplace=_rebase_inplace)
def tril(input, diagonal=0, *, out=None):
    d = input._data
    if d.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return _out(out, _record(TrilBackward0, np.tril(d, diagonal), (input,), diagonal=diagonal))


@tensor_op(inplace=_rebase_inplace)
def triu(input, diagonal=0, *, out=None):
    d = input._data
    if d.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return _out(out, _record(TriuBackward0, np.triu(d, diagonal), (input,), diagonal=diagonal))


def meshgrid(*tensors, indexing=None):
    tensors = _flat(tensors)
    idx = indexing or 'ij'
    n = len(tensors)
    shape = tuple(t._data.shape[0] if t._data.ndim else 1 for t in tensors)
    if idx == 'xy' and n >= 2:
        shape = (shape[1], shape[0]) + shape[2:]
    out = []
    for i, t in enumerate(tensors):
        pos = i
        if idx == 'xy' and n >= 2 and i < 2:
            pos = 1 - i
        view_shape = [1] * n
        view_shape[pos] = -1
        out.append(expand(reshape(t, tuple(view_shape)), shape))
    return tuple(out)


def squeeze_copy(input, dim=None):
    return clone(squeeze(input, dim))


@tensor_op
def as_strided(input, size, stride, storage_offset=None):
    d = input._data
    item = d.itemsize
    root = d
    while isinstance(root.base, np.ndarray):
        root = root.base
    off = storage_offset if storage_offset is not None else input.storage_offset()
    flat = root.reshape(-1) if root.flags.c_contiguous else root.ravel()
    r = np.lib.stride_tricks.as_strided(flat[off:], shape=tuple(size),
                                        strides=tuple(s * item for s in stride))
    return _wrap(r)


def block_diag(*tensors):
    """The tensors (0-, 1- or 2-d) as blocks along the diagonal of a zero matrix; each block is
    zero-padded to the full width, so gradients flow to every input."""
    mats = [t.reshape(1, -1) if t._data.ndim < 2 else t for t in tensors]
    if not mats:
        return _wrap(np.zeros((1, 0), np.float32))
    cols = sum(m._data.shape[1] for m in mats)
    rd = mats[0].dtype
    for m in mats[1:]:
        rd = _dtype.promote_types(rd, m.dtype)
    rows, c = [], 0
    for m in mats:
        w = m._data.shape[1]
        rows.append(_constant_pad(m.to(rd), [c, cols - c - w], 0))
        c += w
    return cat(rows, 0)


def cartesian_prod(*tensors):
    grids = meshgrid(*tensors, indexing='ij')
    if len(grids) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in grids], 1)


_register_methods(__name__, {
    'T': property(_T), 'mT': property(_mT), 'H': property(lambda self: _T(self).conj()),
    'mH': property(lambda self: _mT(self).conj()),
})


# ---- in-place view ops: self takes the view's shape and, in a graph, its node -----------------
# torch records them under their own names (TBackward1, SqueezeBackward3-5, ...) and bumps the
# version; the result is not a view (no _base), as torch's is not.

def _reshaped_inplace(self, r):
    """Give self the data of `r` (a view of self recorded with self as its input)."""
    self._data = r._data
    self._vc.value += 1
    if r.grad_fn is not None:
        self.grad_fn, self._output_nr = r.grad_fn, r._output_nr
    return self


@tensor_op(name='t_')
def _t_(self):
    _check_inplace(self)
    return _reshaped_inplace(self, _t(self, TBackward1))


@tensor_op(name='squeeze_')
@_axis_alias
def _squeeze_(self, dim=None):
    _check_inplace(self)
    return _reshaped_inplace(self, _squeezed(self, dim, _SQUEEZE[3:]))


@tensor_op(name='unsqueeze_')
@_axis_alias
def _unsqueeze_(self, dim):
    _check_inplace(self)
    return _reshaped_inplace(self, _unsqueezed(self, dim, UnsqueezeBackward1))


@tensor_op(name='transpose_', aliases=('swapaxes_', 'swapdims_'))
def _transpose_(self, dim0, dim1):
    _check_inplace(self)
    return _reshaped_inplace(self, _transposed(self, dim0, dim1, TransposeBackward1))

