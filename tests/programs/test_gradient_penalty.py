"""Gradient-penalty training (issue 13), run on torch and on ember, printed output compared:
WGAN-GP critic and generator steps on a small conv critic (the penalty differentiates the
critic's input gradient, so its backward runs through convolution, pooling, normalisation
and activations a second time) and an R1-regularised non-saturating GAN step."""
from _harness import compare

WGAN_GP = r"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
critic = nn.Sequential(
    nn.Conv2d(1, 4, 3, padding=1), nn.LeakyReLU(0.2), nn.AvgPool2d(2),
    nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.LayerNorm([8, 2, 2]), nn.SiLU(),
    nn.Conv2d(8, 8, 1, groups=2), nn.ELU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(),
    nn.Linear(8, 1))
gen = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Unflatten(1, (2, 4, 4)),
                    nn.ConvTranspose2d(2, 1, 4, stride=2, padding=1), nn.Tanh())
opt_c = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.0, 0.9))
opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3, betas=(0.0, 0.9))
real = torch.rand(6, 1, 8, 8) * 2 - 1


def penalty(real, fake):
    eps = torch.rand(real.size(0), 1, 1, 1)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    out = critic(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    norm = grad.flatten(1).norm(2, dim=1)
    return ((norm - 1) ** 2).mean(), norm


for step in range(3):
    fake = gen(torch.randn(6, 5))
    gp, norm = penalty(real, fake.detach())
    loss_c = critic(fake.detach()).mean() - critic(real).mean() + 10 * gp
    opt_c.zero_grad()
    loss_c.backward()
    gnorm = torch.sqrt(sum(p.grad.pow(2).sum() for p in critic.parameters()))
    opt_c.step()
    loss_g = -critic(gen(torch.randn(6, 5))).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    print(step, f"critic {loss_c.item():.6f} gp {gp.item():.6f} "
          f"|grad x_hat| {norm.mean().item():.6f} |grad critic| {gnorm.item():.6f} "
          f"gen {loss_g.item():.6f}")
print(critic[0].weight.grad.flatten()[:5])
print(gen[3].weight.flatten()[:5])
"""

R1 = r"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1)
D = nn.Sequential(nn.Conv1d(2, 6, 3, padding=1), nn.BatchNorm1d(6), nn.Softplus(),
                  nn.MaxPool1d(2), nn.Conv1d(6, 4, 3), nn.GELU(), nn.Flatten(),
                  nn.Linear(8, 2))
opt = torch.optim.SGD(D.parameters(), lr=0.05)
real = torch.randn(5, 2, 8)
labels = torch.tensor([0, 1, 1, 0, 1])
for step in range(3):
    x = real.clone().requires_grad_(True)
    logits = D(x)
    loss = F.cross_entropy(logits, labels)
    (g,) = torch.autograd.grad(logits[:, 1].sum(), x, create_graph=True)
    r1 = g.pow(2).sum(dim=(1, 2)).mean()
    total = loss + 0.5 * r1
    opt.zero_grad()
    total.backward()
    opt.step()
    print(step, f"{loss.item():.6f} {r1.item():.6f}", D[0].weight.grad.abs().sum().item())
"""


def test_wgan_gp_step():
    compare(WGAN_GP, rtol=1e-4, atol=1e-5, name='wgan_gp')


def test_r1_penalty():
    compare(R1, rtol=1e-4, atol=1e-5, name='r1_penalty')
