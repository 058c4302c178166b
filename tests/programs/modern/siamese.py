"""A siamese embedding network trained on synthetic clusters.

A custom Dataset that builds (anchor, positive, negative) triplets with its own seeded
torch.Generator, a DataLoader over it, a shared encoder trained first with
nn.TripletMarginLoss, then with a contrastive loss written with F.pairwise_distance on
(pair, same/different) samples; evaluation by F.cosine_similarity and nearest neighbours.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(7)
N_CLASSES, PER_CLASS, DIM = 4, 12, 10
centres = torch.randn(N_CLASSES, DIM) * 2.0
points = centres.repeat_interleave(PER_CLASS, dim=0) + 0.8 * torch.randn(N_CLASSES * PER_CLASS,
                                                                           DIM)
labels = torch.arange(N_CLASSES).repeat_interleave(PER_CLASS)
print(points.shape, labels.shape, labels[:14])


class TripletDataset(Dataset):
    def __init__(self, x, y, seed=0):
        self.x, self.y = x, y
        self.by_class = {int(c): (y == c).nonzero(as_tuple=True)[0] for c in y.unique()}
        self.seed = seed

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        g = torch.Generator().manual_seed(self.seed + idx)
        c = int(self.y[idx])
        same = self.by_class[c]
        pos = same[torch.randint(len(same), (1,), generator=g)].item()
        others = [k for k in self.by_class if k != c]
        neg_c = others[torch.randint(len(others), (1,), generator=g).item()]
        pool = self.by_class[neg_c]
        neg = pool[torch.randint(len(pool), (1,), generator=g)].item()
        return self.x[idx], self.x[pos], self.x[neg], c


class PairDataset(Dataset):
    """(x1, x2, 1.0 if the same class else 0.0), half of the pairs positive."""

    def __init__(self, x, y):
        self.x, self.y = x, y
        g = torch.Generator().manual_seed(3)
        n = len(x)
        self.first = torch.randint(n, (2 * n,), generator=g)
        self.second = torch.randint(n, (2 * n,), generator=g)
        for i in range(0, 2 * n, 2):  # force every other pair to be positive
            same = (y == y[self.first[i]]).nonzero().flatten()
            self.second[i] = same[i % len(same)]

    def __len__(self):
        return len(self.first)

    def __getitem__(self, i):
        a, b = self.first[i], self.second[i]
        return self.x[a], self.x[b], (self.y[a] == self.y[b]).float()


class EmbeddingNet(nn.Module):
    def __init__(self, dim, emb=4):
        super().__init__()
        # no bias before the BatchNorm nor on the output: the losses do not depend on them
        self.net = nn.Sequential(nn.Linear(dim, 16), nn.PReLU(), nn.Linear(16, 16, bias=False),
                                 nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, emb, bias=False))

    def forward(self, x):
        return self.net(x)


class SiameseNet(nn.Module):
    def __init__(self, embedding_net):
        super().__init__()
        self.embedding_net = embedding_net

    def forward(self, x1, x2, x3=None):
        outs = [self.embedding_net(x1), self.embedding_net(x2)]
        if x3 is not None:
            outs.append(self.embedding_net(x3))
        return tuple(outs)

    def get_embedding(self, x):
        return self.embedding_net(x)


class ContrastiveLoss(nn.Module):
    def __init__(self, margin=2.0):
        super().__init__()
        self.margin = margin

    def forward(self, o1, o2, target):
        d = F.pairwise_distance(o1, o2, keepdim=True).squeeze(1)
        loss = target * d.pow(2) + (1 - target) * torch.clamp(self.margin - d, min=0.0).pow(2)
        return loss.mean() / 2


model = SiameseNet(EmbeddingNet(DIM))
print(model)
triplets = TripletDataset(points, labels)
a, p, n_, c = triplets[5]
print(a.shape, c, torch.equal(a, points[5]))
loader = DataLoader(triplets, batch_size=8, shuffle=True)
criterion = nn.TripletMarginLoss(margin=1.0, p=2)
# SGD, not Adam: with a BatchNorm after a Linear, the first Linear's bias has a gradient that
# is zero but for rounding whenever a unit stays on one side of the PReLU for a whole batch;
# Adam would turn that rounding noise into full-size steps
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                            weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

for epoch in range(4):
    model.train()
    total = 0.0
    for batch_idx, (anchor, positive, negative, cls) in enumerate(loader):
        optimizer.zero_grad()
        ea, ep, en = model(anchor, positive, negative)
        loss = criterion(ea, ep, en)
        loss.backward()
        optimizer.step()
        total += loss.item()
        if batch_idx % 3 == 0:
            print(f'epoch {epoch} batch {batch_idx} loss {loss.item():.5f} classes {cls.tolist()}')
    scheduler.step()
    print(f'epoch {epoch} mean loss {total / len(loader):.5f} lr {scheduler.get_last_lr()}')

pairs = PairDataset(points, labels)
print('positive pairs', int(sum(pairs[i][2] for i in range(len(pairs)))), 'of', len(pairs))
pair_loader = DataLoader(pairs, batch_size=16, shuffle=True, drop_last=True)
contrastive = ContrastiveLoss(margin=2.0)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, dampening=0.1)
for epoch in range(2):
    for x1, x2, same in pair_loader:
        o1, o2 = model(x1, x2)
        loss = contrastive(o1, o2, same)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f'contrastive epoch {epoch}: {loss.item():.5f}')

model.eval()
with torch.no_grad():
    emb = model.get_embedding(points)
    sim = F.cosine_similarity(emb.unsqueeze(1), emb.unsqueeze(0), dim=-1)
    sim.fill_diagonal_(-2.0)
    nearest = sim.argmax(dim=1)
    acc = (labels[nearest] == labels).float().mean()
    dist = torch.cdist(emb, emb)
print('embeddings', emb.shape, 'nearest-neighbour accuracy', f'{acc.item():.4f}')
print('cos(0, 1) %.4f cos(0, 40) %.4f' % (sim[0, 1].item(), sim[0, 40].item()))
print('pairwise', F.pairwise_distance(emb[:3], emb[3:6]))
print('cdist row 0', dist[0, :6])
print(nn.CosineSimilarity(dim=1)(emb[:2], emb[2:4]), nn.PairwiseDistance(p=1.0)(emb[:2], emb[2:4]))
print(nn.TripletMarginLoss(margin=0.5, p=1, swap=True)(emb[:4], emb[4:8], emb[40:44]))
print(nn.CosineEmbeddingLoss(margin=0.1)(emb[:4], emb[40:44], torch.tensor([1, -1, 1, -1])))
