"""gradcheck / gradgradcheck: analytical gradients against central finite differences."""
import warnings

import numpy as np

from .._ops.creation import zeros_like
from .graph import grad as agrad
from .._tensor import Tensor
from .._ops.random import randn_like

__all__ = ['gradcheck', 'gradgradcheck', 'GradcheckError']


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _differentiable_outputs(outputs):
    return tuple(o for o in outputs if hasattr(o, '_data') and o._requires_grad)


def _numerical_jacobian(fn, inputs, idx, eps):
    """d(flattened outputs)/d(inputs[idx]) by central differences, as a (n_in, n_out) array."""
    x = inputs[idx]
    flat = x._data.reshape(-1)  # a view: perturb in place
    cols = []
    for k in range(flat.size):
        orig = flat[k]
        flat[k] = orig + eps
        plus = [o._data.astype(np.float64).reshape(-1).copy() for o in _outs(fn, inputs)]
        flat[k] = orig - eps
        minus = [o._data.astype(np.float64).reshape(-1).copy() for o in _outs(fn, inputs)]
        flat[k] = orig
        cols.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
                    if plus else np.zeros(0))
    return np.stack(cols) if cols else np.zeros((0, 0))


def _outs(fn, inputs):
    # not under no_grad: the function may itself differentiate (gradgradcheck)
    return tuple(o.detach() for o in _as_tuple(fn(*inputs)) if hasattr(o, '_data'))


def _analytical_jacobian(fn, inputs, idx_list):
    outputs = _differentiable_outputs(_as_tuple(fn(*inputs)))
    n_out = sum(o._data.size for o in outputs)
    jac = {i: np.zeros((inputs[i]._data.size, n_out)) for i in idx_list}
    col = 0
    for o in outputs:
        for k in range(o._data.size):
            g = zeros_like(o)
            g._data[np.unravel_index(k, g._data.shape)] = 1     # k in logical (C) order
            res = agrad((o,), tuple(inputs[i] for i in idx_list), (g,), retain_graph=True,
                        allow_unused=True)
            for i, r in zip(idx_list, res):
                if r is not None:
                    jac[i][:, col] = r._data.astype(np.float64).reshape(-1)
            col += 1
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """True when func's autograd gradients match finite differences for every input."""
    inputs = _as_tuple(inputs)
    idx_list = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]
    if not idx_list:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    for i in idx_list:
        if inputs[i]._data.dtype != np.float64:
            warnings.warn("Input #%d requires gradient and is not a double precision floating "
                          "point. This check will likely fail if all the inputs are not of "
                          "double precision floating point. " % i)
    analytical = _analytical_jacobian(func, inputs, idx_list)
    for i in idx_list:
        numerical = _numerical_jacobian(func, inputs, i, eps)
        a = analytical[i]
        if numerical.shape != a.shape:
            numerical = numerical.reshape(a.shape)
        if not np.allclose(a, numerical, rtol=rtol, atol=atol):
            if raise_exception:
                raise GradcheckError(
                    f"Jacobian mismatch for output 0 with respect to input {i},\n"
                    f"numerical:{numerical!r}\nanalytical:{a!r}\n")
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """gradcheck of the first-order gradients (differentiated with create_graph=True)."""
    inputs = _as_tuple(inputs)
    outputs = _differentiable_outputs(_as_tuple(func(*inputs)))
    if grad_outputs is None:
        grad_outputs = tuple(randn_like(o).requires_grad_() for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]
    n_in = len(inputs)

    def first_order(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = _differentiable_outputs(_as_tuple(func(*ins)))
        gs = agrad(outs, tuple(ins[i] for i in diff_idx), gos, create_graph=True,
                   allow_unused=True)
        return tuple(g for g in gs if g is not None)
    return gradcheck(first_order, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
