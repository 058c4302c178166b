"""The "Learning PyTorch with Examples" path: hand-written gradients, autograd, a custom
autograd.Function (Legendre P3), nn.Sequential + nn.Flatten, every optimizer, a dynamic graph."""
from _harness import compare

PROGRAM = r"""
import math
import random
import torch

dtype = torch.float
device = torch.device("cpu")
torch.manual_seed(3)

# samples of a damped cosine, to be fitted by a cubic
xs = torch.linspace(-2, 2, 400, device=device, dtype=dtype)
ys = torch.cos(xs) * torch.exp(-0.1 * xs)

# 1. tensors with hand-written gradients
c0, c1, c2, c3 = (torch.randn((), device=device, dtype=dtype) for _ in range(4))
step = 1e-4
for it in range(300):
    pred = c0 + c1 * xs + c2 * xs ** 2 + c3 * xs ** 3
    err = (pred - ys).pow(2).sum().item()
    if it % 100 == 99:
        print(it, round(err, 3))
    g = 2.0 * (pred - ys)
    c0 -= step * g.sum()
    c1 -= step * (g * xs).sum()
    c2 -= step * (g * xs ** 2).sum()
    c3 -= step * (g * xs ** 3).sum()
print(f'cubic: {c0.item():.4f} + {c1.item():.4f} x + {c2.item():.4f} x^2 + {c3.item():.4f} x^3')

# 2. the same with autograd
coef = torch.randn(4, dtype=dtype, requires_grad=True)
for it in range(300):
    pred = coef[0] + coef[1] * xs + coef[2] * xs ** 2 + coef[3] * xs ** 3
    loss = (pred - ys).pow(2).sum()
    if it % 100 == 99:
        print(it, f'{loss.item():.3f}')
    loss.backward()
    with torch.no_grad():
        coef -= step * coef.grad
        coef.grad = None
print(coef)


# 3. a custom autograd Function: the Laguerre polynomial L2(t) = (t^2 - 4t + 2) / 2
class Laguerre2(torch.autograd.Function):
    @staticmethod
    def forward(ctx, t):
        ctx.save_for_backward(t)
        return 0.5 * (t ** 2 - 4 * t + 2)

    @staticmethod
    def backward(ctx, grad_output):
        t, = ctx.saved_tensors
        return grad_output * (t - 2)


class Legendre3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, t):
        ctx.save_for_backward(t)
        return 0.5 * (5 * t ** 3 - 3 * t)

    @staticmethod
    def backward(ctx, grad_output):
        (t,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * t ** 2 - 1)


a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
lr = 5e-6
for it in range(200):
    P3 = Legendre3.apply
    pred = a + b * P3(c + d * xs)
    loss = (pred - ys).pow(2).sum()
    if it % 50 == 49:
        print(it, f'{loss.item():.4f}')
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= lr * p.grad
            p.grad = None
print(f'{a.item():.4f} + {b.item():.4f} * P3({c.item():.4f} + {d.item():.4f} x)')
out = Laguerre2.apply(xs[:3].clone().requires_grad_())
print(out, out.grad_fn.__class__.__name__)
out.sum().backward()
t = torch.tensor([0.5, 1.5], requires_grad=True)
y = Legendre3.apply(t)
print(y)
print(torch.autograd.gradcheck(Legendre3.apply, (torch.tensor([0.3, -0.7], dtype=torch.double, requires_grad=True),)))

# 4. nn.Sequential + nn.Flatten polynomial fit
p = torch.tensor([1, 2, 3])
xx = xs.unsqueeze(-1).pow(p)
print(xx.shape)
model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
loss_fn = torch.nn.MSELoss(reduction='sum')
for it in range(200):
    y_pred = model(xx)
    loss = loss_fn(y_pred, ys)
    if it % 50 == 49:
        print(it, f'{loss.item():.4f}')
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= 1e-4 * param.grad
linear_layer = model[0]
print(f'y = {linear_layer.bias.item():.4f} + {linear_layer.weight[:, 0].item():.4f} x + '
      f'{linear_layer.weight[:, 1].item():.4f} x^2 + {linear_layer.weight[:, 2].item():.4f} x^3')
print(model)

# 5. optim.RMSprop
model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
for it in range(200):
    loss = loss_fn(model(xx), ys)
    if it % 50 == 49:
        print(it, f'{loss.item():.4f}')
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(optimizer)
for opt_cls, kw in [(torch.optim.Adam, dict(lr=1e-2)), (torch.optim.AdamW, dict(lr=1e-2)),
                    (torch.optim.Adagrad, dict(lr=1e-1)), (torch.optim.SGD, dict(lr=1e-4, nesterov=True, momentum=0.9)),
                    (torch.optim.RMSprop, dict(lr=1e-3, momentum=0.5, centered=True)),
                    (torch.optim.Adamax, dict(lr=1e-2)), (torch.optim.NAdam, dict(lr=1e-2)),
                    (torch.optim.Adadelta, dict(lr=1.0)), (torch.optim.RAdam, dict(lr=1e-3))]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    opt = opt_cls(model.parameters(), **kw)
    for it in range(30):
        opt.zero_grad()
        loss = loss_fn(model(xx), ys)
        loss.backward()
        opt.step()
    print(opt_cls.__name__, f'{loss.item():.4f}')


# 6. dynamic graph: random depth, reused weights
class DynamicNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))
        self.e = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
        for exp in range(4, random.randint(4, 6)):
            y = y + self.e * x ** exp
        return y

    def string(self):
        return (f'y = {self.a.item():.3f} + {self.b.item():.3f} x + {self.c.item():.3f} x^2 '
                f'+ {self.d.item():.3f} x^3 + {self.e.item():.3f} x^4 ? + {self.e.item():.3f} x^5 ?')


random.seed(0)
model = DynamicNet()
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=1e-6, momentum=0.9)
for t in range(300):
    y_pred = model(xs)
    loss = criterion(y_pred, ys)
    if t % 100 == 99:
        print(t, f'{loss.item():.3f}')
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(model.string())
print([n for n, _ in model.named_parameters()])
"""


def test_learning_pytorch_with_examples():
    # float32 sums of 400 samples: the last printed digit may differ by rounding
    compare(PROGRAM, rtol=1e-5, atol=2e-4, name='examples')
