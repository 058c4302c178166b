"""`ember demo --seeds`: the seed documents' networks built, printed, trained and saved.

Every line of `main` is ordinary PyTorch code that does `import torch`: `ember demo --seeds`
runs it with ember's hook installed, `ember demo --seeds --framework torch` on PyTorch, and the
two print the same text (tests/programs/test_demo.py holds them to it).
"""
import os
import tempfile
from collections import OrderedDict


def lenet_class(torch):
    """The seeds' LeNet (document 003): two 5x5 convolutions with max pooling, three linear
    layers; built on `torch` as the caller imported it (ember under the hook, or PyTorch)."""
    nn, F = torch.nn, torch.nn.functional

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(-1, 16 * 5 * 5)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return LeNet


def main():
    import torch  # optional: ember under the hook, PyTorch with --framework torch
    nn = torch.nn
    F = torch.nn.functional

    def section(title):
        print(f"\n=== {title} ===")

    class MLP(nn.Module):
        """A hidden layer of 256 ReLU units and a 10-unit output layer (seed 000)."""

        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(20, 256)
            self.out = nn.Linear(256, 10)

        def forward(self, X):
            return self.out(F.relu(self.hidden(X)))

    class FixedHiddenMLP(nn.Module):
        """Constant weights, parameter sharing and control flow inside forward (seed 000)."""

        def __init__(self):
            super().__init__()
            self.rand_weight = torch.rand((20, 20), requires_grad=False)
            self.linear = nn.Linear(20, 20)

        def forward(self, X):
            X = self.linear(X)
            X = F.relu(torch.mm(X, self.rand_weight) + 1)
            X = self.linear(X)
            while X.abs().sum() > 1:
                X /= 2
            return X.sum()

    class CenteredLayer(nn.Module):
        """A layer without parameters (seed 004)."""

        def forward(self, X):
            return X - X.mean()

    class MyDictDense(nn.Module):
        """Parameters kept in a ParameterDict (seed 003)."""

        def __init__(self):
            super().__init__()
            self.params = nn.ParameterDict({
                'linear1': nn.Parameter(torch.randn(4, 4)),
                'linear2': nn.Parameter(torch.randn(4, 1)),
            })
            self.params.update({'linear3': nn.Parameter(torch.randn(4, 2))})

        def forward(self, x, choice='linear1'):
            return torch.mm(x, self.params[choice])

    LeNet = lenet_class(torch)

    torch.manual_seed(0)

    section("nn.Sequential and a custom MLP (seed 000)")
    X = torch.rand(2, 20)
    net = nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))
    print(net)
    print(net(X))
    mlp = MLP()
    print(mlp(X))

    section("control flow in forward")
    print(FixedHiddenMLP()(X))

    section("layers with and without parameters (seeds 003, 004)")
    print(CenteredLayer()(torch.FloatTensor([1, 2, 3, 4, 5])))
    seq = nn.Sequential(nn.Linear(8, 128), CenteredLayer())
    print(seq(torch.rand(4, 8)).mean().abs() < 1e-6)
    dense = MyDictDense()
    print(dense)
    print(dense(torch.ones(1, 4), 'linear3'))

    section("Sequential from an OrderedDict, state_dict, apply (seed 002)")
    model = nn.Sequential(OrderedDict([
        ('conv1', nn.Conv2d(1, 20, 5)), ('relu1', nn.ReLU()),
        ('conv2', nn.Conv2d(20, 64, 5)), ('relu2', nn.ReLU())]))
    print(model)
    print(model[2])

    def init_weight(m):
        if type(m) == nn.Linear:
            m.weight.data.fill_(1.0)
            m.bias.data.fill_(0)
    lin = nn.Sequential(nn.Linear(2, 2))
    lin.apply(init_weight)
    print(lin.state_dict())

    section("training LeNet with a DataLoader, CrossEntropyLoss and Adam (seed 003)")
    images = torch.randn(64, 1, 32, 32)
    labels = torch.randint(0, 10, (64,))
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(images, labels), batch_size=16, shuffle=True)
    lenet = LeNet()
    print(lenet)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(lenet.parameters(), lr=1e-3)
    for epoch in range(3):
        lenet.train()
        train_loss = 0.0
        for data, label in loader:
            optimizer.zero_grad()
            output = lenet(data)
            loss = criterion(output, label)
            loss.backward()
            optimizer.step()
            train_loss += loss.item() * data.size(0)
        train_loss = train_loss / len(loader.dataset)
        print('Epoch: {} \tTraining Loss: {:.6f}'.format(epoch, train_loss))
    lenet.eval()
    with torch.no_grad():
        preds = torch.argmax(lenet(images), 1)
        print('accuracy on the training set:', (preds == labels).float().mean().item())

    section("a checkpoint in PyTorch's own file format")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'lenet.pt')
        torch.save(lenet.state_dict(), path)
        again = LeNet()
        print(again.load_state_dict(torch.load(path)))
        with torch.no_grad():
            print(torch.equal(again(images), lenet(images)))
