"""More programs in the style of "Dive into Deep Learning" chapters 9-11 (attention pooling,
Bahdanau decoder, BLEU, optimization algorithms, learning-rate schedules), written for these
tests, run on torch and on ember (see _harness.py).
"""
import pytest

from _harness import compare

NADARAYA_BAHDANAU = r"""
import collections
import math
import torch
from torch import nn

torch.manual_seed(8)
n_train = 20
x_train, _ = torch.sort(torch.rand(n_train) * 5)

def f(x):
    return 2 * torch.sin(x) + x**0.8

y_train = f(x_train) + torch.normal(0.0, 0.5, (n_train,))
x_test = torch.arange(0, 5, 0.5)
y_truth = f(x_test)
n_test = len(x_test)
print(n_test, y_truth[:3])
y_hat = torch.repeat_interleave(y_train.mean(), n_test)
print(y_hat.shape)
X_repeat = x_test.repeat_interleave(n_train).reshape((-1, n_train))
attention_weights = nn.functional.softmax(-(X_repeat - x_train)**2 / 2, dim=1)
y_hat = torch.matmul(attention_weights, y_train)
print(y_hat)
print(attention_weights.unsqueeze(0).unsqueeze(0).shape)
X = torch.ones((2, 1, 4))
Y = torch.ones((2, 4, 6))
print(torch.bmm(X, Y).shape)
weights = torch.ones((2, 10)) * 0.1
values = torch.arange(20.0).reshape((2, 10))
print(torch.bmm(weights.unsqueeze(1), values.unsqueeze(-1)))

class NWKernelRegression(nn.Module):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w = nn.Parameter(torch.rand((1,), requires_grad=True))

    def forward(self, queries, keys, values):
        queries = queries.repeat_interleave(keys.shape[1]).reshape((-1, keys.shape[1]))
        self.attention_weights = nn.functional.softmax(
            -((queries - keys) * self.w)**2 / 2, dim=1)
        return torch.bmm(self.attention_weights.unsqueeze(1),
                         values.unsqueeze(-1)).reshape(-1)

X_tile = x_train.repeat((n_train, 1))
Y_tile = y_train.repeat((n_train, 1))
keys = X_tile[(1 - torch.eye(n_train)).type(torch.bool)].reshape((n_train, -1))
values = Y_tile[(1 - torch.eye(n_train)).type(torch.bool)].reshape((n_train, -1))
print(keys.shape, values.shape)
net = NWKernelRegression()
loss = nn.MSELoss(reduction='none')
trainer = torch.optim.SGD(net.parameters(), lr=0.5)
for epoch in range(5):
    trainer.zero_grad()
    l = loss(net(x_train, keys, values), y_train)
    l.sum().backward()
    trainer.step()
    print(f'epoch {epoch + 1}, loss {float(l.sum()):.6f}')
keys = x_train.repeat((n_test, 1))
values = y_train.repeat((n_test, 1))
y_hat = net(x_test, keys, values).unsqueeze(1).detach()
print(y_hat.T, net.w)

def masked_softmax(X, valid_lens):
    if valid_lens is None:
        return nn.functional.softmax(X, dim=-1)
    shape = X.shape
    if valid_lens.dim() == 1:
        valid_lens = torch.repeat_interleave(valid_lens, shape[1])
    else:
        valid_lens = valid_lens.reshape(-1)
    X = X.reshape(-1, shape[-1])
    mask = torch.arange(shape[-1], dtype=torch.float32)[None, :] < valid_lens[:, None]
    X[~mask] = -1e6
    return nn.functional.softmax(X.reshape(shape), dim=-1)

class AdditiveAttention(nn.Module):
    def __init__(self, key_size, query_size, num_hiddens, dropout, **kwargs):
        super().__init__(**kwargs)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        queries, keys = self.W_q(queries), self.W_k(keys)
        features = torch.tanh(queries.unsqueeze(2) + keys.unsqueeze(1))
        scores = self.w_v(features).squeeze(-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)

class Seq2SeqAttentionDecoder(nn.Module):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0, **kwargs):
        super().__init__(**kwargs)
        self.attention = AdditiveAttention(num_hiddens, num_hiddens, num_hiddens, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs, enc_valid_lens, *args):
        outputs, hidden_state = enc_outputs
        return (outputs.permute(1, 0, 2), hidden_state, enc_valid_lens)

    def forward(self, X, state):
        enc_outputs, hidden_state, enc_valid_lens = state
        X = self.embedding(X).permute(1, 0, 2)
        outputs, self._attention_weights = [], []
        for x in X:
            query = torch.unsqueeze(hidden_state[-1], dim=1)
            context = self.attention(query, enc_outputs, enc_outputs, enc_valid_lens)
            x = torch.cat((context, torch.unsqueeze(x, dim=1)), dim=-1)
            out, hidden_state = self.rnn(x.permute(1, 0, 2), hidden_state)
            outputs.append(out)
            self._attention_weights.append(self.attention.attention_weights)
        outputs = self.dense(torch.cat(outputs, dim=0))
        return outputs.permute(1, 0, 2), [enc_outputs, hidden_state, enc_valid_lens]

    @property
    def attention_weights(self):
        return self._attention_weights

class Seq2SeqEncoder(nn.Module):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size, num_hiddens, num_layers, dropout=dropout)

    def forward(self, X, *args):
        return self.rnn(self.embedding(X).permute(1, 0, 2))

encoder = Seq2SeqEncoder(vocab_size=10, embed_size=8, num_hiddens=16, num_layers=2)
encoder.eval()
decoder = Seq2SeqAttentionDecoder(vocab_size=10, embed_size=8, num_hiddens=16, num_layers=2)
decoder.eval()
X = torch.zeros((4, 7), dtype=torch.long)
state = decoder.init_state(encoder(X), None)
output, state = decoder(X, state)
print(output.shape, len(state), state[0].shape, len(state[1]), state[1][0].shape)
print(torch.cat([step[0] for step in decoder.attention_weights], 0).shape)
state = decoder.init_state(encoder(X), torch.tensor([3, 5, 7, 2]))
output, state = decoder(X, state)
print(output[0, 0, :4], decoder.attention_weights[0][1])

def bleu(pred_seq, label_seq, k):
    pred_tokens, label_tokens = pred_seq.split(' '), label_seq.split(' ')
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    score = math.exp(min(0, 1 - len_label / len_pred))
    for n in range(1, k + 1):
        num_matches, label_subs = 0, collections.defaultdict(int)
        for i in range(len_label - n + 1):
            label_subs[' '.join(label_tokens[i: i + n])] += 1
        for i in range(len_pred - n + 1):
            if label_subs[' '.join(pred_tokens[i: i + n])] > 0:
                num_matches += 1
                label_subs[' '.join(pred_tokens[i: i + n])] -= 1
        score *= math.pow(num_matches / (len_pred - n + 1), math.pow(0.5, n))
    return score

for src, tgt in [('go .', 'va !'), ("i lost .", "j'ai perdu ."), ('he is calm .', 'il est calme .')]:
    print(f'{src} => {tgt}, bleu {bleu(tgt, "il est riche .", k=2):.3f}')
"""

OPTIMIZATION = r"""
import math
import numpy as np
import torch
from torch import nn
from torch.optim import lr_scheduler

torch.manual_seed(9)

def f(x):
    return x ** 2

def f_grad(x):
    return 2 * x

def gd(eta, f_grad):
    x = 10.0
    results = [x]
    for i in range(10):
        x -= eta * f_grad(x)
        results.append(float(x))
    print(f'epoch 10, x: {x:f}')
    return results

results = gd(0.2, f_grad)
c = torch.tensor(0.15 * np.pi)
def f2(x):
    return x * torch.cos(c * x)
print(f2(torch.tensor(10.0)))
x1, x2 = torch.meshgrid(torch.arange(-5.5, 1.0, 0.5), torch.arange(-3.0, 1.0, 0.5),
                        indexing='ij')
print(x1.shape, (x1 ** 2 + 2 * x2 ** 2)[:2, :3])

def train_2d(trainer, steps=20, f_grad=None):
    x1, x2, s1, s2 = -5, -2, 0, 0
    results = [(x1, x2)]
    for i in range(steps):
        if f_grad:
            x1, x2, s1, s2 = trainer(x1, x2, s1, s2, f_grad)
        else:
            x1, x2, s1, s2 = trainer(x1, x2, s1, s2)
        results.append((x1, x2))
    print(f'epoch {i + 1}, x1: {float(x1):f}, x2: {float(x2):f}')
    return results

def f_2d_grad(x1, x2):
    return (2 * x1, 4 * x2)

def sgd_2d(x1, x2, s1, s2, f_grad):
    g1, g2 = f_grad(x1, x2)
    g1 += torch.normal(0.0, 1, (1,)).item()
    g2 += torch.normal(0.0, 1, (1,)).item()
    eta_t = 0.1
    return (x1 - eta_t * g1, x2 - eta_t * g2, 0, 0)

train_2d(sgd_2d, steps=20, f_grad=f_2d_grad)

def adagrad_2d(x1, x2, s1, s2):
    eps = 1e-6
    g1, g2 = 0.2 * x1, 4 * x2
    s1 += g1 ** 2
    s2 += g2 ** 2
    x1 -= 0.4 / math.sqrt(s1 + eps) * g1
    x2 -= 0.4 / math.sqrt(s2 + eps) * g2
    return x1, x2, s1, s2

train_2d(adagrad_2d)

features = torch.randn(100, 5)
true_w = torch.tensor([1.0, -2.0, 0.5, 3.0, -1.0])
labels = features @ true_w + 0.1 * torch.randn(100)
features = (features - features.mean(axis=0)) / features.std(axis=0)
data_iter = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(features, labels), batch_size=10, shuffle=True)

def init_momentum_states(feature_dim):
    v_w = torch.zeros((feature_dim, 1))
    v_b = torch.zeros(1)
    return (v_w, v_b)

def sgd_momentum(params, states, hyperparams):
    for p, v in zip(params, states):
        with torch.no_grad():
            v[:] = hyperparams['momentum'] * v + p.grad
            p[:] -= hyperparams['lr'] * v
        p.grad.data.zero_()

def init_adam_states(feature_dim):
    v_w, v_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    s_w, s_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    return ((v_w, s_w), (v_b, s_b))

def adam(params, states, hyperparams):
    beta1, beta2, eps = 0.9, 0.999, 1e-6
    for p, (v, s) in zip(params, states):
        with torch.no_grad():
            v[:] = beta1 * v + (1 - beta1) * p.grad
            s[:] = beta2 * s + (1 - beta2) * torch.square(p.grad)
            v_bias_corr = v / (1 - beta1 ** hyperparams['t'])
            s_bias_corr = s / (1 - beta2 ** hyperparams['t'])
            p[:] -= hyperparams['lr'] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
        p.grad.data.zero_()
    hyperparams['t'] += 1

def init_rmsprop_states(feature_dim):
    return (torch.zeros((feature_dim, 1)), torch.zeros(1))

def rmsprop(params, states, hyperparams):
    gamma, eps = hyperparams['gamma'], 1e-6
    for p, s in zip(params, states):
        with torch.no_grad():
            s[:] = gamma * s + (1 - gamma) * torch.square(p.grad)
            p[:] -= hyperparams['lr'] * p.grad / torch.sqrt(s + eps)
        p.grad.data.zero_()

def train_ch11(trainer_fn, states, hyperparams, num_epochs=2):
    w = torch.normal(mean=0.0, std=0.01, size=(5, 1), requires_grad=True)
    b = torch.zeros((1), requires_grad=True)
    net = lambda X: torch.matmul(X, w) + b
    loss = lambda y_hat, y: (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    for _ in range(num_epochs):
        for X, y in data_iter:
            l = loss(net(X), y).mean()
            l.backward()
            trainer_fn([w, b], states, hyperparams)
        print(f'loss: {loss(net(features), labels).mean().item():.3f}')
    return w

train_ch11(sgd_momentum, init_momentum_states(5), {'lr': 0.02, 'momentum': 0.5})
train_ch11(adam, init_adam_states(5), {'lr': 0.01, 't': 1})
train_ch11(rmsprop, init_rmsprop_states(5), {'lr': 0.01, 'gamma': 0.9})

def train_concise_ch11(trainer_fn, hyperparams, num_epochs=2):
    net = nn.Sequential(nn.Linear(5, 1))
    def init_weights(m):
        if type(m) == nn.Linear:
            torch.nn.init.normal_(m.weight, std=0.01)
    net.apply(init_weights)
    optimizer = trainer_fn(net.parameters(), **hyperparams)
    loss = nn.MSELoss(reduction='none')
    for _ in range(num_epochs):
        for X, y in data_iter:
            optimizer.zero_grad()
            out = net(X)
            y = y.reshape(out.shape)
            l = loss(out, y)
            l.mean().backward()
            optimizer.step()
        print(type(optimizer).__name__, f'loss: {loss(net(features), labels.reshape(-1, 1)).mean().item() / 2:.3f}')

train_concise_ch11(torch.optim.SGD, {'lr': 0.01, 'momentum': 0.9})
train_concise_ch11(torch.optim.Adagrad, {'lr': 0.1})
train_concise_ch11(torch.optim.RMSprop, {'lr': 0.01, 'alpha': 0.9})
train_concise_ch11(torch.optim.Adadelta, {'rho': 0.9})
train_concise_ch11(torch.optim.Adam, {'lr': 0.01})

class SquareRootScheduler:
    def __init__(self, lr=0.1):
        self.lr = lr

    def __call__(self, num_update):
        return self.lr * pow(num_update + 1.0, -0.5)

class FactorScheduler:
    def __init__(self, factor=1, stop_factor_lr=1e-7, base_lr=0.1):
        self.factor = factor
        self.stop_factor_lr = stop_factor_lr
        self.base_lr = base_lr

    def __call__(self, num_update):
        self.base_lr = max(self.stop_factor_lr, self.base_lr * self.factor)
        return self.base_lr

class CosineScheduler:
    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0):
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.warmup_steps = warmup_steps
        self.warmup_begin_lr = warmup_begin_lr
        self.max_steps = self.max_update - self.warmup_steps

    def get_warmup_lr(self, epoch):
        increase = (self.base_lr_orig - self.warmup_begin_lr) * float(epoch) / float(self.warmup_steps)
        return self.warmup_begin_lr + increase

    def __call__(self, epoch):
        if epoch < self.warmup_steps:
            return self.get_warmup_lr(epoch)
        if epoch <= self.max_update:
            self.base_lr = self.final_lr + (self.base_lr_orig - self.final_lr) * (
                1 + math.cos(math.pi * (epoch - self.warmup_steps) / self.max_steps)) / 2
        return self.base_lr

for sch in [SquareRootScheduler(lr=0.1), FactorScheduler(factor=0.9, stop_factor_lr=1e-2, base_lr=2.0),
            CosineScheduler(max_update=20, base_lr=0.3, final_lr=0.01, warmup_steps=5)]:
    print([round(sch(t), 5) for t in range(0, 30, 3)])
print(torch.arange(10), [SquareRootScheduler()(t) for t in torch.arange(4)])

net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 1))
trainer = torch.optim.SGD(net.parameters(), lr=0.5)
for name, scheduler in [
        ('multistep', lr_scheduler.MultiStepLR(trainer, milestones=[3, 6], gamma=0.5))]:
    lrs = []
    for epoch in range(8):
        trainer.zero_grad()
        l = ((net(features).reshape(-1) - labels) ** 2).mean()
        l.backward()
        trainer.step()
        scheduler.step()
        lrs.append(trainer.param_groups[0]['lr'])
    print(name, lrs, f'{l.item():.4f}')
trainer = torch.optim.SGD(net.parameters(), lr=0.1)
scheduler = lr_scheduler.LambdaLR(trainer, lr_lambda=lambda t: SquareRootScheduler(1.0)(t))
for epoch in range(4):
    trainer.step()
    scheduler.step()
    print(epoch, [f'{g["lr"]:.5f}' for g in trainer.param_groups], scheduler.get_last_lr())
"""


@pytest.mark.parametrize('name', ['NADARAYA_BAHDANAU', 'OPTIMIZATION'])
def test_attention_pooling_and_optimization(name):
    compare(globals()[name], rtol=1e-3, atol=1e-4, name=name.lower())


DECODER_BLOCK_AXIS = r"""
import math
import torch
from torch import nn

torch.manual_seed(10)
X = torch.arange(6, dtype=torch.float32).reshape(2, 3)
print(torch.cat((X, X), axis=1), torch.stack([X, X], axis=2).shape)
print(torch.concat((X, X), axis=0).shape, torch.unsqueeze(X, axis=0).shape,
      X[None].squeeze(axis=0).shape, X.unsqueeze(axis=1).shape)
print(X.chunk(3, axis=1)[2], torch.unbind(X, axis=1), torch.diff(X, axis=1))

class DecoderBlock(nn.Module):
    def __init__(self, num_hiddens, num_heads, ffn_num_hiddens, dropout, i):
        super().__init__()
        self.i = i
        self.attention1 = nn.MultiheadAttention(num_hiddens, num_heads, dropout=dropout,
                                                batch_first=True)
        self.ln1 = nn.LayerNorm(num_hiddens)
        self.attention2 = nn.MultiheadAttention(num_hiddens, num_heads, dropout=dropout,
                                                batch_first=True)
        self.ln2 = nn.LayerNorm(num_hiddens)
        self.ffn = nn.Sequential(nn.Linear(num_hiddens, ffn_num_hiddens), nn.ReLU(),
                                 nn.Linear(ffn_num_hiddens, num_hiddens))
        self.ln3 = nn.LayerNorm(num_hiddens)

    def forward(self, X, state):
        enc_outputs, enc_valid_lens = state[0], state[1]
        if state[2][self.i] is None:
            key_values = X
        else:
            key_values = torch.cat((state[2][self.i], X), axis=1)
        state[2][self.i] = key_values
        batch_size, num_steps, _ = X.shape
        if self.training:
            dec_valid_lens = torch.arange(1, num_steps + 1, device=X.device).repeat(batch_size, 1)
            mask = torch.arange(key_values.shape[1])[None, None, :] >= dec_valid_lens[:, :, None]
            mask = mask.repeat_interleave(self.attention1.num_heads, dim=0)
        else:
            mask = None
        X2, _ = self.attention1(X, key_values, key_values, attn_mask=mask)
        Y = self.ln1(X + X2)
        pad = torch.arange(enc_outputs.shape[1])[None, :] >= enc_valid_lens[:, None]
        Y2, w = self.attention2(Y, enc_outputs, enc_outputs, key_padding_mask=pad)
        Z = self.ln2(Y + Y2)
        return self.ln3(Z + self.ffn(Z)), state

blk = DecoderBlock(16, 2, 32, 0.0, 0)
enc_outputs = torch.randn(2, 5, 16)
valid_lens = torch.tensor([3, 5])
state = [enc_outputs, valid_lens, [None]]
X = torch.randn(2, 4, 16)
blk.train()
Y, state = blk(X, state)
print(Y.shape, Y[0, 0, :4], state[2][0].shape)
blk.eval()
state = [enc_outputs, valid_lens, [None]]
step = X[:, :1]
outs = []
with torch.no_grad():
    for t in range(3):
        step, state = blk(step, state)
        outs.append(step)
print(torch.cat(outs, axis=1)[1, :, :3], state[2][0].shape)
"""


def test_decoder_block_with_numpy_axis_keyword():
    compare(DECODER_BLOCK_AXIS, rtol=1e-3, atol=1e-4, name='decoder_axis')


LAZY_LAYERS = r"""
import torch
from torch import nn
torch.manual_seed(0)
def vgg_block(num_convs, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.LazyConv2d(out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)
net = nn.Sequential(vgg_block(1, 4), vgg_block(1, 8), nn.Flatten(), nn.LazyLinear(16), nn.ReLU(), nn.LazyLinear(10))
print(net)
X = torch.randn(1, 1, 16, 16)
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__, 'output shape:\t', X.shape)
print(net)
print(net[-1].weight.shape)
def nin_block(out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.LazyConv2d(out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU())
b = nn.Sequential(nin_block(8, 3, 1, 1), nn.LazyBatchNorm2d(), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LazyBatchNorm1d())
print(b(torch.rand(4, 3, 8, 8)).shape, b)
r = nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d())
print(r)
"""

RNN_SCRATCH_MODULE = r"""
import math
import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(12)

class RNNScratch(nn.Module):
    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        self.num_inputs, self.num_hiddens = num_inputs, num_hiddens
        self.W_xh = nn.Parameter(torch.randn(num_inputs, num_hiddens) * sigma)
        self.W_hh = nn.Parameter(torch.randn(num_hiddens, num_hiddens) * sigma)
        self.b_h = nn.Parameter(torch.zeros(num_hiddens))

    def forward(self, inputs, state=None):
        if state is None:
            state = torch.zeros((inputs.shape[1], self.num_hiddens), device=inputs.device)
        else:
            state, = state
        outputs = []
        for X in inputs:
            state = torch.tanh(torch.matmul(X, self.W_xh) + torch.matmul(state, self.W_hh)
                               + self.b_h)
            outputs.append(state)
        return outputs, state

class RNNLMScratch(nn.Module):
    def __init__(self, rnn, vocab_size, lr=0.01):
        super().__init__()
        self.rnn, self.vocab_size, self.lr = rnn, vocab_size, lr
        self.W_hq = nn.Parameter(torch.randn(rnn.num_hiddens, vocab_size) * 0.01)
        self.b_q = nn.Parameter(torch.zeros(vocab_size))

    def one_hot(self, X):
        return F.one_hot(X.T, self.vocab_size).type(torch.float32)

    def output_layer(self, rnn_outputs):
        outputs = [torch.matmul(H, self.W_hq) + self.b_q for H in rnn_outputs]
        return torch.stack(outputs, 1)

    def forward(self, X, state=None):
        embs = self.one_hot(X)
        rnn_outputs, _ = self.rnn(embs, state)
        return self.output_layer(rnn_outputs)

    def loss(self, Y_hat, Y):
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        return F.cross_entropy(Y_hat, Y.reshape((-1,)), reduction='mean')

def clip_gradients(model, grad_clip_val):
    params = [p for p in model.parameters() if p.requires_grad]
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > grad_clip_val:
        for param in params:
            param.grad[:] *= grad_clip_val / norm
    return norm

vocab_size = 10
model = RNNLMScratch(RNNScratch(num_inputs=vocab_size, num_hiddens=16), vocab_size, lr=1)
data = torch.randint(0, vocab_size, (8, 11))
X, Y = data[:, :-1], data[:, 1:]
outputs = model(X)
print(outputs.shape)
optim = torch.optim.SGD(model.parameters(), lr=model.lr)
for epoch in range(4):
    optim.zero_grad()
    l = model.loss(model(X), Y)
    l.backward()
    norm = clip_gradients(model, 1)
    optim.step()
    print(f'epoch {epoch}: ppl {math.exp(l.item()):.4f}, norm {norm:.4f}')
print([name for name, _ in model.named_parameters()])
"""


@pytest.mark.parametrize('name', ['LAZY_LAYERS', 'RNN_SCRATCH_MODULE'])
def test_d2l_v1_style(name):
    compare(globals()[name], rtol=1e-3, atol=1e-4, name=name.lower())
