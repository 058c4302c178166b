"""torch.distributions in training code: a VAE step (Normal rsample + kl_divergence), a
REINFORCE policy (Categorical sample/log_prob/entropy), a mixture density network
(MixtureSameFamily), a normalising flow (TransformedDistribution with affine/tanh transforms)
and a constrained parameter through transform_to."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import (Categorical, Independent, MixtureSameFamily, Normal,
                                 TransformedDistribution, constraints, kl_divergence,
                                 transform_to)
from torch.distributions.transforms import AffineTransform, TanhTransform

torch.manual_seed(0)

# --- a VAE step
enc = nn.Linear(6, 4)
dec = nn.Linear(2, 6)
opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-2)
x = torch.randn(16, 6)
for step in range(5):
    h = enc(x)
    q = Independent(Normal(h[:, :2], F.softplus(h[:, 2:]) + 1e-3), 1)
    z = q.rsample()
    prior = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)
    rec = Independent(Normal(dec(z), 1.0), 1).log_prob(x)
    loss = (kl_divergence(q, prior) - rec).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"vae {step} loss {loss.item():.4f} z {z[0].tolist()[0]:.4f}")

# --- REINFORCE
policy = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 4))
popt = torch.optim.SGD(policy.parameters(), lr=0.1)
for step in range(4):
    s = torch.randn(10, 3)
    dist = Categorical(logits=policy(s))
    a = dist.sample()
    reward = (a == 2).float() - 0.5
    loss = -(dist.log_prob(a) * reward).mean() - 0.01 * dist.entropy().mean()
    popt.zero_grad()
    loss.backward()
    popt.step()
    print(f"pg {step} actions {a.tolist()} loss {loss.item():.4f}")

# --- a mixture density network
mdn = nn.Linear(1, 9)
mopt = torch.optim.Adam(mdn.parameters(), lr=5e-2)
xs = torch.linspace(-1, 1, 32).unsqueeze(-1)
ys = torch.sin(3 * xs) + 0.1 * torch.randn_like(xs)
for step in range(6):
    out = mdn(xs)
    mix = Categorical(logits=out[:, :3])
    comp = Normal(out[:, 3:6], F.softplus(out[:, 6:]) + 1e-3)
    gmm = MixtureSameFamily(mix, comp)
    nll = -gmm.log_prob(ys.squeeze(-1)).mean()
    mopt.zero_grad()
    nll.backward()
    mopt.step()
    print(f"mdn {step} nll {nll.item():.4f} mean {gmm.mean[0].item():.4f}")
print("mdn sample", [round(v, 4) for v in gmm.sample((3,))[:, 0].tolist()])

# --- a flow: tanh-squashed Gaussian policy as in SAC
loc = torch.zeros(3, requires_grad=True)
log_scale = torch.zeros(3, requires_grad=True)
fopt = torch.optim.Adam([loc, log_scale], lr=0.1)
target = torch.tensor([0.5, -0.3, 0.8])
for step in range(5):
    flow = TransformedDistribution(Normal(loc, log_scale.exp()),
                                   [TanhTransform(cache_size=1), AffineTransform(0.0, 2.0)])
    act = flow.rsample((64,))
    lp = flow.log_prob(act).sum(-1)
    loss = ((act / 2 - target) ** 2).sum(-1).mean() + 0.01 * lp.mean()
    fopt.zero_grad()
    loss.backward()
    fopt.step()
    print(f"flow {step} loss {loss.item():.4f} loc {[round(v, 4) for v in loc.tolist()]}")

# --- a positive parameter through transform_to
raw = torch.zeros(2, requires_grad=True)
to_pos = transform_to(constraints.positive)
ropt = torch.optim.SGD([raw], lr=0.5)
for step in range(3):
    scale = to_pos(raw)
    nll = -Normal(0.0, scale).log_prob(torch.tensor([[2.0, 0.5]] * 4)).mean()
    ropt.zero_grad()
    nll.backward()
    ropt.step()
    print(f"scale {step} {[round(v, 4) for v in scale.tolist()]} nll {nll.item():.4f}")
print(repr(Normal(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 2.0]))), to_pos)
