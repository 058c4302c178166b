"""torchinfo.summary on a few models: a CNN with BatchNorm and dropout, an LSTM tagger, a small
Transformer encoder with tied embedding/output weights, nested containers, several inputs,
chosen columns, depth limits and a frozen part."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchinfo import summary


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(16, 10))

    def forward(self, x):
        return self.head(self.features(x))


class Tagger(nn.Module):
    def __init__(self, vocab=50, emb=12, hidden=10, tags=5):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb, padding_idx=0)
        self.lstm = nn.LSTM(emb, hidden, num_layers=2, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, tags)

    def forward(self, tokens):
        h, _ = self.lstm(self.embed(tokens))
        return F.log_softmax(self.out(h), dim=-1)


class TinyLM(nn.Module):
    def __init__(self, vocab=40, d=16):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.zeros(1, 12, d))
        layer = nn.TransformerEncoderLayer(d, 2, 32, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.tok.weight

    def forward(self, idx):
        x = self.tok(idx) + self.pos[:, :idx.size(1)]
        return self.head(self.ln(self.encoder(x)))


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 4)
        self.b = nn.ModuleDict({'left': nn.Linear(3, 4), 'right': nn.Bilinear(4, 4, 2)})

    def forward(self, x, y):
        return self.b['right'](self.a(x), self.b['left'](y))


torch.manual_seed(0)
cnn = SmallCNN()
print(summary(cnn, input_size=(2, 3, 16, 16), verbose=0))
print(summary(cnn, input_size=(1, 3, 8, 8), depth=1,
              col_names=('input_size', 'output_size', 'num_params', 'kernel_size',
                         'mult_adds', 'trainable'), verbose=0))
stats = summary(Tagger(), input_data=torch.randint(1, 50, (3, 7)), verbose=0,
                col_names=('output_size', 'num_params', 'params_percent'))
print(stats)
print(stats.total_params, stats.trainable_params, stats.total_mult_adds)
lm = TinyLM()
for p in lm.encoder.layers[0].parameters():
    p.requires_grad_(False)
print(summary(lm, input_data=torch.randint(0, 40, (2, 12)), depth=3, verbose=0,
              row_settings=('var_names', 'depth')))
print(summary(TwoInputs(), input_size=[(5, 6), (5, 3)], dtypes=[torch.float, torch.float],
              verbose=0))
print(summary(nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1)), input_size=(8, 4),
              verbose=0, col_names=('input_size', 'output_size', 'num_params')))
