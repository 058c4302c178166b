"""torch's functional kernel entry points (ember/_ops/native.py) against torch: native norms and
dropout, convolution/conv_tbc/mkldnn_convolution, the recurrent stacks (padded and packed) and
cells, and the kernels a CPU torch refuses."""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

from .op_db import OpInfo, Sample, make  # noqa: E402
from ._compare import assert_same, run_both  # noqa: E402
from . import test_ops as _t  # noqa: E402

warnings.filterwarnings('ignore', category=UserWarning)


def _bn_samples(rng, dt):
    return [Sample(make(rng, (4, 3), dt), make(rng, (3,), dt), make(rng, (3,), dt), None, None,
                   True, 0.1, 1e-5),
            Sample(make(rng, (4, 3, 5), dt), make(rng, (3,), dt), make(rng, (3,), dt),
                   np.zeros(3, dt), np.ones(3, dt), True, 0.1, 1e-5),
            Sample(make(rng, (2, 3, 2, 2), dt), make(rng, (3,), dt), make(rng, (3,), dt),
                   make(rng, (3,), dt), make(rng, (3,), dt, 0.5, 2.0), False, 0.1, 1e-5)]


def _ln_samples(rng, dt):
    return [Sample(make(rng, (2, 3, 4), dt), [4], make(rng, (4,), dt), make(rng, (4,), dt), 1e-5),
            Sample(make(rng, (2, 3, 4), dt), [3, 4], None, None, 1e-3)]


def _conv_samples(rng, dt):
    return [Sample(make(rng, (2, 3, 7), dt), make(rng, (4, 3, 2), dt), make(rng, (4,), dt),
                   [2], [1], [1], False, [0], 1),
            Sample(make(rng, (1, 4, 5, 5), dt), make(rng, (4, 2, 3, 3), dt), None,
                   [1, 1], [1, 0], [1, 2], False, [0, 0], 2),
            Sample(make(rng, (1, 2, 4, 4), dt), make(rng, (2, 3, 2, 2), dt), make(rng, (3,), dt),
                   [2, 2], [0, 0], [1, 1], True, [1, 1], 1),
            Sample(make(rng, (1, 2, 3, 3, 3), dt), make(rng, (2, 2, 2, 2, 2), dt), None,
                   [1, 1, 1], [0, 0, 0], [1, 1, 1], False, [0, 0, 0], 1)]


def _cell_samples(h, chunks, tuple_state=False):
    def gen(rng, dt):
        out = []
        for bias in (True, False):
            state = (make(rng, (2, h), dt), make(rng, (2, h), dt)) if tuple_state else \
                make(rng, (2, h), dt)
            b = (make(rng, (chunks * h,), dt), make(rng, (chunks * h,), dt)) if bias else ()
            out.append(Sample(make(rng, (2, 3), dt), state, make(rng, (chunks * h, 3), dt),
                              make(rng, (chunks * h, h), dt), *b))
        return out
    return gen


OPS = [
    OpInfo('native_batch_norm', lambda lib, *a: lib.native_batch_norm(*a), _bn_samples,
           grad=False),
    OpInfo('native_batch_norm[0]', lambda lib, *a: lib.native_batch_norm(*a)[0], _bn_samples,
           grad_fn='NativeBatchNormBackward0'),
    OpInfo('native_layer_norm', lambda lib, *a: lib.native_layer_norm(*a), _ln_samples,
           grad=False),
    OpInfo('native_layer_norm[0]', lambda lib, *a: lib.native_layer_norm(*a)[0], _ln_samples,
           grad_fn='NativeLayerNormBackward0'),
    OpInfo('native_group_norm', lambda lib, *a: lib.native_group_norm(*a)[0],
           lambda rng, dt: [Sample(make(rng, (2, 4, 3), dt), make(rng, (4,), dt),
                                   make(rng, (4,), dt), 2, 4, 3, 2, 1e-5),
                            Sample(make(rng, (2, 4, 2, 2), dt), None, None, 2, 4, 4, 1, 1e-5)],
           grad_fn='NativeGroupNormBackward0'),
    OpInfo('native_group_norm_stats', lambda lib, *a: lib.native_group_norm(*a)[1:],
           lambda rng, dt: [Sample(make(rng, (2, 4, 3), dt), make(rng, (4,), dt),
                                   make(rng, (4,), dt), 2, 4, 3, 2, 1e-5)],
           grad_fn=None),
    OpInfo('convolution', lambda lib, *a: lib.convolution(*a), _conv_samples,
           grad_fn='ConvolutionBackward0', atol=1e-4),
    OpInfo('mkldnn_convolution', lambda lib, x, w, b: lib.mkldnn_convolution(
        x, w, b, [1, 0], [2, 1], [1, 1], 1),
        lambda rng, dt: [Sample(make(rng, (2, 3, 5, 4), dt), make(rng, (2, 3, 2, 2), dt),
                                make(rng, (2,), dt))],
        dtypes=('float32',), grad_fn='MkldnnConvolutionBackward0', atol=1e-4),
    OpInfo('conv_tbc', lambda lib, *a: lib.conv_tbc(*a),
           lambda rng, dt: [Sample(make(rng, (5, 2, 3), dt), make(rng, (2, 3, 4), dt),
                                   make(rng, (4,), dt), 1),
                            Sample(make(rng, (4, 1, 2), dt), make(rng, (3, 2, 2), dt),
                                   make(rng, (2,), dt))],
           grad_fn='ConvTbcBackward0', atol=1e-4),
    OpInfo('F.conv_tbc', lambda lib, *a: lib.nn.functional.conv_tbc(*a),
           lambda rng, dt: [Sample(make(rng, (5, 2, 3), dt), make(rng, (2, 3, 4), dt),
                                   make(rng, (4,), dt), 0)], grad_fn='ConvTbcBackward0'),
    OpInfo('lstm_cell', lambda lib, *a: lib.lstm_cell(*a), _cell_samples(4, 4, True),
           grad_fn='MulBackward0'),
    OpInfo('gru_cell', lambda lib, *a: lib.gru_cell(*a), _cell_samples(4, 3),
           grad_fn='AddBackward0'),
    OpInfo('rnn_tanh_cell', lambda lib, *a: lib.rnn_tanh_cell(*a), _cell_samples(3, 1),
           grad_fn='TanhBackward0'),
    OpInfo('rnn_relu_cell', lambda lib, *a: lib.rnn_relu_cell(*a), _cell_samples(3, 1),
           grad_fn='ReluBackward0'),
]


# torch's group-norm statistics are outputs of its NativeGroupNormBackward0 node; ember's come
# from the ops that compute them (same values and gradients, other grad_fn names)
test_forward, test_grad, test_gradcheck, test_grad_fn_name = _t.table_tests(
    OPS, other_grad_fn={'native_group_norm_stats'})


def test_native_batch_norm_running_stats():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3, 5)).astype(np.float32)
    res = []
    for lib in (ember, torch):
        rm, rv = lib.zeros(3), lib.ones(3)
        out = lib.native_batch_norm(lib.tensor(x), None, None, rm, rv, True, 0.3, 1e-5)
        res.append((out, rm, rv))
    for e, t in zip(res[0], res[1]):
        assert_same(e, t)
    res = []
    for lib in (ember, torch):
        rm, rv = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        out = lib.batch_norm_update_stats(lib.tensor(x.astype(np.float64)), rm, rv, 0.2)
        res.append((out, rm, rv))
    for e, t in zip(res[0], res[1]):
        assert_same(e, t)


def test_native_dropout_matches_torch_stream():
    x = np.random.default_rng(1).normal(size=(3, 7)).astype(np.float32)
    for p, train in ((0.3, True), (0.0, True), (1.0, True), (0.5, False), (0.5, None)):
        ember.manual_seed(5)
        torch.manual_seed(5)
        ex = ember.tensor(x, requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)
        e, t = ember.native_dropout(ex, p, train), torch.native_dropout(tx, p, train)
        assert_same(e[0], t[0])
        assert_same(e[1], t[1])
        if t[0].requires_grad and t[0].grad_fn is not None:
            assert e[0].grad_fn.name() == t[0].grad_fn.name()
            g = np.arange(21.).reshape(3, 7).astype(np.float32)
            e[0].backward(ember.tensor(g))
            t[0].backward(torch.tensor(g))
            assert_same(ex.grad, tx.grad)
    assert_same(*(lib.native_dropout(lib.ones(4), 0.5, False)[1] for lib in (ember, torch)))


@pytest.mark.parametrize('name,args', [
    ('batch_norm_stats', lambda lib: (lib.ones(2, 3), 1e-5)),
    ('batch_norm_elemt', lambda lib: (lib.ones(2, 3), lib.ones(3), lib.zeros(3), lib.zeros(3),
                                      lib.ones(3), 1e-5)),
    ('batch_norm_gather_stats', lambda lib: (lib.ones(2, 3), lib.zeros(2, 3), lib.ones(2, 3),
                                             lib.zeros(3), lib.ones(3), 0.1, 1e-5, 4)),
    ('batch_norm_gather_stats_with_counts',
     lambda lib: (lib.ones(2, 3), lib.zeros(2, 3), lib.ones(2, 3), lib.zeros(3), lib.ones(3),
                  0.1, 1e-5, lib.ones(2))),
    ('batch_norm_backward_reduce', lambda lib: (lib.ones(2, 3), lib.ones(2, 3), lib.zeros(3),
                                                lib.ones(3), lib.ones(3), True, True, True)),
    ('batch_norm_backward_elemt', lambda lib: (lib.ones(2, 3), lib.ones(2, 3), lib.zeros(3),
                                               lib.ones(3), lib.ones(3), lib.zeros(3),
                                               lib.zeros(3), lib.ones(1, dtype=lib.int32))),
    ('mkldnn_adaptive_avg_pool2d', lambda lib: (lib.ones(1, 2, 4, 4), (2, 2))),
    ('mkldnn_linear_backward_weights', lambda lib: (lib.ones(2, 3), lib.ones(2, 4),
                                                    lib.ones(3, 4), True)),
    ('mkldnn_max_pool2d', lambda lib: (lib.ones(1, 2, 4, 4), [2, 2])),
    ('mkldnn_max_pool3d', lambda lib: (lib.ones(1, 2, 4, 4, 4), [2, 2, 2])),
    ('native_norm', lambda lib: (lib.ones(3),)),
])
def test_kernels_a_cpu_torch_refuses(name, args):
    with pytest.raises(NotImplementedError) as te:
        getattr(torch, name)(*args(torch))
    with pytest.raises(NotImplementedError) as ee:
        getattr(ember, name)(*args(ember))
    assert str(ee.value).split('. ')[0] == str(te.value).split('. ')[0]


def test_native_norm_sparse():
    d = np.array([[0., 3.], [-4., 0.]])
    for p in (2, 1, float('inf'), 3):
        assert_same(ember.native_norm(ember.tensor(d).to_sparse(), p),
                    torch.native_norm(torch.tensor(d).to_sparse(), p))


def _stack(lib, mode, dtype, bidirectional, num_layers, batch_first, packed, proj=0):
    lib.manual_seed(3)
    kw = dict(num_layers=num_layers, bidirectional=bidirectional)
    if proj:
        kw['proj_size'] = proj
    m = getattr(lib.nn, {'LSTM': 'LSTM', 'GRU': 'GRU', 'TANH': 'RNN', 'RELU': 'RNN'}[mode])(
        4, 5, nonlinearity='relu' if mode == 'RELU' else 'tanh', **kw) if mode in (
        'TANH', 'RELU') else getattr(lib.nn, mode)(4, 5, **kw)
    m = m.to(dtype)
    for p in m.parameters():
        p.requires_grad_(True)
    nd = (2 if bidirectional else 1) * num_layers
    hsize = proj or 5
    h0 = lib.full((nd, 2, hsize), 0.1, dtype=dtype)
    c0 = lib.full((nd, 2, 5), -0.2, dtype=dtype)
    fn = {'LSTM': lib.lstm, 'GRU': lib.gru, 'TANH': lib.rnn_tanh, 'RELU': lib.rnn_relu}[mode]
    hx = (h0, c0) if mode == 'LSTM' else h0
    x = lib.linspace(-1, 1, 3 * 2 * 4, dtype=dtype)
    if packed:
        data = x[:5 * 4].reshape(5, 4).requires_grad_(True)
        out = fn(data, lib.tensor([2, 2, 1]), hx, m._flat_weights, True, num_layers, 0.0, False,
                 bidirectional)
    else:
        data = x.reshape((2, 3, 4) if batch_first else (3, 2, 4)).requires_grad_(True)
        out = fn(data, hx, m._flat_weights, True, num_layers, 0.0, False, bidirectional,
                 batch_first)
    loss = sum((o * (i + 1)).sum() for i, o in enumerate(out))
    grads = lib.autograd.grad(loss, [data] + list(m.parameters()))
    return out, grads


@pytest.mark.parametrize('mode', ['LSTM', 'GRU', 'TANH', 'RELU'])
@pytest.mark.parametrize('cfg', [('float32', False, 1, False, False),
                                 ('float64', True, 2, False, False),
                                 ('float32', False, 1, True, False),
                                 ('float64', False, 2, False, True),
                                 ('float32', True, 1, False, True)])
def test_recurrent_stacks(mode, cfg):
    dt, bi, layers, bf, packed = cfg
    e_out, e_g = _stack(ember, mode, getattr(ember, dt), bi, layers, bf, packed)
    t_out, t_g = _stack(torch, mode, getattr(torch, dt), bi, layers, bf, packed)
    tol = dict(atol=1e-5, rtol=1e-4)
    for e, t in zip(e_out, t_out):
        assert_same(e, t, **tol)
        assert e.grad_fn.name() == t.grad_fn.name()
    for e, t in zip(e_g, t_g):
        assert_same(e, t, **tol)


def test_lstm_projection_and_errors():
    e_out, e_g = _stack(ember, 'LSTM', ember.float64, False, 1, False, False, proj=3)
    t_out, t_g = _stack(torch, 'LSTM', torch.float64, False, 1, False, False, proj=3)
    for e, t in zip(list(e_out) + list(e_g), list(t_out) + list(t_g)):
        assert_same(e, t)
    run_both(lambda: ember.rnn_tanh_cell(ember.ones(3), ember.ones(2), ember.ones(2, 3),
                                         ember.ones(2, 2)),
             lambda: torch.rnn_tanh_cell(torch.ones(3), torch.ones(2), torch.ones(2, 3),
                                         torch.ones(2, 2)))
    run_both(lambda: ember.conv_tbc(ember.ones(3, 2, 4), ember.ones(2, 3, 5), ember.ones(5)),
             lambda: torch.conv_tbc(torch.ones(3, 2, 4), torch.ones(2, 3, 5), torch.ones(5)))
