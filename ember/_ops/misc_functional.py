"""nn.functional entries that are compositions of other ops, and the small helpers and types
torch.nn.functional also exposes."""
from .._enums import pybind_enum
from .._tensor import Tensor
from .creation import empty_like, zeros_like
from .linalg import matmul
from .shape import cat, stack

__all__ = ['gumbel_softmax', 'grouped_mm', 'assert_int_or_pair', 'boolean_dispatch',
           'BroadcastingList1', 'BroadcastingList2', 'BroadcastingList3', 'ScalingType',
           'SwizzleType', 'Tensor']


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Samples from the Gumbel-softmax distribution, drawing as torch does (exponential_)."""
    gumbels = -empty_like(logits).exponential_().log()
    gumbels = (logits + gumbels) / tau
    y_soft = gumbels.softmax(dim)
    if hard:
        index = y_soft.max(dim, keepdim=True)[1]
        y_hard = zeros_like(logits).scatter_(dim, index, 1.0)
        return y_hard - y_soft.detach() + y_soft
    return y_soft


def _group_bounds(offs):
    ends = [int(v) for v in offs.tolist()]
    return list(zip([0] + ends[:-1], ends))


def grouped_mm(mat_a, mat_b, *, offs=None, bias=None, out_dtype=None):
    """One matrix product per group (torch._grouped_mm): a 2D operand is cut into groups along
    its jagged dimension by the int32 end offsets `offs`, a 3D one enumerates its groups."""
    if mat_a.dim() not in (2, 3) or mat_b.dim() not in (2, 3):
        raise RuntimeError("mat_a and mat_b must be 2d or 3d tensors")
    if mat_a.dtype != mat_b.dtype:
        raise RuntimeError("Expected mat_a and mat_b to have the same dtype, but got: "
                           f"{mat_a.dtype} != {mat_b.dtype}")
    jagged = mat_a.dim() == 2 or mat_b.dim() == 2
    if jagged != (offs is not None):
        raise RuntimeError("Have to provide offsets if there is a 2d matrix, or no offset if "
                           "both matrices are 3d")
    if offs is not None and offs.dtype.itemsize != 4:
        raise RuntimeError("Offsets have to be int32")
    if mat_a.dim() == 3 and mat_b.dim() == 3:
        out = matmul(mat_a, mat_b)
    elif mat_a.dim() == 2 and mat_b.dim() == 3:       # rows of a in groups (an MoE forward)
        out = cat([matmul(mat_a[s:e], mat_b[g])
                   for g, (s, e) in enumerate(_group_bounds(offs))]
                  + [zeros_like(mat_a[:mat_a.shape[0] - int(offs[-1])]
                                .matmul(mat_b[0]))], 0)
    elif mat_a.dim() == 3 and mat_b.dim() == 2:       # columns of b in groups
        out = cat([matmul(mat_a[g], mat_b[:, s:e])
                   for g, (s, e) in enumerate(_group_bounds(offs))]
                  + [zeros_like(mat_a[0].matmul(mat_b[:, int(offs[-1]):]))], 1)
    else:                                             # the shared K in groups: (G, M, N)
        out = stack([matmul(mat_a[:, s:e], mat_b[s:e])
                     for s, e in _group_bounds(offs)])
    if bias is not None:
        out = out + bias
    if out_dtype is not None and out.dtype != out_dtype:
        out = out.to(out_dtype)
    return out


def assert_int_or_pair(arg, arg_name, message):
    """AssertionError(message.format(arg_name)) unless arg is an int or a pair."""
    if not (isinstance(arg, int) or len(arg) == 2):
        raise AssertionError(message.format(arg_name))


boolean_dispatched = {}


def boolean_dispatch(arg_name, arg_index, default, if_true, if_false, module_name, func_name):
    """A function that calls if_true or if_false by the boolean argument `arg_name` (found by
    keyword or at position `arg_index`, `default` when absent): how torch defines
    max_pool2d(return_indices=...)."""
    def fn(*args, **kwargs):
        flag = default
        if arg_name in kwargs:
            flag = kwargs[arg_name]
        elif arg_index < len(args):
            flag = args[arg_index]
        return if_true(*args, **kwargs) if flag else if_false(*args, **kwargs)

    if if_true.__doc__ is None and if_false.__doc__ is not None:
        doc = if_true.__doc__ = if_false.__doc__
    elif if_false.__doc__ is None and if_true.__doc__ is not None:
        doc = if_false.__doc__ = if_true.__doc__
    elif if_false.__doc__ is None and if_true.__doc__ is None:
        doc = None
    else:
        raise RuntimeError("only one function can have a docstring")
    fn.__doc__ = doc
    if module_name is not None:
        fn.__module__ = module_name
    if func_name is not None:
        fn.__name__ = func_name
    boolean_dispatched[fn] = {'if_true': if_true, 'if_false': if_false, 'index': arg_index,
                              'default': default, 'arg_name': arg_name}
    return fn


class BroadcastingListCls:
    """TorchScript's `BroadcastingList2[int]` annotations (an int or a list of that length);
    subscripting gives None in eager Python, as on torch."""

    def __getitem__(self, types):
        return None


BroadcastingList1 = BroadcastingList2 = BroadcastingList3 = BroadcastingListCls()


# the scaling recipes and swizzles of torch's scaled_mm (float8 GEMMs, which ember lacks)
ScalingType = pybind_enum('_ScalingType', [('TensorWise', 0), ('RowWise', 1), ('BlockWise1x16', 2),
                                           ('BlockWise1x32', 3), ('BlockWise1x128', 4),
                                           ('BlockWise128x128', 5)], 'ember.nn.functional')
SwizzleType = pybind_enum('_SwizzleType', [('NO_SWIZZLE', 0), ('SWIZZLE_32_4_4', 1)],
                          'ember.nn.functional')
