"""Per-sample gradients of a small MLP with torch.func, and a few other transforms.

vmap(grad(loss)) over functional_call gives each sample's gradient; their mean is the
batch gradient that loss.backward() gives. Then an ensemble by stack_module_state, a
Jacobian and a Hessian-vector product, and forward-mode AD through the model.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap, jacrev, jvp, vjp, stack_module_state
import torch.autograd.forward_ad as fwAD

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
x = torch.randn(6, 4)
y = torch.randn(6, 3)
params = {k: v.detach() for k, v in model.named_parameters()}


def loss_fn(p, xi, yi):
    out = functional_call(model, p, (xi.unsqueeze(0),))
    return F.mse_loss(out, yi.unsqueeze(0))


per_sample = vmap(grad(loss_fn), in_dims=(None, 0, 0))(params, x, y)
for k, g in per_sample.items():
    print(k, tuple(g.shape), f"{g.norm().item():.4f}")

F.mse_loss(model(x), y).backward()
for k, p in model.named_parameters():
    print(k, 'mean of per-sample grads equals the batch gradient',
          torch.allclose(per_sample[k].mean(0), p.grad, atol=1e-6),
          f"{p.grad.sum().item():.4f}")

# an ensemble of three models evaluated together
models = [nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)) for _ in range(3)]
ens_params, ens_buffers = stack_module_state(models)
ens_out = vmap(lambda p, b, xb: functional_call(models[0], (p, b), (xb,)),
               in_dims=(0, 0, None))(ens_params, ens_buffers, x[:2])
print('ensemble', tuple(ens_out.shape))
print(ens_out.round(decimals=4))

# the Jacobian of the model's output w.r.t. one input, and a jvp / vjp pair
J = jacrev(lambda xi: model(xi))(x[0])
print('jacobian', tuple(J.shape), J.round(decimals=4))
v = torch.ones(4)
out, jv = jvp(lambda xi: model(xi), (x[0],), (v,))
_, back = vjp(lambda xi: model(xi), x[0])
print('jvp', jv.detach().round(decimals=4))
print('vjp', back(torch.ones(3))[0].detach().round(decimals=4))

with fwAD.dual_level():
    dual_out = model(fwAD.make_dual(x[0], v))
    print('forward AD', fwAD.unpack_dual(dual_out).tangent.detach().round(decimals=4))
