"""A small DCGAN on synthetic 16x16 stripe images.

ConvTranspose2d generator and Conv2d discriminator with BatchNorm and LeakyReLU, DCGAN's
weights_init through Module.apply, two Adam optimizers, BCELoss on a Sigmoid output (and the
same discriminator trained through BCEWithLogitsLoss), fake images .detach()-ed for the
discriminator step, a fixed noise batch to watch the generator.
"""
import argparse
import random

import torch
import torch.nn as nn
import torch.optim as optim
import torch.utils.data
from torch.utils.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser()
parser.add_argument('--niter', type=int, default=2, help='number of epochs')
parser.add_argument('--batchSize', type=int, default=16)
parser.add_argument('--nz', type=int, default=8, help='size of the latent z vector')
parser.add_argument('--ngf', type=int, default=8)
parser.add_argument('--ndf', type=int, default=8)
parser.add_argument('--lr', type=float, default=0.0002)
parser.add_argument('--beta1', type=float, default=0.5)
parser.add_argument('--manualSeed', type=int, default=999)
opt = parser.parse_args()
print(opt)

random.seed(opt.manualSeed)
torch.manual_seed(opt.manualSeed)
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
nz, ngf, ndf, nc = opt.nz, opt.ngf, opt.ndf, 1


def make_images(n):
    """Stripes at random angles and phases, scaled to [-1, 1] as Normalize((0.5,), (0.5,))."""
    grid = torch.linspace(-1.0, 1.0, 16)
    yy, xx = torch.meshgrid(grid, grid, indexing='ij')
    angle = torch.rand(n, 1, 1) * torch.pi if hasattr(torch, 'pi') else None
    phase = torch.rand(n, 1, 1) * 6.2831853
    freq = 2.0 + 3.0 * torch.rand(n, 1, 1)
    proj = xx * torch.cos(angle) + yy * torch.sin(angle)
    img = torch.sin(freq * proj * 3.0 + phase)
    return img.unsqueeze(1).clamp(-1, 1)


images = make_images(64)
print(images.shape, images.dtype, f'{images.min().item():.4f} {images.max().item():.4f}')
dataset = TensorDataset(images)
dataloader = DataLoader(dataset, batch_size=opt.batchSize, shuffle=True, drop_last=True)


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.main = nn.Sequential(
            # z: nz x 1 x 1 -> (ngf*4) x 4 x 4
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # -> (ngf*2) x 8 x 8
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # -> nc x 16 x 16
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, input):
        return self.main(input).view(-1, 1).squeeze(1)


netG = Generator().to(device)
netG.apply(weights_init)
print(netG)
netD = Discriminator().to(device)
netD.apply(weights_init)
print(netD)
print(sum(p.numel() for p in netG.parameters()), sum(p.numel() for p in netD.parameters()))

criterion = nn.BCELoss()
fixed_noise = torch.randn(opt.batchSize, nz, 1, 1, device=device)
real_label, fake_label = 1.0, 0.0

optimizerD = optim.Adam(netD.parameters(), lr=opt.lr * 10, betas=(opt.beta1, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=opt.lr * 10, betas=(opt.beta1, 0.999))

G_losses, D_losses = [], []
for epoch in range(opt.niter):
    for i, data in enumerate(dataloader, 0):
        # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real_cpu = data[0].to(device)
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)
        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()

        noise = torch.randn(batch_size, nz, 1, 1, device=device)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()

        # (2) update G: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()

        print('[%d/%d][%d/%d] Loss_D: %.4f Loss_G: %.4f D(x): %.4f D(G(z)): %.4f / %.4f'
              % (epoch, opt.niter, i, len(dataloader),
                 errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))
        G_losses.append(errG.item())
        D_losses.append(errD.item())

    with torch.no_grad():
        fake = netG(fixed_noise).detach().cpu()
    print('epoch', epoch, tuple(fake.shape), f'mean {fake.mean():.4f} std {fake.std():.4f}')

# the same discriminator without its Sigmoid, trained through BCEWithLogitsLoss
logits_D = nn.Sequential(*list(netD.main.children())[:-1])
criterion_logits = nn.BCEWithLogitsLoss()
real = next(iter(dataloader))[0]
with torch.no_grad():
    z = torch.randn(real.size(0), nz, 1, 1)
    fake = netG(z)
for step in range(3):
    optimizerD.zero_grad()
    out_real = logits_D(real).view(-1)
    out_fake = logits_D(fake).view(-1)
    loss = (criterion_logits(out_real, torch.ones_like(out_real))
            + criterion_logits(out_fake, torch.zeros_like(out_fake)))
    same = criterion(torch.sigmoid(out_real), torch.ones_like(out_real))
    loss.backward()
    optimizerD.step()
    print(f'logits step {step}: {loss.item():.4f} (BCE on sigmoid {same.item():.4f})')

netG.eval()
with torch.no_grad():
    sample = netG(fixed_noise[:2])
print(sample[0, 0, :3, :5])
print('running mean', netG.main[1].running_mean[:4])
print('num_batches_tracked', netD.main[3].num_batches_tracked)
print('G losses', ' '.join(f'{v:.3f}' for v in G_losses))
print('D losses', ' '.join(f'{v:.3f}' for v in D_losses))
for row in (sample[1, 0, ::2, ::2] > 0).tolist():
    print(''.join('#' if v else '.' for v in row))
