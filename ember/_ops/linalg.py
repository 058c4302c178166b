"""Linear algebra: matmul and its relatives, einsum, norms, and the ember.linalg functions."""
import importlib

import numpy as np

from .. import _dtype, _threads
from .._tensor import Tensor, _wrap, _wrap_dim, tensor_op
from ..autograd.graph import _record, _RESULT, derivative, _needs_grad
from ._util import (_with_out, _arr, _out, _legacy, _dims, _keep, _fused, _times, _unreduce,
                    _rebase_inplace, _nograph)
from .creation import eye
from .shape import cat, _unsafe_view
from ._autocast import autocast, _cpu as _autocast_state


def _sparse_matmul(*args, **kwargs):
    """A product with a sparse operand: ember/_ops/sparse.py computes it (that family loads on
    first use, and a sparse tensor exists only once it has)."""
    return importlib.import_module('ember._ops.sparse')._matmul(*args, **kwargs)


__all__ = ['matmul', 'mm', 'bmm', 'mv', 'dot', 'vdot', 'inner', 'outer', 'ger', 'addmm',
           'addmv', 'addbmm', 'baddbmm', 'addr', 'einsum', 'tensordot', 'cross', 'trace',
           'kron', 'det', 'inverse', 'logdet', 'slogdet', 'chain_matmul']


def _mm(a, b):
    """np.matmul in the operands' dtype: ml_dtypes' bfloat16 matmul accumulates and returns
    float32, so round once, as torch's bfloat16 matmul does."""
    r = _threads.matmul(a, b)
    return r if r.dtype == a.dtype else r.astype(a.dtype)


def _shape_str(s):
    return 'x'.join(str(x) for x in s)


def _check_float(d, name):
    if d.dtype.kind == 'b':
        raise RuntimeError(f'"{name}" not implemented for \'Bool\'')


def _same_dtype(a, b, what='mat1 and mat2'):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected {what.split(' and ')[0]} and {what.split(' and ')[1]} to "
                           f"have the same dtype, but got: {_torch_name(a._data.dtype)} != "
                           f"{_torch_name(b._data.dtype)}")


def _torch_name(np_dtype):
    return {'float32': 'float', 'float64': 'double', 'float16': 'c10::Half', 'int64': 'long int',
            'int32': 'int', 'bfloat16': 'c10::BFloat16', 'bool': 'bool', 'uint8': 'unsigned char',
            'int16': 'short int', 'int8': 'signed char'}.get(np_dtype.name, np_dtype.name)


def _scalar_type(np_dtype):
    """torch's ScalarType name, as in 'expected scalar type Float but found Long'."""
    return {'float32': 'Float', 'float64': 'Double', 'float16': 'Half', 'bfloat16': 'BFloat16',
            'int64': 'Long', 'int32': 'Int', 'int16': 'Short', 'int8': 'Char', 'uint8': 'Byte',
            'bool': 'Bool', 'complex64': 'ComplexFloat',
            'complex128': 'ComplexDouble'}.get(np_dtype.name, np_dtype.name)


def _column_major(d):
    """A matrix laid out by columns (a transposed C array): torch computes its gradient in
    that layout (mm_mat1_backward / mm_mat2_backward)."""
    return d.strides[0] == d.itemsize and not d.flags.c_contiguous


def _mm_grads(grad, mat1, mat2, alpha=1, first=0):
    """The gradients of alpha * mat1 @ mat2 for mat1 and mat2, each only where its input needs
    one (torch's output mask; they are inputs `first` and `first + 1` of the node); with no graph to build in NumPy, each in its operand's layout,
    so that a transposed weight's gradient (F.linear) comes back contiguous after its t()."""
    need1, need2 = _needs_grad(first), _needs_grad(first + 1)
    if _nograph() and not (grad._sparse or mat1._sparse or mat2._sparse):
        g, a, b = grad._data, mat1._data, mat2._data
        g1 = g2 = None
        if need1:
            g1 = _mm(b, g.T).T if _column_major(a) else _mm(g, b.T)
            if alpha != 1:
                g1 = g1 * alpha
            g1 = _wrap(g1)
        if need2:
            g2 = _mm(g.T, a).T if _column_major(b) else _mm(a.T, g)
            if alpha != 1:
                g2 = g2 * alpha
            g2 = _wrap(g2)
        return g1, g2
    return (_times(grad.mm(mat2.t()), alpha) if need1 else None,
            _times(mat1.t().mm(grad), alpha) if need2 else None)


@derivative
def MmBackward0(grad, self, mat2):
    return _mm_grads(grad, self, mat2)


def _operand_ranks(x, y, ndim, names, what):
    """mm/bmm: both operands' arrays, each of rank `ndim` (torch's message names the first
    that is not)."""
    for t, name in zip((x, y), names):
        if t._data.ndim != ndim:
            raise RuntimeError(f"{name} must be {what}")
    return x._data, y._data


@tensor_op
@autocast('lower')
def mm(input, mat2, *, out=None):
    a, b = _operand_ranks(input, mat2, 2, ('self', 'mat2'), 'a matrix')
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(a.shape)} "
                           f"and {_shape_str(b.shape)})")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_torch_name(a.dtype)} != {_torch_name(b.dtype)}")
    try:
        r = _mm(a, b)
    except NotImplementedError:  # a sparse operand (its values refuse NumPy)
        r = _sparse_matmul(input, mat2, sparse_result=out is None)
        if not isinstance(r, np.ndarray):
            return r  # sparse @ sparse: a sparse tensor
    return _out(out, _record(MmBackward0, r, (input, mat2), self=input, mat2=mat2))


# mm as defined, in a tuple: the profiler and __torch_function__ replace the module's `mm`
# (and any module global holding the same function), and then matmul must call it
_MM = (mm,)


def _mm_2d(input, other):
    """input @ other for two plain 2-D arrays that mm accepts: mm's own work without its
    layers of argument checks; None for anything else (or when mm is wrapped), which takes
    the full path with its errors."""
    a = input._data
    b = other._data
    if a.__class__ is not np.ndarray or b.__class__ is not np.ndarray or a.ndim != 2 or \
            b.ndim != 2 or a.shape[1] != b.shape[0] or a.dtype != b.dtype or mm is not _MM[0]:
        return None
    return _record(MmBackward0, _mm(a, b), (input, other), self=input, mat2=other)


def _matmul_operator(fn):
    """Tensor.__matmul__: two plain matrices go straight to mm outside autocast, anything
    else to fn (matmul under its autocast policy); an operand that is no tensor (an ndarray,
    a list, a number) gives NotImplemented, as torch's operator does."""
    def __matmul__(self, other):
        if not isinstance(other, Tensor):
            return NotImplemented  # torch's operator turns its TypeError into this too
        if _autocast_state.fast is None:
            r = _mm_2d(self, other)
            if r is not None:
                return r
        return fn(self, other)
    __matmul__.__qualname__ = 'Tensor.__matmul__'
    __matmul__._refuses_ndarray = True  # _tensor._TensorMeta: no second ndarray check
    return __matmul__


def _matmul_backward(grad, self, other):
    if other.ndim == 1:  # (..., m, k) @ (k,) -> (..., m)
        g = grad.unsqueeze(-1)
        return g * other, (self * g).reshape(-1, other.shape[0]).sum(0)
    if self.ndim == 1:  # (k,) @ (..., k, n) -> (..., n)
        g = grad.unsqueeze(-2)
        return other.matmul(g.mT).squeeze(-1), self.unsqueeze(-1) * g
    return grad.matmul(other.mT), self.mT.matmul(grad)


# torch's matmul ends with a view of its folded bmm/mm; (k,) @ (k, n) squeezes a (1, n) mm
UnsafeViewBackward0 = derivative('UnsafeViewBackward0')(_matmul_backward)
SqueezeBackward4 = derivative('SqueezeBackward4')(_matmul_backward)


@tensor_op(dunder=('__matmul__',), dunder_wrap=_matmul_operator)
@autocast('lower')
def matmul(input, other, *, out=None):
    if out is None and isinstance(other, Tensor):
        r = _mm_2d(input, other)
        if r is not None:
            return r
    if input.is_nested:  # its own method (ember/nested)
        return input.matmul(other)
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_torch_name(a.dtype)} != {_torch_name(b.dtype)}")
    if a.ndim == 2 and b.ndim == 2:
        return mm(input, other, out=out)
    if a.ndim == 1 and b.ndim == 1:
        return dot(input, other, out=out)
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        if b.ndim == 1:
            raise RuntimeError(f"size mismatch, got input ({a.shape[-2] if a.ndim > 1 else 1}), "
                               f"mat ({_shape_str(a.shape[-2:])}), vec ({b.shape[0]})")
        if a.ndim <= 2 and b.ndim <= 2:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                               f"({_shape_str(a.shape if a.ndim == 2 else (1,) + a.shape)} and "
                               f"{_shape_str(b.shape)})")
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{a.shape[0] if a.ndim > 2 else 1}, {k_a}] but got: "
            f"[{b.shape[0] if b.ndim > 2 else 1}, {k_b}].")
    try:
        r = _mm(a, b)
    except NotImplementedError:  # a sparse operand (its values refuse NumPy)
        r = _sparse_matmul(input, other)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({a.shape[-3] if a.ndim > 2 else 1}) must match the size of "
            f"tensor b ({b.shape[-3] if b.ndim > 2 else 1}) at non-singleton dimension "
            f"{max(a.ndim, b.ndim) - 3}") from None
    if a.ndim == 2 and b.ndim == 1:
        return _out(out, _record(MvBackward0, _arr(r), (input, other), self=input, vec=other))
    # torch: (k,) @ (k, n) is an mm of (1, k) whose result is squeezed
    op = SqueezeBackward4 if a.ndim == 1 and b.ndim == 2 else UnsafeViewBackward0
    return _out(out, _record(op, _arr(r), (input, other), self=input, other=other))


@tensor_op(method=False, dunder=('__rmatmul__',))
def _rmatmul(self, other):
    return matmul(other, self)


@derivative
def BmmBackward0(grad, self, mat2):
    return grad.bmm(mat2.transpose(1, 2)), self.transpose(1, 2).bmm(grad)


@tensor_op
@autocast('lower')
def bmm(input, mat2, *, out=None):
    if input.is_nested:  # its own method (ember/nested)
        return input.bmm(mat2)
    a, b = _operand_ranks(input, mat2, 3, ('batch1', 'batch2'), 'a 3D tensor')
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    if a.dtype != b.dtype:  # torch does not promote here (NumPy would, silently)
        raise RuntimeError(f"expected scalar type {_scalar_type(a.dtype)} but found "
                           f"{_scalar_type(b.dtype)}")
    return _out(out, _record(BmmBackward0, _mm(a, b), (input, mat2), self=input,
                             mat2=mat2))


@derivative
def MvBackward0(grad, self, vec):
    return grad.unsqueeze(-1) * vec, ((self * grad.unsqueeze(-1)).sum(-2) if self.ndim > 2
                                      else self.t().mv(grad))


@tensor_op
def mv(input, vec, *, out=None):
    a, b = input._data, vec._data
    if a.ndim != 2 or b.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {b.ndim}, {a.ndim}, "
                           f"{b.ndim}")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat "
                           f"({_shape_str(a.shape)}), vec ({b.shape[0]})")
    if a.dtype != b.dtype:  # torch runs addmv into a result of vec's dtype
        va, ma = _scalar_type(b.dtype), _scalar_type(a.dtype)
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {va}, {ma}, "
                           f"and {va}")
    try:
        r = _mm(a, b)
    except NotImplementedError:  # a sparse operand (its values refuse NumPy)
        r = _sparse_matmul(input, vec)
    return _out(out, _record(MvBackward0, r, (input, vec), self=input, vec=vec))


@derivative
def DotBackward0(grad, self, tensor):
    return grad * tensor, grad * self


@tensor_op
def dot(input, tensor, *, out=None):
    a, b = input._data, tensor._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] "
            f"to have the same number of elements, but got {a.shape[0]} and {b.shape[0]} "
            "elements respectively")
    if a.dtype != b.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_legacy(a.dtype)} and {_legacy(b.dtype)}")
    return _out(out, _record(DotBackward0, _arr(np.dot(a, b)), (input, tensor), self=input,
                             tensor=tensor))


@tensor_op
def vdot(input, other, *, out=None):
    return dot(input.conj(), other, out=out)


@tensor_op
def inner(input, other, *, out=None):
    if input._data.ndim == 0 or other._data.ndim == 0:
        return _out(out, input * other)
    return _out(out, tensordot(input, other, ([-1], [-1])))


@tensor_op(aliases=('ger',))
def outer(input, vec2, *, out=None):
    return _out(out, input.reshape(-1, 1) * vec2.reshape(1, -1))


ger = outer


@derivative
def AddmmBackward0(grad, mat1, mat2, beta, alpha):
    return (_times(grad, beta),) + _mm_grads(grad, mat1, mat2, alpha, first=1)


@tensor_op(inplace=_rebase_inplace)
@autocast('lower')
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    a, b = mat1._data, mat2._data
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError("mat1 must be a matrix, got " + f"{a.ndim}-D tensor" if a.ndim != 2
                           else "mat2 must be a matrix, got " + f"{b.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(a.shape)} "
                           f"and {_shape_str(b.shape)})")
    if a.dtype != b.dtype or input._data.dtype != a.dtype:
        bad = b if a.dtype == input._data.dtype else a
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                           f"{_torch_name(a.dtype).title()} and {_torch_name(b.dtype).title()}"
                           if a.dtype != b.dtype else
                           f"self and mat2 must have the same dtype, but got "
                           f"{_torch_name(input._data.dtype).title()} and "
                           f"{_torch_name(b.dtype).title()}")
    if a.dtype.itemsize == 2:           # half types: float32 accumulation, one rounding below
        r = np.matmul(a.astype(np.float32), b.astype(np.float32))
    else:
        try:
            r = _threads.matmul(a, b)
        except NotImplementedError:  # a sparse operand (its values refuse NumPy)
            r = _sparse_matmul(mat1, mat2)
    if alpha != 1:
        r *= alpha
    c = input._data
    try:
        if beta == 1:
            r += c
        elif beta != 0:
            r += beta * c
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor ({r.shape[-1]}) must match the "
                           f"existing size ({c.shape[-1]}) at non-singleton dimension "
                           f"{r.ndim - 1}.  Target sizes: [{', '.join(map(str, r.shape))}].  "
                           f"Tensor sizes: [{', '.join(map(str, c.shape))}]") from None
    return _out(out, _record(AddmmBackward0, r.astype(a.dtype, copy=False), (input, mat1, mat2),
                             mat1=mat1, mat2=mat2, beta=beta, alpha=alpha))


@derivative
def AddmvBackward0(grad, mat, vec, beta, alpha):
    return (_times(grad, beta), _times(grad.unsqueeze(-1) * vec, alpha),
            _times(mat.t().mv(grad), alpha))


@tensor_op(inplace=_rebase_inplace)
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    def compute():
        return input * beta + mv(mat, vec) * alpha if (beta, alpha) != (1, 1) \
            else input + mv(mat, vec)
    return _out(out, _fused(AddmvBackward0, compute, (input, mat, vec), mat=mat, vec=vec,
                            beta=beta, alpha=alpha))


def _bmm_grads(grad, batch1, batch2, alpha):
    """The gradients of alpha * bmm(batch1, batch2) for batch1 and batch2."""
    return _times(grad.bmm(batch2.mT), alpha), _times(batch1.mT.bmm(grad), alpha)


@derivative
def AddbmmBackward0(grad, batch1, batch2, beta, alpha):
    g = grad.unsqueeze(0).expand((batch1.shape[0],) + tuple(grad.shape))
    return (_times(grad, beta),) + _bmm_grads(g, batch1, batch2, alpha)


@tensor_op(inplace=_rebase_inplace)
@autocast('lower')
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    return _add_bmm(AddbmmBackward0, input, batch1, batch2, beta, alpha, out, True)


def _add_bmm(node, input, batch1, batch2, beta, alpha, out, batch_sum):
    """beta * input + alpha * bmm(batch1, batch2) (summed over the batch for addbmm), as one
    node."""
    def compute():
        prod = bmm(batch1, batch2)
        prod = prod.sum(0) if batch_sum else prod
        return (input * beta if beta != 1 else input) + (prod * alpha if alpha != 1 else prod)
    return _out(out, _fused(node, compute, (input, batch1, batch2), batch1=batch1,
                            batch2=batch2, beta=beta, alpha=alpha))


@derivative
def BaddbmmBackward0(grad, batch1, batch2, beta, alpha):
    return (_times(grad, beta),) + _bmm_grads(grad, batch1, batch2, alpha)


@tensor_op(inplace=_rebase_inplace)
@autocast('lower')
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    return _add_bmm(BaddbmmBackward0, input, batch1, batch2, beta, alpha, out, False)


@tensor_op(inplace=_rebase_inplace)
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    return _out(out, input * beta + outer(vec1, vec2) * alpha)


def chain_matmul(*matrices, out=None):
    r = matrices[0]
    for m in matrices[1:]:
        r = mm(r, m)
    return _out(out, r)


# ---- einsum and tensordot ---------------------------------------------------------------------

_LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'


def _parse_einsum(eq, shapes):
    """Normalise an equation to explicit form with '...' replaced by letters."""
    eq = eq.replace(' ', '')
    if '->' in eq:
        lhs, rhs = eq.split('->')
    else:
        lhs, rhs = eq, None
    ins = lhs.split(',')
    if len(ins) != len(shapes):
        raise RuntimeError(f"einsum(): more operands were provided than specified in the "
                           f"equation" if len(shapes) > len(ins) else
                           "einsum(): fewer operands were provided than specified in the "
                           "equation")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in _LETTERS if c not in used]
    ell_n = 0
    for s, shp in zip(ins, shapes):
        if '...' in s:
            ell_n = max(ell_n, len(shp) - (len(s) - 3))
    ell = ''.join(free[:ell_n])
    new_ins = []
    for s, shp in zip(ins, shapes):
        if '...' in s:
            k = len(shp) - (len(s) - 3)
            s = s.replace('...', ell[ell_n - k:] if k else '')
        new_ins.append(s)
    if rhs is None:
        counts = {}
        for s in new_ins:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        rhs = ell + ''.join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        rhs = rhs.replace('...', ell)
    return new_ins, rhs


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return _einsum(equation, operands)


def _einsum(equation, operands, node=None):
    """einsum, recording the node `_EINSUM_NODES[node]` (by default the one torch's composite
    for this equation ends with)."""
    shapes = [o._data.shape for o in operands]
    ins, rhs = _parse_einsum(equation, shapes)
    for s, shp in zip(ins, shapes):
        if len(s) != len(shp):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(s)}) does not match "
                f"the number of dimensions ({len(shp)}) for operand {ins.index(s)} and no "
                "ellipsis was given")
    eq = ','.join(ins) + '->' + rhs
    seen = {}
    for k, (s, shp) in enumerate(zip(ins, shapes)):
        for c, n in zip(s, shp):
            if c in seen and n != seen[c] and n != 1 and seen[c] != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which "
                                   f"does not broadcast with previously seen size {seen[c]}")
            if n != 1 or c not in seen:
                seen[c] = n
    arrays = [o._data for o in operands]
    if len({a.dtype for a in arrays}) > 1:
        # torch promotes only while no letter is summed away; a contraction runs through
        # bmm, which wants one dtype
        if set(''.join(ins)) - set(rhs):
            other = next(a.dtype for a in arrays if a.dtype != arrays[0].dtype)
            raise RuntimeError(f"expected scalar type {_scalar_type(arrays[0].dtype)} but found "
                               f"{_scalar_type(other)}")
        rd = operands[0].dtype
        for o in operands[1:]:
            rd = _dtype.promote_types(rd, o.dtype)
        arrays = [a.astype(rd._np) for a in arrays]
    try:
        r = np.einsum(eq, *arrays, optimize=len(arrays) > 2)
    except ValueError as e:
        raise RuntimeError(f"einsum(): {e}") from None
    operands = tuple(operands)
    if node is None:
        node = _einsum_node(ins, rhs)
    return _record(_EINSUM_NODES[node], _arr(r), operands, eq=eq, operands=operands)


def _einsum_node(ins, rhs):
    """The node torch's einsum ends with: it permutes one operand and sums away the letters
    missing from the output; with several operands it multiplies, then views after a
    contraction (bmm)."""
    summed = bool(set(''.join(ins)) - set(rhs))
    if len(ins) == 1:
        return 'sum' if summed else 'permute'
    return 'view' if summed else 'mul'


def _einsum_backward(grad, eq, operands):
    """Every operand's gradient is an einsum of the output's gradient with the others."""
    lhs, rhs = eq.split('->')
    ins = lhs.split(',')
    grads = []
    for i, (sub, op) in enumerate(zip(ins, operands)):
        if not op.requires_grad:
            grads.append(None)
            continue
        others = [o for j, o in enumerate(operands) if j != i]
        other_subs = [s for j, s in enumerate(ins) if j != i]
        # letters of this operand that appear nowhere else are summed away: expand back
        target = ''.join(dict.fromkeys(sub))
        avail = set(rhs) | set(''.join(other_subs))
        missing = [c for c in target if c not in avail]
        tgt = ''.join(c for c in target if c not in missing)
        g = einsum(','.join([rhs] + other_subs) + '->' + tgt, grad, *others)
        if missing:
            shape = []
            for c in target:
                shape.append(op.shape[sub.index(c)] if c in missing else 1)
            for k, c in enumerate(target):
                if c in missing:
                    g = g.unsqueeze(k)
            g = g.expand(tuple(op.shape[sub.index(c)] for c in target))
        if len(target) != len(sub):
            g = _einsum_diag_embed(g, target, sub, op, eq)
        grads.append(g)
    return tuple(grads)


# einsum's one formula, under the name of the node torch's composite ends with
_EINSUM_NODES = {
    'sum': derivative('SumBackward1')(_einsum_backward),
    'permute': derivative('PermuteBackward0')(_einsum_backward),
    'mul': derivative('MulBackward0')(_einsum_backward),
    'view': derivative('ViewBackward0')(_einsum_backward),
}


def _einsum_diag_embed(g, target, sub, op, eq):
    """Put g (subscripts `target`) back on the diagonals of an operand with repeated letters:
    every repeat of a letter gets a fresh letter tied to the first by an identity matrix."""
    free = iter(c for c in _LETTERS if c not in eq)
    seen, renamed, eyes, eye_subs = set(), [], [], []
    for k, c in enumerate(sub):
        if c in seen:
            fresh = next(free)
            eyes.append(eye(op.shape[k], dtype=g.dtype))
            eye_subs.append(c + fresh)
            renamed.append(fresh)
        else:
            seen.add(c)
            renamed.append(c)
    return einsum(','.join([target] + eye_subs) + '->' + ''.join(renamed), g, *eyes)


@tensor_op
def tensordot(a, b, dims=2, out=None):
    if isinstance(dims, int):
        da = list(range(-dims, 0))
        db = list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    na, nb = a._data.ndim, b._data.ndim
    for x, y in zip(da, db):
        if a._data.shape[x] != b._data.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a._data.shape[x]} in dim {x} and second has size "
                               f"{b._data.shape[y]} in dim {y}")
    da = [d % na for d in da]
    db = [d % nb for d in db]
    la = [_LETTERS[i] for i in range(na)]
    lb = [_LETTERS[na + i] for i in range(nb)]
    for x, y in zip(da, db):
        lb[y] = la[x]
    rhs = ''.join(c for i, c in enumerate(la) if i not in da) + \
        ''.join(c for i, c in enumerate(lb) if i not in db)
    # torch's tensordot is an mm whose result is viewed to the output shape
    return _out(out, _einsum(''.join(la) + ',' + ''.join(lb) + '->' + rhs, (a, b), 'view'))


@tensor_op
def cross(input, other, dim=None):
    if dim is None:
        dim = next(i for i, s in enumerate(input._data.shape) if s == 3)
    ax = _wrap_dim(dim, input._data.ndim)
    i0 = [slice(None)] * input._data.ndim

    def comp(t, k):
        idx = list(i0)
        idx[ax] = slice(k, k + 1)
        return t[tuple(idx)]
    def compute():
        a0, a1, a2 = (comp(input, k) for k in range(3))
        b0, b1, b2 = (comp(other, k) for k in range(3))
        return cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], ax)
    return _fused(LinalgCrossBackward0, compute, (input, other), self=input, other=other,
                  dim=ax - input._data.ndim)


@derivative
def LinalgCrossBackward0(grad, self, other, dim):
    return cross(other, grad, dim), cross(grad, self, dim)


@tensor_op
@autocast('fp32')
def trace(input):
    if input._data.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim "
                           f"{input._data.ndim}")
    return _fused(TraceBackward0, lambda: input.diagonal().sum(), (input,),
                  shape=input._data.shape)


@derivative
def TraceBackward0(grad, shape):
    """The gradient on the diagonal, zero elsewhere."""
    return _keep(grad.expand(shape), np.eye(*shape, dtype=bool))


@tensor_op
def kron(input, other):
    a, b = input, other
    na, nb = a.ndim, b.ndim
    n = max(na, nb)
    a = a.reshape((1,) * (n - na) + tuple(a.shape))
    b = b.reshape((1,) * (n - nb) + tuple(b.shape))
    ai = a.reshape(tuple(x for s in a.shape for x in (s, 1)))
    bi = b.reshape(tuple(x for s in b.shape for x in (1, s)))
    return _unsafe_view(ai * bi, tuple(x * y for x, y in zip(a.shape, b.shape)))


@derivative
def LinalgDetBackward0(grad, self, result):
    return grad.unsqueeze(-1).unsqueeze(-1) * (result.unsqueeze(-1).unsqueeze(-1) *
                                               self.inverse().mT)


@tensor_op
def det(input):
    d = input._data
    r = _arr(np.linalg.det(d).astype(d.dtype))
    return _record(LinalgDetBackward0, r, (input,), self=input, result=_RESULT)


@derivative
def LinalgInvExBackward0(grad, result):
    return -(result.mT.matmul(grad).matmul(result.mT))


@tensor_op
@autocast('fp32')
def inverse(input):
    d = input._data
    try:
        r = np.linalg.inv(d)
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.inv: The diagonal element 1 is zero, the inversion could not "
                           "be completed because the input matrix is singular.") from None
    return _record(LinalgInvExBackward0, r.astype(d.dtype), (input,), result=_RESULT)


@derivative
def LinalgSlogdetBackward0(grad, self):
    return grad.unsqueeze(-1).unsqueeze(-1) * self.inverse().mT


@tensor_op
def slogdet(input):
    s, l = np.linalg.slogdet(input._data)
    sign = _wrap(_arr(s.astype(input._data.dtype)))
    return sign, _record(LinalgSlogdetBackward0, _arr(l.astype(input._data.dtype)), (input,),
                         self=input)


@tensor_op
def logdet(input):
    sign, la = slogdet(input)
    if (sign._data < 0).any():
        return la * float('nan')
    return la


def cdist_mm(x1, x2):
    raise NotImplementedError("cdist_mm")


# ---- norms ------------------------------------------------------------------------------------

def _vector_norm_backward(grad, self, ord, axes, keepdim, result):
    g = grad
    r = result
    if not keepdim and axes is not None:
        for a in axes:
            g = g.unsqueeze(a)
            r = r.unsqueeze(a)
    elif axes is None and g.ndim != self.ndim:
        g = g.reshape((1,) * self.ndim)
        r = r.reshape((1,) * self.ndim)
    if ord == 0:
        return self * 0
    if ord == 1:
        return g * self.sgn()
    if ord == 2:
        return g * self / r.masked_fill(r == 0, float('inf'))
    if ord in (float('inf'), float('-inf')):
        mask = self.abs() == r
        cnt = mask.sum(axes, keepdim=True) if axes is not None else mask.sum()
        return g * self.sgn() * mask / cnt
    return g * self * self.abs().pow(ord - 2) / r.pow(ord - 1).masked_fill(r == 0, float('inf'))


# (pairwise_distance's gradient is the same formula)
LinalgVectorNormBackward0 = derivative('LinalgVectorNormBackward0')(_vector_norm_backward)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    d = x._data
    if dtype is not None:
        d = d.astype(_dtype.to_numpy(dtype))
    if d.dtype.kind not in 'fc':
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_legacy(d.dtype)}")
    axes = None if dim is None else _dims(dim, d.ndim)
    a = np.abs(d)
    ordf = float(ord)
    if ordf in (np.inf, -np.inf) and a.size == 0:
        # max/min have no identity: torch refuses an empty reduction
        name = 'inf' if ordf > 0 else '-inf'
        if axes is None:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {name} norm on an empty "
                               f"tensor because the operation does not have an identity")
        for ax in axes:
            if d.shape[ax] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {name} norm on the "
                                   f"dimension {ax}because this dimension is empty and the "
                                   f"operation does not have an identity")
    if ordf == np.inf:
        r = np.max(a, axis=axes, keepdims=keepdim)
    elif ordf == -np.inf:
        r = np.min(a, axis=axes, keepdims=keepdim)
    elif ordf == 0:
        r = np.sum(a != 0, axis=axes, keepdims=keepdim).astype(a.dtype)
    elif ordf == 1:
        r = np.sum(a, axis=axes, keepdims=keepdim)
    elif ordf == 2:
        r = np.sqrt(np.sum(a * a, axis=axes, keepdims=keepdim))
    else:
        r = np.sum(a ** ordf, axis=axes, keepdims=keepdim) ** (1.0 / ordf)
    if dim is None and keepdim:
        r = np.reshape(r, (1,) * d.ndim)
    r = _arr(np.asarray(r).astype(a.dtype, copy=False))
    return _out(out, _record(LinalgVectorNormBackward0, r, (x,), self=x, ord=ordf, axes=axes,
                             keepdim=keepdim, result=_RESULT))


def matrix_norm(A, ord='fro', dim=(-2, -1), keepdim=False, *, dtype=None):
    if ord == 'fro':
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    d = A._data
    if d.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                           f"dimensions.")
    a0, a1 = (x % d.ndim for x in dim)
    if ord in ('nuc', 2, -2):
        return _svd_norm(A, ord, a0, a1, keepdim)
    absA = A.abs()
    if ord in (1, -1):
        colsum = absA.sum(a0, keepdim=True)
        r = colsum.amax(a1, keepdim=True) if ord == 1 else colsum.amin(a1, keepdim=True)
    elif ord in (float('inf'), float('-inf')):
        rowsum = absA.sum(a1, keepdim=True)
        r = rowsum.amax(a0, keepdim=True) if ord > 0 else rowsum.amin(a0, keepdim=True)
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if not keepdim:
        r = r.squeeze((a0, a1))
    return r


@derivative
def LinalgSvdBackward0(grad, direction, axes, keepdim, A, ord):
    if not _nograph():
        # create_graph: the direction depends on A, so it is rebuilt from a recorded SVD (its
        # own backward is first-order only: third derivatives are refused there)
        decomp = importlib.import_module('ember._ops.decomp')   # cycle: decomp imports us
        u, s, vh = decomp._svd(A.movedim(axes, (-2, -1)), full_matrices=False)
        direction = _svd_direction(u, s, vh, ord).movedim((-2, -1), axes)
    return _unreduce(grad, direction.shape, axes, keepdim) * direction


def _svd_direction(u, s, vh, ord):
    """The gradient of the nuclear norm (U V^H) or of the spectral norm (the outer product of
    the largest or smallest singular pair) from a thin SVD; NumPy arrays or tensors."""
    if ord == 'nuc':
        return u @ vh
    s_np = s._data if isinstance(s, Tensor) else s
    k = np.expand_dims(np.argmax(s_np, -1) if ord == 2 else np.argmin(s_np, -1), -1)
    if isinstance(u, Tensor):
        uk = u.gather(-1, _wrap(np.broadcast_to(k[..., None, :], u.shape[:-1] + (1,)).copy()))
        vk = vh.gather(-2, _wrap(np.broadcast_to(k[..., :, None], vh.shape[:-2] + (1,) +
                                                 vh.shape[-1:]).copy()))
    else:
        uk = np.take_along_axis(u, k[..., None, :], -1)        # (..., m, 1)
        vk = np.take_along_axis(vh, k[..., :, None], -2)       # (..., 1, n)
    return uk * vk


def _svd_norm(A, ord, a0, a1, keepdim):
    """Nuclear norm (sum of singular values) or spectral norm (largest/smallest one).

    The gradient direction (U V^H, or the outer product of the chosen singular vectors) is
    computed here with the SVD and saved; double backward rebuilds it from a recorded SVD."""
    d = A._data
    u, s, vh = np.linalg.svd(np.moveaxis(d, (a0, a1), (-2, -1)), full_matrices=False)
    if ord == 'nuc':
        r = s.sum(-1)
    else:
        r = (np.max(s, -1) if ord == 2 else np.min(s, -1))
    D = np.moveaxis(_svd_direction(u, s, vh, ord), (-2, -1), (a0, a1)).astype(d.dtype)
    axes = tuple(sorted((a0, a1)))
    if keepdim:
        r = np.expand_dims(r, axes)
    return _record(LinalgSvdBackward0, _arr(r.astype(d.dtype)), (A,), direction=_wrap(D),
                   axes=axes, keepdim=keepdim, A=A, ord=ord)


def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        return _out(out, vector_norm(A, 2, dim, keepdim, dtype=dtype))
    if isinstance(ord, str) or (dim is not None and len(dim) == 2) or \
            (dim is None and A.ndim == 2):
        return _out(out, matrix_norm(A, ord, dim if dim is not None else (-2, -1), keepdim,
                                     dtype=dtype))
    return _out(out, vector_norm(A, ord, dim, keepdim, dtype=dtype))


@derivative
def LinalgSolveExBackward0(grad, A, X, vec):
    g = grad.unsqueeze(-1) if vec else grad
    x = X.unsqueeze(-1) if vec else X
    gB = solve(A.mT, g)
    gA = -gB.matmul(x.mT)
    return gA, gB.squeeze(-1) if vec else gB


def solve(A, B, *, left=True, out=None):
    if not left:   # X A = B  <=>  A^T X^T = B^T
        return _out(out, solve(A.mT, B.mT).mT)
    a, b = A._data, B._data
    vec = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    bb = b[..., None] if vec else b
    try:
        x = np.linalg.solve(a, bb)
    except np.linalg.LinAlgError:
        raise RuntimeError("torch.linalg.solve: The solver failed because the input matrix is "
                           "singular.") from None
    if vec:
        x = x[..., 0]
    return _out(out, _record(LinalgSolveExBackward0, x.astype(a.dtype), (A, B), A=A, X=_RESULT,
                             vec=vec))


def _la_wrap(name, fn):
    def op(A, *args, **kwargs):
        res = fn(A._data, *args, **kwargs)
        if isinstance(res, tuple):
            return tuple(_wrap(_arr(np.asarray(r))) for r in res)
        return _wrap(_arr(np.asarray(res)))
    op.__name__ = name
    return op


@_with_out
def _matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None):
    return _wrap(_arr(np.asarray(np.linalg.matrix_rank(A._data, hermitian=hermitian),
                                 dtype=np.int64)))

