"""Programs in the style of "Dive into Deep Learning" chapters 7-11 (modern CNNs, RNNs,
attention), written for these tests, run on torch and on ember (see _harness.py).
"""
import pytest

from _harness import compare

CNN_BLOCKS = r"""
import torch
from torch import nn

torch.manual_seed(0)

def vgg_block(num_convs, in_channels, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)

def vgg(conv_arch):
    conv_blks = []
    in_channels = 1
    for (num_convs, out_channels) in conv_arch:
        conv_blks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels
    return nn.Sequential(*conv_blks, nn.Flatten(),
                         nn.Linear(out_channels * 2 * 2, 16), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(16, 10))

net = vgg(((1, 4), (1, 8), (2, 8)))
X = torch.randn(size=(1, 1, 16, 16))
for blk in net:
    X = blk(X)
    print(blk.__class__.__name__, 'output shape:\t', X.shape)

alex = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, stride=2, padding=1), nn.ReLU(),
    nn.MaxPool2d(kernel_size=3, stride=2),
    nn.Conv2d(6, 8, kernel_size=3, padding=1), nn.ReLU(),
    nn.MaxPool2d(kernel_size=3, stride=2), nn.Flatten(),
    nn.Linear(8 * 2 * 2, 12), nn.ReLU(), nn.Dropout(p=0.5), nn.Linear(12, 10))
X = torch.randn(1, 1, 24, 24)
for layer in alex:
    X = layer(X)
    print(layer.__class__.__name__, 'output shape:\t', X.shape)

def nin_block(in_channels, out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU())

nin = nn.Sequential(
    nin_block(1, 8, kernel_size=5, strides=2, padding=0),
    nn.MaxPool2d(3, stride=2),
    nin_block(8, 10, kernel_size=3, strides=1, padding=1),
    nn.Dropout(0.5),
    nn.AdaptiveAvgPool2d((1, 1)),
    nn.Flatten())
X = torch.rand(size=(2, 1, 20, 20))
for layer in nin:
    X = layer(X)
    print(layer.__class__.__name__, 'output shape:\t', X.shape)
print(X.detach().sum(dim=1))

class Inception(nn.Module):
    def __init__(self, in_channels, c1, c2, c3, c4, **kwargs):
        super(Inception, self).__init__(**kwargs)
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, x):
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)

from torch.nn import functional as F
b1 = nn.Sequential(nn.Conv2d(1, 8, kernel_size=7, stride=2, padding=3),
                   nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
b2 = nn.Sequential(Inception(8, 4, (4, 8), (2, 4), 4),
                   Inception(20, 8, (8, 8), (2, 4), 4),
                   nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
g = nn.Sequential(b1, b2, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(24, 10))
X = torch.rand(size=(1, 1, 32, 32))
for layer in g:
    X = layer(X)
    print(layer.__class__.__name__, 'output shape:\t', X.shape)
print(g[1][0])
y = g(torch.rand(2, 1, 32, 32))
y.sum().backward()
print(g[1][0].p3_2.weight.grad.shape, g[-1].bias.grad)
"""

BATCH_NORM = r"""
import torch
from torch import nn

torch.manual_seed(1)

def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    if not torch.is_grad_enabled():
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        X_hat = (X - mean) / torch.sqrt(var + eps)
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * var
    Y = gamma * X_hat + beta
    return Y, moving_mean.data, moving_var.data

class BatchNorm(nn.Module):
    def __init__(self, num_features, num_dims):
        super().__init__()
        if num_dims == 2:
            shape = (1, num_features)
        else:
            shape = (1, num_features, 1, 1)
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.moving_mean = torch.zeros(shape)
        self.moving_var = torch.ones(shape)

    def forward(self, X):
        if self.moving_mean.device != X.device:
            self.moving_mean = self.moving_mean.to(X.device)
            self.moving_var = self.moving_var.to(X.device)
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean,
            self.moving_var, eps=1e-5, momentum=0.9)
        return Y

net = nn.Sequential(
    nn.Conv2d(1, 4, kernel_size=5), BatchNorm(4, num_dims=4), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(4, 6, kernel_size=3), BatchNorm(6, num_dims=4), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
    nn.Linear(6 * 2 * 2, 12), BatchNorm(12, num_dims=2), nn.Sigmoid(),
    nn.Linear(12, 10))

X = torch.randn(8, 1, 16, 16)
y = torch.randint(0, 10, (8,))
loss = nn.CrossEntropyLoss()
trainer = torch.optim.SGD(net.parameters(), lr=0.5)
for epoch in range(4):
    trainer.zero_grad()
    l = loss(net(X), y)
    l.backward()
    trainer.step()
    print(f'epoch {epoch + 1}, loss {l.item():.4f}')
print(net[1].gamma.reshape((-1,)), net[1].beta.reshape((-1,)))
print(net[1].moving_mean.reshape(-1), net[10].moving_var)
with torch.no_grad():
    print(torch.is_grad_enabled(), net(X[:2]).argmax(dim=1).shape)
print(torch.is_grad_enabled())

net2 = nn.Sequential(
    nn.Conv2d(1, 4, kernel_size=5), nn.BatchNorm2d(4), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(4, 6, kernel_size=3), nn.BatchNorm2d(6), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
    nn.Linear(24, 12), nn.BatchNorm1d(12), nn.Sigmoid(),
    nn.Linear(12, 10))
trainer = torch.optim.SGD(net2.parameters(), lr=0.5)
for epoch in range(4):
    trainer.zero_grad()
    l = loss(net2(X), y)
    l.backward()
    trainer.step()
    print(f'epoch {epoch + 1}, loss {l.item():.4f}')
print(net2[1])
print(net2[1].running_mean, net2[1].num_batches_tracked)
print(net2[10].weight.reshape((-1,))[:4])
net2.eval()
print(net2(X[:2]))
"""

RESNET_DENSENET = r"""
import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(2)

class Residual(nn.Module):
    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1,
                               stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1,
                                   stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)

blk = Residual(3, 3)
X = torch.rand(4, 3, 6, 6)
print(blk(X).shape)
blk = Residual(3, 6, use_1x1conv=True, strides=2)
print(blk(X).shape)

def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels, use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return blk

b1 = nn.Sequential(nn.Conv2d(1, 8, kernel_size=7, stride=2, padding=3),
                   nn.BatchNorm2d(8), nn.ReLU(),
                   nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
b2 = nn.Sequential(*resnet_block(8, 8, 2, first_block=True))
b3 = nn.Sequential(*resnet_block(8, 16, 2))
net = nn.Sequential(b1, b2, b3, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
                    nn.Linear(16, 10))
X = torch.rand(size=(2, 1, 32, 32))
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__, 'output shape:\t', X.shape)
print(sum(p.numel() for p in net.parameters()))
opt = torch.optim.SGD(net.parameters(), lr=0.1)
Xb, yb = torch.rand(4, 1, 32, 32), torch.tensor([0, 3, 5, 9])
for i in range(3):
    opt.zero_grad()
    l = F.cross_entropy(net(Xb), yb)
    l.backward()
    opt.step()
    print(round(l.item(), 4))

def conv_block(input_channels, num_channels):
    return nn.Sequential(
        nn.BatchNorm2d(input_channels), nn.ReLU(),
        nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1))

class DenseBlock(nn.Module):
    def __init__(self, num_convs, input_channels, num_channels):
        super(DenseBlock, self).__init__()
        layer = []
        for i in range(num_convs):
            layer.append(conv_block(num_channels * i + input_channels, num_channels))
        self.net = nn.Sequential(*layer)

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            X = torch.cat((X, Y), dim=1)
        return X

blk = DenseBlock(2, 3, 10)
X = torch.randn(4, 3, 8, 8)
Y = blk(X)
print(Y.shape)

def transition_block(input_channels, num_channels):
    return nn.Sequential(
        nn.BatchNorm2d(input_channels), nn.ReLU(),
        nn.Conv2d(input_channels, num_channels, kernel_size=1),
        nn.AvgPool2d(kernel_size=2, stride=2))

blk = transition_block(23, 10)
print(blk(Y).shape)
num_channels, growth_rate = 8, 4
num_convs_in_dense_blocks = [2, 2]
blks = []
for i, num_convs in enumerate(num_convs_in_dense_blocks):
    blks.append(DenseBlock(num_convs, num_channels, growth_rate))
    num_channels += num_convs * growth_rate
    if i != len(num_convs_in_dense_blocks) - 1:
        blks.append(transition_block(num_channels, num_channels // 2))
        num_channels = num_channels // 2
dnet = nn.Sequential(b1, *blks, nn.BatchNorm2d(num_channels), nn.ReLU(),
                     nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
                     nn.Linear(num_channels, 10))
X = torch.rand(size=(2, 1, 24, 24))
for layer in dnet:
    X = layer(X)
    print(layer.__class__.__name__, 'output shape:\t', X.shape)
print(dnet[1])
"""


@pytest.mark.parametrize('name', ['CNN_BLOCKS', 'BATCH_NORM', 'RESNET_DENSENET'])
def test_modern_cnns(name):
    compare(globals()[name], rtol=1e-3, atol=1e-4, name=name.lower())


SEQUENCE_AND_TEXT = r"""
import collections
import random
import re
import torch
from torch import nn
from torch.utils import data

torch.manual_seed(3)
T = 200
time = torch.arange(1, T + 1, dtype=torch.float32)
x = torch.sin(0.01 * time) + torch.normal(0, 0.2, (T,))
print(x.shape, x.dtype, time[:3])
tau = 4
features = torch.zeros((T - tau, tau))
for i in range(tau):
    features[:, i] = x[i: T - tau + i]
labels = x[tau:].reshape((-1, 1))
print(features.shape, labels.shape)
dataset = data.TensorDataset(features[:120], labels[:120])
train_iter = data.DataLoader(dataset, 16, shuffle=True)

def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.xavier_uniform_(m.weight)

net = nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 1))
net.apply(init_weights)
loss = nn.MSELoss(reduction='none')
trainer = torch.optim.Adam(net.parameters(), 0.01)
for epoch in range(3):
    for X, y in train_iter:
        trainer.zero_grad()
        l = loss(net(X), y)
        l.sum().backward()
        trainer.step()
    with torch.no_grad():
        print(f'epoch {epoch + 1}, loss: {loss(net(features), labels).mean():f}')
onestep_preds = net(features)
print(onestep_preds.shape, onestep_preds.requires_grad)
multistep_preds = torch.zeros(T)
multistep_preds[: 120 + tau] = x[: 120 + tau]
for i in range(120 + tau, T):
    multistep_preds[i] = net(multistep_preds[i - tau:i].reshape((1, -1))).reshape(())
print(multistep_preds[-3:].detach())
max_steps = 8
feats = torch.zeros((T - tau - max_steps + 1, tau + max_steps))
for i in range(tau):
    feats[:, i] = x[i: i + T - tau - max_steps + 1]
for i in range(tau, tau + max_steps):
    feats[:, i] = net(feats[:, i - tau:i]).reshape(-1)
print(feats.shape, feats[0, -2:].detach())

text = '''The Time Machine, by H. G. Wells
I
The Time Traveller (for so it will be convenient to speak of him)
was expounding a recondite matter to us. His grey eyes shone and
twinkled, and his usually pale face was flushed and animated.'''
lines = [re.sub('[^A-Za-z]+', ' ', line).strip().lower() for line in text.split('\n')]
def tokenize(lines, token='word'):
    if token == 'word':
        return [line.split() for line in lines]
    return [list(line) for line in lines]
tokens = tokenize(lines)
for i in range(3):
    print(tokens[i])

def count_corpus(tokens):
    if len(tokens) == 0 or isinstance(tokens[0], list):
        tokens = [token for line in tokens for token in line]
    return collections.Counter(tokens)

class Vocab:
    def __init__(self, tokens=None, min_freq=0, reserved_tokens=None):
        tokens = tokens or []
        reserved_tokens = reserved_tokens or []
        counter = count_corpus(tokens)
        self._token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
        self.idx_to_token = ['<unk>'] + reserved_tokens
        self.token_to_idx = {token: idx for idx, token in enumerate(self.idx_to_token)}
        for token, freq in self._token_freqs:
            if freq < min_freq:
                break
            if token not in self.token_to_idx:
                self.idx_to_token.append(token)
                self.token_to_idx[token] = len(self.idx_to_token) - 1

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.unk)
        return [self.__getitem__(token) for token in tokens]

    def to_tokens(self, indices):
        if not isinstance(indices, (list, tuple)):
            return self.idx_to_token[indices]
        return [self.idx_to_token[index] for index in indices]

    @property
    def unk(self):
        return 0

vocab = Vocab(tokenize(lines, 'char'))
print(len(vocab), list(vocab.token_to_idx.items())[:5])
corpus = [vocab[token] for line in tokenize(lines, 'char') for token in line]
print(len(corpus), corpus[:10])
my_seq = list(range(35))

random.seed(0)
def seq_data_iter_sequential(corpus, batch_size, num_steps):
    offset = random.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset: offset + num_tokens])
    Ys = torch.tensor(corpus[offset + 1: offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        X = Xs[:, i: i + num_steps]
        Y = Ys[:, i: i + num_steps]
        yield X, Y

for X, Y in seq_data_iter_sequential(my_seq, batch_size=2, num_steps=5):
    print('X: ', X, '\nY:', Y)
"""

RNN_SCRATCH = r"""
import math
import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(4)
corpus_text = 'the quick brown fox jumps over the lazy dog and the time traveller ' * 6
idx_to_token = sorted(set(corpus_text))
token_to_idx = {t: i for i, t in enumerate(idx_to_token)}
corpus = [token_to_idx[c] for c in corpus_text]
vocab_size = len(idx_to_token)
print(F.one_hot(torch.tensor([0, 2]), vocab_size))
X = torch.arange(10).reshape((2, 5))
print(F.one_hot(X.T, 28).shape)

def get_params(vocab_size, num_hiddens, device):
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01

    W_xh = normal((num_inputs, num_hiddens))
    W_hh = normal((num_hiddens, num_hiddens))
    b_h = torch.zeros(num_hiddens, device=device)
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device)
    params = [W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params

def init_rnn_state(batch_size, num_hiddens, device):
    return (torch.zeros((batch_size, num_hiddens), device=device), )

def rnn(inputs, state, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        Y = torch.mm(H, W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)

class RNNModelScratch:
    def __init__(self, vocab_size, num_hiddens, device, get_params, init_state, forward_fn):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size, device):
        return self.init_state(batch_size, self.num_hiddens, device)

def grad_clipping(net, theta):
    if isinstance(net, nn.Module):
        params = [p for p in net.parameters() if p.requires_grad]
    else:
        params = net.params
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm

def predict(prefix, num_preds, net, device):
    state = net.begin_state(batch_size=1, device=device)
    outputs = [token_to_idx[prefix[0]]]
    get_input = lambda: torch.tensor([outputs[-1]], device=device).reshape((1, 1))
    for y in prefix[1:]:
        _, state = net(get_input(), state)
        outputs.append(token_to_idx[y])
    for _ in range(num_preds):
        y, state = net(get_input(), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return ''.join([idx_to_token[i] for i in outputs])

def data_iter(batch_size, num_steps):
    n = (len(corpus) - 1) // (batch_size * num_steps) * batch_size * num_steps
    Xs = torch.tensor(corpus[:n]).reshape(batch_size, -1)
    Ys = torch.tensor(corpus[1:n + 1]).reshape(batch_size, -1)
    for i in range(0, Xs.shape[1], num_steps):
        yield Xs[:, i:i + num_steps], Ys[:, i:i + num_steps]

def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()

def train_epoch(net, updater, use_random_iter=False):
    state = None
    loss = nn.CrossEntropyLoss()
    l_sum, n = 0.0, 0
    for X, Y in data_iter(4, 8):
        if state is None or use_random_iter:
            state = net.begin_state(batch_size=X.shape[0], device='cpu')
        else:
            if isinstance(net, nn.Module) and not isinstance(state, tuple):
                state.detach_()
            else:
                for s in state:
                    s.detach_()
        y = Y.T.reshape(-1)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.backward()
            grad_clipping(net, 1)
            updater.step()
        else:
            l.backward()
            grad_clipping(net, 1)
            updater(batch_size=1)
        l_sum += l.item() * y.numel()
        n += y.numel()
    return math.exp(l_sum / n)

num_hiddens = 32
net = RNNModelScratch(vocab_size, num_hiddens, 'cpu', get_params, init_rnn_state, rnn)
state = net.begin_state(X.shape[0], 'cpu')
Y, new_state = net(X, state)
print(Y.shape, len(new_state), new_state[0].shape)
print(predict('the ', 10, net, 'cpu'))
updater = lambda batch_size: sgd(net.params, 1, batch_size)
for epoch in range(5):
    ppl = train_epoch(net, updater)
    print(f'perplexity {ppl:.3f}')
print(predict('the ', 10, net, 'cpu'))

def get_lstm_params(vocab_size, num_hiddens, device):
    num_inputs = num_outputs = vocab_size
    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01
    def three():
        return (normal((num_inputs, num_hiddens)), normal((num_hiddens, num_hiddens)),
                torch.zeros(num_hiddens, device=device))
    W_xi, W_hi, b_i = three()
    W_xf, W_hf, b_f = three()
    W_xo, W_ho, b_o = three()
    W_xc, W_hc, b_c = three()
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device)
    params = [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params

def init_lstm_state(batch_size, num_hiddens, device):
    return (torch.zeros((batch_size, num_hiddens), device=device),
            torch.zeros((batch_size, num_hiddens), device=device))

def lstm(inputs, state, params):
    [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q] = params
    (H, C) = state
    outputs = []
    for X in inputs:
        I = torch.sigmoid((X @ W_xi) + (H @ W_hi) + b_i)
        Fg = torch.sigmoid((X @ W_xf) + (H @ W_hf) + b_f)
        O = torch.sigmoid((X @ W_xo) + (H @ W_ho) + b_o)
        C_tilda = torch.tanh((X @ W_xc) + (H @ W_hc) + b_c)
        C = Fg * C + I * C_tilda
        H = O * torch.tanh(C)
        Y = (H @ W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H, C)

def get_gru_params(vocab_size, num_hiddens, device):
    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01
    def three():
        return (normal((vocab_size, num_hiddens)), normal((num_hiddens, num_hiddens)),
                torch.zeros(num_hiddens, device=device))
    W_xz, W_hz, b_z = three()
    W_xr, W_hr, b_r = three()
    W_xh, W_hh, b_h = three()
    W_hq = normal((num_hiddens, vocab_size))
    b_q = torch.zeros(vocab_size, device=device)
    params = [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params

def gru(inputs, state, params):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid((X @ W_xz) + (H @ W_hz) + b_z)
        R = torch.sigmoid((X @ W_xr) + (H @ W_hr) + b_r)
        H_tilda = torch.tanh((X @ W_xh) + ((R * H) @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        Y = H @ W_hq + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)

for name, gp, init, fn in [('lstm', get_lstm_params, init_lstm_state, lstm),
                           ('gru', get_gru_params, init_rnn_state, gru)]:
    m = RNNModelScratch(vocab_size, 16, 'cpu', gp, init, fn)
    upd = lambda batch_size, m=m: sgd(m.params, 2, batch_size)
    for epoch in range(3):
        print(name, f'perplexity {train_epoch(m, upd):.3f}')
"""


RNN_CONCISE = r"""
import math
import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(5)
vocab_size, num_hiddens, num_steps, batch_size = 12, 16, 6, 3
rnn_layer = nn.RNN(vocab_size, num_hiddens)
state = torch.zeros((1, batch_size, num_hiddens))
print(state.shape)
X = torch.rand(size=(num_steps, batch_size, vocab_size))
Y, state_new = rnn_layer(X, state)
print(Y.shape, state_new.shape)
print(rnn_layer)

class RNNModel(nn.Module):
    def __init__(self, rnn_layer, vocab_size, **kwargs):
        super(RNNModel, self).__init__(**kwargs)
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_hiddens = self.rnn.hidden_size
        if not self.rnn.bidirectional:
            self.num_directions = 1
            self.linear = nn.Linear(self.num_hiddens, self.vocab_size)
        else:
            self.num_directions = 2
            self.linear = nn.Linear(self.num_hiddens * 2, self.vocab_size)

    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size)
        X = X.to(torch.float32)
        Y, state = self.rnn(X, state)
        output = self.linear(Y.reshape((-1, Y.shape[-1])))
        return output, state

    def begin_state(self, device, batch_size=1):
        if not isinstance(self.rnn, nn.LSTM):
            return torch.zeros((self.num_directions * self.rnn.num_layers,
                                batch_size, self.num_hiddens), device=device)
        else:
            return (torch.zeros((self.num_directions * self.rnn.num_layers,
                                 batch_size, self.num_hiddens), device=device),
                    torch.zeros((self.num_directions * self.rnn.num_layers,
                                 batch_size, self.num_hiddens), device=device))

def grad_clipping(net, theta):
    params = [p for p in net.parameters() if p.requires_grad]
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm

data = torch.randint(0, vocab_size, (batch_size, 4 * num_steps + 1))

def train(net, epochs, lr):
    loss = nn.CrossEntropyLoss()
    updater = torch.optim.SGD(net.parameters(), lr)
    for epoch in range(epochs):
        state = None
        l_sum, n = 0.0, 0
        for i in range(0, 4 * num_steps, num_steps):
            X, Y = data[:, i:i + num_steps], data[:, i + 1:i + 1 + num_steps]
            if state is None:
                state = net.begin_state(batch_size=X.shape[0], device='cpu')
            else:
                if isinstance(net, nn.Module) and not isinstance(state, tuple):
                    state.detach_()
                else:
                    for s in state:
                        s.detach_()
            y = Y.T.reshape(-1)
            y_hat, state = net(X, state)
            l = loss(y_hat, y.long()).mean()
            updater.zero_grad()
            l.backward()
            grad_clipping(net, 1)
            updater.step()
            l_sum += l.item() * y.numel()
            n += y.numel()
        print(f'{type(net.rnn).__name__} perplexity {math.exp(l_sum / n):.3f}')

device = torch.device('cpu')
for layer in [nn.RNN(vocab_size, num_hiddens), nn.GRU(vocab_size, num_hiddens),
              nn.LSTM(vocab_size, num_hiddens),
              nn.LSTM(vocab_size, num_hiddens, num_layers=2),
              nn.LSTM(vocab_size, num_hiddens, num_layers=2, bidirectional=True),
              nn.GRU(vocab_size, num_hiddens, 2, bidirectional=True, dropout=0.0)]:
    net = RNNModel(layer, vocab_size=vocab_size)
    net = net.to(device)
    print(net)
    out, st = net(data[:, :num_steps], net.begin_state(device, batch_size))
    print(out.shape, [s.shape for s in st] if isinstance(st, tuple) else st.shape)
    train(net, 3, 1)
print([(n, p.shape) for n, p in net.rnn.named_parameters()][:6])
print(net.rnn.weight_hh_l1_reverse.shape, net.rnn.num_layers, net.rnn.bidirectional)
"""


@pytest.mark.parametrize('name', ['SEQUENCE_AND_TEXT', 'RNN_SCRATCH', 'RNN_CONCISE'])
def test_recurrent(name):
    compare(globals()[name], rtol=1e-3, atol=1e-4, name=name.lower())


def test_setitem_value_with_leading_unit_dims():
    compare(r"""
import torch
from torch import nn
torch.manual_seed(0)
net = nn.Linear(4, 1)
preds = torch.zeros(10)
for i in range(4, 10):
    preds[i] = net(preds[i - 4:i].reshape((1, -1)))
print(preds.detach())
t = torch.zeros(2, 3)
t[0] = torch.ones(1, 1, 3)
print(t)
""", rtol=1e-5, atol=1e-6, name='setitem_unit_dims')


TRAIN_CH6_LOOP = r"""import torch
from torch import nn
from torch.utils import data
torch.manual_seed(0)
def try_gpu(i=0):
    if torch.cuda.device_count() >= i + 1:
        return torch.device(f'cuda:{i}')
    return torch.device('cpu')
def try_all_gpus():
    devices = [torch.device(f'cuda:{i}') for i in range(torch.cuda.device_count())]
    return devices if devices else [torch.device('cpu')]
print(try_gpu(), try_gpu(10), try_all_gpus(), torch.cuda.is_available())
def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())
class Accumulator:
    def __init__(self, n):
        self.data = [0.0] * n
    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]
    def __getitem__(self, idx):
        return self.data[idx]
X = torch.randn(64, 1, 12, 12)
y = torch.randint(0, 10, (64,))
train_iter = data.DataLoader(data.TensorDataset(X, y), batch_size=16, shuffle=True, num_workers=2)
net = nn.Sequential(nn.Conv2d(1, 4, kernel_size=3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                    nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))
def init_weights(m):
    if type(m) == nn.Linear or type(m) == nn.Conv2d:
        nn.init.xavier_uniform_(m.weight)
net.apply(init_weights)
device = try_gpu()
print('training on', device)
net.to(device)
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
loss = nn.CrossEntropyLoss()
for epoch in range(3):
    metric = Accumulator(3)
    net.train()
    for i, (X, y) in enumerate(train_iter):
        optimizer.zero_grad()
        X, y = X.to(device), y.to(device)
        y_hat = net(X)
        l = loss(y_hat, y)
        l.backward()
        optimizer.step()
        with torch.no_grad():
            metric.add(l * X.shape[0], accuracy(y_hat, y), X.shape[0])
    train_l = metric[0] / metric[2]
    train_acc = metric[1] / metric[2]
    net.eval()
    m2 = Accumulator(2)
    with torch.no_grad():
        for X, y in train_iter:
            if isinstance(X, list):
                X = [x.to(device) for x in X]
            m2.add(accuracy(net(X), y), y.numel())
    print(f'loss {train_l:.3f}, train acc {train_acc:.3f}, test acc {m2[0] / m2[1]:.3f}')
print(f'{metric[2] * 3 / 1.5:.1f} examples/sec on {str(device)}')
print(next(iter(net.parameters())).device, X.device, y.device.type)
"""

PRINTED_RNN_OUTPUTS = r"""
import torch
from torch import nn

torch.manual_seed(11)
X = torch.rand(3, 2, 4)
for layer in [nn.RNN(4, 3), nn.GRU(4, 3, bidirectional=True), nn.LSTM(4, 3),
              nn.LSTM(4, 3, batch_first=True), nn.GRU(4, 3, batch_first=True)]:
    Y, state = layer(X)
    print(type(layer).__name__, Y[:1])
    print(state)
"""


@pytest.mark.parametrize('name', ['TRAIN_CH6_LOOP', 'PRINTED_RNN_OUTPUTS'])
def test_training_loop_and_printed_rnn(name):
    compare(globals()[name], rtol=1e-3, atol=1e-4, name=name.lower())
