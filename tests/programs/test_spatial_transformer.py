"""A spatial transformer network (issue 13), run on torch and on ember, printed output
compared: a small localisation net predicts an affine transform (initialised to the
identity), F.affine_grid and F.grid_sample warp the input, a classifier reads the result;
a few training steps, then a 3-D warp and the sampling modes on a fixed image."""
from _harness import compare

STN = r"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class STN(nn.Module):
    def __init__(self):
        super().__init__()
        self.loc = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2), nn.ReLU(),
                                 nn.Flatten(), nn.Linear(4 * 3 * 3, 16), nn.ReLU(),
                                 nn.Linear(16, 6))
        self.loc[-1].weight.data.zero_()
        self.loc[-1].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))
        self.head = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(24, 3))

    def forward(self, x):
        theta = self.loc(x).view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        warped = F.grid_sample(x, grid, align_corners=False, padding_mode='border')
        return self.head(warped), theta


model = STN()
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
x = torch.randn(8, 1, 8, 8)
y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
for step in range(5):
    logits, theta = model(x)
    loss = F.cross_entropy(logits, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(step, f"{loss.item():.6f}", theta[0].detach().flatten().tolist())
print(model.loc[-1].bias.grad)

img = torch.arange(20.0).view(1, 1, 4, 5)
rot = torch.tensor([[[0.0, -1.0, 0.1], [1.0, 0.0, -0.2]]])
g = F.affine_grid(rot, [1, 1, 3, 3], align_corners=True)
for mode in ('bilinear', 'nearest', 'bicubic'):
    for pad in ('zeros', 'border', 'reflection'):
        out = F.grid_sample(img, g * 1.3, mode=mode, padding_mode=pad, align_corners=True)
        print(mode, pad, out.flatten().tolist())
vol = torch.randn(1, 2, 3, 4, 4)
theta3 = torch.eye(3, 4).unsqueeze(0) + 0.1 * torch.randn(1, 3, 4)
g3 = F.affine_grid(theta3, [1, 2, 2, 3, 3], align_corners=False)
print(F.grid_sample(vol, g3, align_corners=False, padding_mode='reflection'))
"""


def test_spatial_transformer():
    compare(STN, rtol=1e-4, atol=1e-5, name='spatial_transformer')
