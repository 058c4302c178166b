"""Training workloads the benchmarks in this folder time, for any module that acts as torch.

Each `build_<name>(torch, quick=False)` returns a `step()` closure doing one training step
(zero_grad, forward, loss, backward, optimiser step where there is one) and the number of
images per step. `quick` shrinks the batch so that a smoke run takes seconds.

    lenet      the seeds' LeNet (two 5x5 conv + 2x2 max pool, three linear layers), SGD with
               momentum, 64 random 1x32x32 images per step
    resnet     a small residual CNN (3x3 conv + BatchNorm + ReLU blocks, two stride-2 stages,
               global average pooling), Adam, 32 random 3x32x32 images per step
    unet       a depth-3 UNet (double 3x3 conv + BatchNorm + ReLU at each level, transposed-conv
               up-sampling with skip connections), per-pixel cross-entropy, 4 1x64x64 images,
               no optimiser step

These are the conv-heavy yardsticks of the speed work, written for this repository so that
the benchmarks run from a fresh clone.
"""

NAMES = ('lenet', 'resnet', 'unet')


def build(torch, name, quick=False):
    return {'lenet': build_lenet, 'resnet': build_resnet, 'unet': build_unet}[name](torch, quick)


def _stepper(torch, model, opt, batches, loss_fn):
    state = [0]

    def step():
        x, y = batches[state[0] % len(batches)]
        state[0] += 1
        if opt is not None:
            opt.zero_grad()
        else:
            model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if opt is not None:
            opt.step()
        return loss
    model.train()
    return step


def build_lenet(torch, quick=False):
    nn, F = torch.nn, torch.nn.functional

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = (nn.Linear(400, 120), nn.Linear(120, 84),
                                            nn.Linear(84, 10))

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = torch.flatten(x, 1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    torch.manual_seed(0)
    batch = 8 if quick else 64
    model = LeNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    data = [(torch.randn(batch, 1, 32, 32), torch.randint(0, 10, (batch,))) for _ in range(4)]
    return _stepper(torch, model, opt, data, nn.CrossEntropyLoss()), batch


def build_resnet(torch, quick=False):
    nn, F = torch.nn, torch.nn.functional

    def conv_bn(cin, cout, stride=1, k=3):
        return [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False),
                nn.BatchNorm2d(cout)]

    class Block(nn.Module):
        def __init__(self, cin, cout, stride=1):
            super().__init__()
            self.body = nn.Sequential(*conv_bn(cin, cout, stride), nn.ReLU(),
                                      *conv_bn(cout, cout))
            self.skip = (nn.Sequential(*conv_bn(cin, cout, stride, k=1))
                         if stride != 1 or cin != cout else nn.Identity())

        def forward(self, x):
            return F.relu(self.body(x) + self.skip(x))

    torch.manual_seed(0)
    batch = 4 if quick else 32
    model = nn.Sequential(*conv_bn(3, 16), nn.ReLU(), Block(16, 16), Block(16, 16),
                          Block(16, 32, 2), Block(32, 64, 2), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = [(torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))) for _ in range(4)]
    return _stepper(torch, model, opt, data, nn.CrossEntropyLoss()), batch


def build_unet(torch, quick=False):
    nn, F = torch.nn, torch.nn.functional

    def double_conv(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                             nn.BatchNorm2d(cout), nn.ReLU(),
                             nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                             nn.BatchNorm2d(cout), nn.ReLU())

    class UNet(nn.Module):
        def __init__(self, base=16, depth=3):
            super().__init__()
            widths = [base * 2 ** i for i in range(depth + 1)]
            self.enc = nn.ModuleList([double_conv(1, base)] + [
                double_conv(widths[i], widths[i + 1]) for i in range(depth)])
            self.up = nn.ModuleList([nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2)
                                     for i in reversed(range(depth))])
            self.dec = nn.ModuleList([double_conv(widths[i] * 2, widths[i])
                                      for i in reversed(range(depth))])
            self.head = nn.Conv2d(base, 2, 1)

        def forward(self, x):
            skips = []
            for i, enc in enumerate(self.enc):
                x = enc(x if i == 0 else F.max_pool2d(x, 2))
                skips.append(x)
            skips.pop()
            for up, dec in zip(self.up, self.dec):
                x = dec(torch.cat([skips.pop(), up(x)], dim=1))
            return self.head(x)

    torch.manual_seed(0)
    batch, size = (1, 32) if quick else (4, 64)
    model = UNet()
    data = [(torch.randn(batch, 1, size, size), torch.randint(0, 2, (batch, size, size)))]
    return _stepper(torch, model, None, data, F.cross_entropy), batch
