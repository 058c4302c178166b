"""torch's linear-algebra functions from before torch.linalg (lu, lu_solve, lu_unpack,
cholesky_solve, cholesky_inverse, triangular_solve) against torch, with gradients; and the
functions torch 1.9 removed, which raise torch's advice."""
import warnings

import numpy as np
import pytest
import torch

import ember


def _run(lib, A, B):
    a = lib.tensor(A, requires_grad=True)
    b = lib.tensor(B, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        LU, piv = lib.lu(a)
        info = lib.lu(a, get_infos=True).info
    x = lib.lu_solve(b, LU, piv)
    P, L, U = lib.lu_unpack(LU, piv)
    spd = a @ a.mT + 4 * lib.eye(A.shape[-1], dtype=lib.float64)
    C = lib.linalg.cholesky(spd)
    outs = [x, P, L, U, lib.cholesky_solve(b, C), lib.cholesky_inverse(C),
            lib.cholesky_solve(b, C.mT, upper=True), lib.cholesky_inverse(C.mT, upper=True),
            *lib.triangular_solve(b, C, upper=False),
            lib.triangular_solve(b, C.mT, transpose=True).solution,
            lib.triangular_solve(b, C, upper=False, unitriangular=True).solution,
            b.lu_solve(LU, piv), C.cholesky_inverse()]
    sum(o.sum() for o in outs).backward()
    return [o.detach().numpy() for o in outs] + [info.numpy(), piv.numpy(), a.grad.numpy(),
                                                  b.grad.numpy()]


@pytest.mark.parametrize('batch', [(), (2,)])
def test_legacy_functions_match_torch(batch):
    rng = np.random.default_rng(0)
    A = rng.normal(size=batch + (4, 4))
    B = rng.normal(size=batch + (4, 3))
    for e, t in zip(_run(ember, A, B), _run(torch, A, B)):
        assert e.shape == t.shape
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-10)


def test_lu_unpack_parts_and_rectangular():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(3, 5))
    res = []
    for lib in (torch, ember):
        LU, piv = lib.linalg.lu_factor(lib.tensor(A))
        full = lib.lu_unpack(LU, piv)
        no_data = lib.lu_unpack(LU, piv, unpack_data=False)
        no_piv = lib.lu_unpack(LU, piv, unpack_pivots=False)
        res.append([x.numpy() for x in (*full, *no_data, *no_piv)])
    for e, t in zip(*res):
        assert e.shape == t.shape
        np.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('name,args', [('lstsq', 2), ('symeig', 1), ('eig', 1), ('solve', 2),
                                       ('matrix_rank', 1)])
def test_removed_functions_raise_torch_advice(name, args):
    msgs = []
    for lib in (torch, ember):
        with pytest.raises(RuntimeError) as e:
            getattr(lib, name)(*[lib.eye(2)] * args)
        msgs.append(str(e.value))
        if name != 'matrix_rank':
            with pytest.raises(RuntimeError) as e:
                getattr(lib.eye(2), name)(*[lib.eye(2)] * (args - 1))
            msgs.append(str(e.value))
    assert msgs[0].startswith('This function was deprecated since version 1.9')
    assert msgs[:len(msgs) // 2] == msgs[len(msgs) // 2:]
