"""Tensor.to and Module.to read their arguments with one parser, by torch's overloads: the
same results and the same errors as torch's."""
import warnings

import pytest
import torch

import ember


def _cases(lib):
    t2 = lib.zeros(2, dtype=lib.float64)
    return [
        ((), {}), ((lib.float64,), {}), ((t2,), {}), (('cpu', lib.float64), {}),
        ((None,), {}), (('cpu', None), {}), ((lib.int64,), {}),
        ((), {'dtype': lib.float64, 'copy': True}), ((), {'copy': False}),
        ((lib.float64,), {'memory_format': lib.contiguous_format}),
        (('cpu',), {'non_blocking': True}), ((lib.device('cpu'), lib.float16, False, True), {}),
        ((lib.float64, False, False), {}),
        # errors
        ((), {'foo': 1}), ((), {'a': 1, 'b': 2}), (('cpu', 'cpu'), {}),
        ((lib.float64, 'cpu'), {}), (([1],), {}), (('cpu', lib.float64, True, True, 1), {}),
        ((lib.float64,), {'device': 'cpu'}), ((t2,), {'dtype': lib.float64}),
        ((lib.float64, True, True, True), {}), ((lib.float64, 'x'), {'copy': True}),
        ((lib.float64,), {'a': 1, 'b': 2}), ((0,), {}), (('cuda',), {}),
    ]


def _outcome(lib, obj, args, kwargs):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            r = obj.to(*args, **kwargs)
    except Exception as e:  # the error is the outcome compared
        return type(e).__name__, str(e)
    dtype = r.dtype if isinstance(r, lib.Tensor) else next(r.parameters()).dtype
    return 'ok', str(dtype)


@pytest.mark.parametrize('kind', ['tensor', 'module'])
@pytest.mark.parametrize('i', range(len(_cases(torch))))
def test_to_arguments_as_torch(kind, i):
    results = []
    for lib in (torch, ember):
        obj = lib.ones(2) if kind == 'tensor' else lib.nn.Linear(2, 2)
        args, kwargs = _cases(lib)[i]
        results.append(_outcome(lib, obj, args, kwargs))
    assert results[1] == results[0]
