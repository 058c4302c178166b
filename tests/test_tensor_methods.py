"""Tensor's methods are declared by the op modules (`tensor_op` beside each function) into one
registry, `ember._tensor._DECLARED`, that attaches them: every declared name is on Tensor as
declared, and no name is declared twice."""
import ast
import os
import re

import numpy as np
import pytest
import torch

import ember
from ember import _tensor
from ember._tensor import Tensor, _DECLARED, tensor_op

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_declared_name_is_on_tensor_as_declared():
    assert len(_DECLARED) > 400
    for name, (module, obj) in _DECLARED.items():
        assert Tensor.__dict__.get(name) is obj, name  # nothing replaced it afterwards
        assert module and module.startswith('ember.'), (name, module)


def test_a_second_declaration_of_a_name_is_refused():
    def sum(input):  # noqa: A001 - the name under test
        return input
    with pytest.raises(RuntimeError, match=r'Tensor\.sum is declared twice'):
        tensor_op(sum)
    assert Tensor.sum is _DECLARED['sum'][1]
    with pytest.raises(RuntimeError, match=r'Tensor\.__add__ is declared twice'):
        tensor_op(sum, method=False, dunder=('__add__',))


def test_declarations_do_not_shadow_the_class_body():
    tree = ast.parse(open(_tensor.__file__, encoding='utf-8').read())
    body = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == 'Tensor')
    own = {n.name for n in body.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    own |= {t.id for n in body.body if isinstance(n, ast.Assign) for t in n.targets
            if isinstance(t, ast.Name)}
    assert not own & set(_DECLARED), sorted(own & set(_DECLARED))


# the op modules declare through the registry; none assigns to Tensor directly
_DIRECT = re.compile(r'^\s*(setattr\(Tensor\b|Tensor\.\w+\s*=[^=])', re.M)


def test_op_modules_declare_their_methods():
    direct = set()
    for fname in os.listdir(os.path.join(ROOT, 'ember', '_ops')):
        if fname.endswith('.py'):
            src = open(os.path.join(ROOT, 'ember', '_ops', fname), encoding='utf-8').read()
            if _DIRECT.search(src):
                direct.add(fname)
    assert direct == set()


def test_aliases_and_inplace_variants_share_one_function():
    # one declaration gives the method, its aliases, operators and in-place variants
    assert Tensor.sub is Tensor.subtract is ember.sub
    assert Tensor.sub_ is Tensor.subtract_
    assert Tensor.asin is Tensor.arcsin and Tensor.asin_ is Tensor.arcsin_
    assert Tensor.transpose_ is Tensor.swapaxes_ is Tensor.swapdims_
    assert _DECLARED['__isub__'][0] == 'ember._ops.elementwise'


@pytest.mark.parametrize('name', ['arccosh_', 'arcsinh_', 'arctanh_', 'arctan2_', 'swapaxes_',
                                  'swapdims_', 'float_power_', 'heaviside_', 'cumprod_',
                                  'addmm_', 'addmv_', 'addr_', 'baddbmm_', 'addbmm_', 'tril_',
                                  'cumsum_', 'xlogy_', 'ne_', 'not_equal_', 'sgn_', 'fix_'])
def test_inplace_variants_match_torch(name):
    rng = np.random.default_rng(0)
    base = name.rstrip('_')
    square = rng.uniform(1.1, 2.0, (3, 3))
    args = {
        'arccosh': [], 'arcsinh': [], 'arctanh': None, 'arctan2': [square], 'swapaxes': [0, 1],
        'swapdims': [0, 1], 'float_power': [2.0], 'heaviside': [square], 'cumprod': [1],
        'addmm': [square, square], 'addmv': None, 'addr': None, 'baddbmm': None, 'addbmm': None,
        'tril': [], 'cumsum': [0], 'xlogy': [square], 'ne': [square], 'not_equal': [square],
        'sgn': [], 'fix': []}[base]
    x = square.copy()
    if base == 'arctanh':
        x, args = x / 4, []
    elif base == 'addmv':
        x, args = x[0], [square, square[0]]
    elif base == 'addr':
        args = [square[0], square[1]]
    elif base in ('baddbmm', 'addbmm'):
        b = rng.uniform(0, 1, (2, 3, 3))
        x = x[None].repeat(2, 0) if base == 'baddbmm' else x
        args = [b, b]
    results = []
    for lib in (ember, torch):
        t = lib.tensor(x)
        out = getattr(t, name)(*[lib.tensor(a) if isinstance(a, np.ndarray) else a
                                 for a in args])
        assert out is t
        results.append(t.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
