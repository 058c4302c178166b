"""The "60-minute blitz" style: tensors, numpy bridge, autograd, a small CNN trained with SGD.

Each program is run on torch and on ember (see _harness.py); the printed text must be identical.
"""
import pytest

from _harness import compare, ember, torch

TENSORS = r"""
import torch
import numpy as np

torch.manual_seed(42)
x = torch.empty(5, 3)
print(x.shape, x.dtype)
x = torch.rand(5, 3)
print(x)
x = torch.zeros(5, 3, dtype=torch.long)
print(x)
x = torch.tensor([5.5, 3])
print(x)
x = x.new_ones(5, 3, dtype=torch.double)
print(x)
x = torch.randn_like(x, dtype=torch.float)
print(x)
print(x.size())
rows, cols = x.size()
print(rows, cols)
y = torch.rand(5, 3)
print(x + y)
print(torch.add(x, y))
result = torch.empty(5, 3)
torch.add(x, y, out=result)
print(result)
y.add_(x)
print(y)
print(x[:, 1])
print(x[1, :], x[-1])
x = torch.randn(4, 4)
y = x.view(16)
z = x.view(-1, 8)
print(x.size(), y.size(), z.size())
x = torch.randn(1)
print(x)
print(x.item())
a = torch.ones(5)
print(a)
b = a.numpy()
print(b)
a.add_(1)
print(a)
print(b)
a = np.ones(5)
b = torch.from_numpy(a)
np.add(a, 1, out=a)
print(a)
print(b)
print(torch.arange(10).reshape(2, 5))
print(torch.linspace(0, 1, steps=5))
print(torch.eye(3))
print(torch.full((2, 3), 7))
print(torch.tensor([[1, 2], [3, 4]]).T)
print(torch.tensor([True, False]))
print(torch.tensor([1e-5, 1e5, 3.0]))
print(torch.tensor([1e-10, 1.0]))
print(torch.tensor(3.14159))
print(torch.tensor([[1.5, -2.25], [100.0, 0.001]]))
t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
print(t.sum(), t.mean(dim=0), t.max(dim=1))
print(t.std(), t.var(dim=1, keepdim=True))
print(torch.cat([t, t], dim=0).shape, torch.stack([t, t]).shape)
print(t.unsqueeze(0).shape, t.t().contiguous().is_contiguous())
print(t @ t.T)
print(torch.matmul(t, t.T).diag())
print(t.clamp(min=2, max=8))
print(t > 5, (t > 5).sum())
print(t[t > 5])
print(t.argmax(), t.argmax(dim=1))
print(torch.where(t > 5, t, torch.zeros_like(t)))
print(t.int(), t.long().dtype, t.double().dtype, t.half())
print(t.tolist())
print(torch.tensor([0.1, 0.2]).sum().item())
print(torch.randint(0, 10, (3, 3)))
print(torch.randperm(8))
print(torch.normal(0.0, 1.0, size=(2, 2)))
print(torch.sort(torch.tensor([3, 1, 2])))
print(torch.topk(torch.tensor([1., 5., 3., 4.]), 2))
print(torch.zeros(2, 0))
print(torch.ones(2, 3, 4)[0])
print(torch.tensor([1, 2, 3]).float().mean())
print(repr(torch.tensor([1.0, 2.0], requires_grad=True)))
print(torch.manual_seed(1) is not None)
"""

AUTOGRAD_AND_CNN = r"""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(0)
x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
print(y.grad_fn)
print(x.grad_fn, x.is_leaf, y.is_leaf)
z = y * y * 3
out = z.mean()
print(z, out)
a = torch.randn(2, 2)
a = ((a * 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn)
out.backward()
print(x.grad)
x = torch.randn(3, requires_grad=True)
y = x * 2
n = 0
while y.data.norm() < 1000:
    y = y * 2
    n += 1
print(n, y)
v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)
print(x.grad)
print(x.requires_grad)
print((x ** 2).requires_grad)
with torch.no_grad():
    print((x ** 2).requires_grad)
y = x.detach()
print(y.requires_grad)
print(x.eq(y).all())
print(torch.is_grad_enabled())
w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
loss = (w ** 3).sum()
g, = torch.autograd.grad(loss, w, create_graph=True)
print(g)
g.sum().backward()
print(w.grad)
print(y.grad_fn, g.grad_fn)
print(torch.exp(w).grad_fn, w.sigmoid().grad_fn, w.relu().grad_fn, w.view(3, 1).grad_fn)
print(w[0].grad_fn, w.mean().grad_fn, (w @ w).grad_fn)
print((w * w).grad_fn.next_functions)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)

net = Net()
print(net)
params = list(net.parameters())
print(len(params), params[0].size())
inp = torch.randn(1, 3, 32, 32)
out = net(inp)
print(out)
net.zero_grad()
out.backward(torch.randn(1, 10))
target = torch.randn(10).view(1, -1)
criterion = nn.MSELoss()
loss = criterion(net(inp), target)
print(loss)
print(loss.grad_fn)
print(loss.grad_fn.next_functions[0][0])
print(loss.grad_fn.next_functions[0][0].next_functions[0][0])
net.zero_grad()
print(net.conv1.bias.grad)
loss.backward()
print(net.conv1.bias.grad)

images = torch.randn(16, 3, 32, 32)
labels = torch.randint(0, 10, (16,))
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
for epoch in range(2):
    running_loss = 0.0
    for i in range(4):
        inputs, lab = images[i * 4:(i + 1) * 4], labels[i * 4:(i + 1) * 4]
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, lab)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 2 == 1:
            print(f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 2:.3f}')
            running_loss = 0.0
print('Finished Training')
outputs = net(images)
_, predicted = torch.max(outputs, 1)
print(predicted)
correct = (predicted == labels).sum().item()
print(f'Accuracy: {100 * correct // labels.size(0)} %')
classes = ('plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')
print(' '.join(f'{classes[predicted[j]]:5s}' for j in range(4)))
print(net.state_dict()['fc3.bias'])
print(optimizer)
print(optimizer.state_dict()['param_groups'])
"""


def test_tensors_printing_and_numpy_bridge():
    compare(TENSORS, name='tensors')


def test_autograd_and_cifar_style_cnn():
    compare(AUTOGRAD_AND_CNN, name='cnn')


def test_sum_dim_grad_fn_name():
    w = [1.0, 2.0, 3.0]
    t = torch.tensor(w, requires_grad=True).sum(0).grad_fn.name()
    e = ember.tensor(w, requires_grad=True).sum(0).grad_fn.name()
    assert e == t == 'SumBackward1'


def test_next_functions_of_tensor_plus_scalar():
    # torch keeps a (None, 0) entry for the number
    t = torch.tensor([1.0], requires_grad=True)
    e = ember.tensor([1.0], requires_grad=True)
    nt = (t + 1).grad_fn.next_functions
    ne = (e + 1).grad_fn.next_functions
    assert [type(f).__name__ if f is not None else None for f, _ in ne] == \
        [type(f).__name__ if f is not None else None for f, _ in nt]
