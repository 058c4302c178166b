"""Programs with parametrized layers (issue 13), run on torch and on ember, printed output
compared: a spectrally normalised GAN discriminator, a weight-normalised classifier saved and
reloaded through its state_dict, and an RNN cell with an orthogonal recurrent kernel."""
from _harness import compare

GAN = r"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm

torch.manual_seed(0)
D = nn.Sequential(spectral_norm(nn.Conv2d(1, 4, 3, stride=2, padding=1)), nn.LeakyReLU(0.2),
                  spectral_norm(nn.Conv2d(4, 8, 3, stride=2, padding=1)), nn.LeakyReLU(0.2),
                  nn.Flatten(), spectral_norm(nn.Linear(8 * 2 * 2, 1)))
G = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 64), nn.Tanh())
print(D)
opt_d = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
opt_g = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
real = torch.rand(8, 1, 8, 8) * 2 - 1
for step in range(4):
    fake = G(torch.randn(8, 6)).view(8, 1, 8, 8)
    loss_d = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = F.softplus(-D(fake)).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    sigma = torch.linalg.svdvals(D[5].weight.detach())[0]
    print(step, f"{loss_d.item():.5f} {loss_g.item():.5f} {sigma.item():.4f}")
D.eval()
print(D(real[:2]).detach())
print(sorted(D.state_dict().keys()))
print(D[0].parametrizations.weight[0]._u)
"""

WEIGHT_NORM = r"""
import io
import torch
import torch.nn as nn
from torch.nn.utils.parametrizations import weight_norm
from torch.nn.utils import parametrize

torch.manual_seed(1)
net = nn.Sequential(weight_norm(nn.Linear(4, 16)), nn.Tanh(), weight_norm(nn.Linear(16, 3), dim=None))
print(net)
x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
opt = torch.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
for epoch in range(5):
    loss = nn.functional.cross_entropy(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(epoch, round(loss.item(), 5))
print(net[0].parametrizations.weight.original0.flatten()[:4])
buf = io.BytesIO()
torch.save(net.state_dict(), buf)
buf.seek(0)
clone = nn.Sequential(weight_norm(nn.Linear(4, 16)), nn.Tanh(), weight_norm(nn.Linear(16, 3), dim=None))
print(clone.load_state_dict(torch.load(buf)))
print(torch.allclose(clone(x), net(x)))
parametrize.remove_parametrizations(net[0], 'weight')
print(type(net[0]).__name__, list(net[0].state_dict()))
with parametrize.cached():
    print(net(x[:2]).detach())
"""

ORTHOGONAL = r"""
import torch
import torch.nn as nn
from torch.nn.utils.parametrizations import orthogonal

torch.manual_seed(2)
cell = nn.RNNCell(3, 5)
orthogonal(cell, 'weight_hh')
print(cell)
W = cell.weight_hh.detach()
print(torch.allclose(W @ W.T, torch.eye(5), atol=1e-5))
opt = torch.optim.SGD(cell.parameters(), lr=0.1)
xs = torch.randn(6, 2, 3)
for it in range(3):
    h = torch.zeros(2, 5)
    for x in xs:
        h = cell(x, h)
    loss = h.pow(2).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    W = cell.weight_hh.detach()
    print(it, round(loss.item(), 4), torch.allclose(W @ W.T, torch.eye(5), atol=1e-5))
"""


def test_spectral_norm_gan():
    compare(GAN, rtol=1e-4, atol=1e-5, name='sn_gan')


def test_weight_norm_classifier():
    compare(WEIGHT_NORM, rtol=1e-4, atol=1e-5, name='wn_classifier')


def test_orthogonal_rnn():
    compare(ORTHOGONAL, rtol=1e-4, atol=1e-5, name='orth_rnn')
