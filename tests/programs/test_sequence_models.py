"""Text classifiers: nn.Embedding + bidirectional LSTM/GRU over pack_padded_sequence, RNN cells,
and an nn.TransformerEncoder classifier with padding masks, AdamW and cosine annealing."""
from _harness import compare

PROGRAM = r"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

torch.manual_seed(0)
vocab = ['<pad>', 'the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'far', 'away', 'a', 'big']
stoi = {w: i for i, w in enumerate(vocab)}
sentences = ['the cat sat on the mat', 'a dog ran far away', 'the big dog sat',
             'a cat ran', 'the mat', 'a big big dog ran away']
labels = torch.tensor([0, 1, 1, 0, 0, 1])
seqs = [torch.tensor([stoi[w] for w in s.split()]) for s in sentences]
lengths = torch.tensor([len(s) for s in seqs])
batch = pad_sequence(seqs, batch_first=True, padding_value=0)
print(batch)
print(lengths)


class RNNClassifier(nn.Module):
    def __init__(self, vocab_size, emb_dim, hidden, n_classes, cell='lstm'):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=0)
        rnn_cls = nn.LSTM if cell == 'lstm' else nn.GRU
        self.rnn = rnn_cls(emb_dim, hidden, num_layers=2, batch_first=True, bidirectional=True,
                           dropout=0.0)
        self.fc = nn.Linear(2 * hidden, n_classes)

    def forward(self, x, lengths):
        emb = self.embedding(x)
        packed = pack_padded_sequence(emb, lengths, batch_first=True, enforce_sorted=False)
        out, h = self.rnn(packed)
        if isinstance(h, tuple):
            h = h[0]
        feats = torch.cat([h[-2], h[-1]], dim=1)
        unpacked, out_lens = pad_packed_sequence(out, batch_first=True)
        return self.fc(feats), unpacked, out_lens


for cell in ('lstm', 'gru'):
    torch.manual_seed(1)
    model = RNNClassifier(len(vocab), 8, 6, 2, cell)
    print(model)
    print([(n, tuple(p.shape)) for n, p in model.named_parameters()][:6])
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for step in range(8):
        logits, unpacked, out_lens = model(batch, lengths)
        loss = F.cross_entropy(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 3 == 0:
            print(step, f'{loss.item():.5f}')
    print(unpacked.shape, out_lens)
    print(logits.argmax(1), (logits.argmax(1) == labels).float().mean())
    print(model.embedding.weight.grad[0])

packed = pack_padded_sequence(batch, lengths, batch_first=True, enforce_sorted=False)
print(packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
print(packed.data)
lstm = nn.LSTM(3, 4)
print(lstm)
x = torch.randn(5, 2, 3)
out, (h, c) = lstm(x)
print(out.shape, h.shape, c.shape)
print(out[-1])
gru = nn.GRU(3, 4, batch_first=True)
o, hn = gru(x.transpose(0, 1), torch.zeros(1, 2, 4))
print(o.sum(), hn.shape)
cell = nn.LSTMCell(3, 4)
hx, cx = torch.zeros(2, 4), torch.zeros(2, 4)
for t in range(x.size(0)):
    hx, cx = cell(x[t], (hx, cx))
print(hx)
rnn = nn.RNN(3, 4, nonlinearity='relu')
print(rnn(x)[0].mean())


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=50):
        super().__init__()
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer('pe', pe.unsqueeze(0))

    def forward(self, x):
        return x + self.pe[:, :x.size(1)]


class TransformerClassifier(nn.Module):
    def __init__(self, vocab_size, d_model=16, nhead=4, n_layers=2, n_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.pos = PositionalEncoding(d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=32, dropout=0.0,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=n_layers,
                                             enable_nested_tensor=False)
        self.fc = nn.Linear(d_model, n_classes)

    def forward(self, x):
        pad_mask = x == 0
        h = self.encoder(self.pos(self.embedding(x) * math.sqrt(16)),
                         src_key_padding_mask=pad_mask)
        h = h.masked_fill(pad_mask.unsqueeze(-1), 0.0)
        pooled = h.sum(1) / (~pad_mask).sum(1, keepdim=True)
        return self.fc(pooled)


torch.manual_seed(2)
model = TransformerClassifier(len(vocab))
print(model)
print(sum(p.numel() for p in model.parameters() if p.requires_grad))
opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6)
for step in range(6):
    model.train()
    logits = model(batch)
    loss = F.cross_entropy(logits, labels, label_smoothing=0.1)
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    sched.step()
    if step % 3 == 0:
        print(step, f'{loss.item():.5f}', f'{sched.get_last_lr()[0]:.6f}')
model.eval()
with torch.no_grad():
    probs = F.softmax(model(batch), dim=-1)
print(probs.shape, probs.sum(1))
mask = nn.Transformer.generate_square_subsequent_mask(4)
print(mask)
mha = nn.MultiheadAttention(16, 4, batch_first=True)
q = torch.randn(2, 3, 16)
attn_out, attn_w = mha(q, q, q)
print(attn_out.shape, attn_w.shape, attn_w.sum(-1))
"""


def test_rnn_and_transformer_text_classifiers():
    compare(PROGRAM, rtol=1e-5, atol=2e-5, name='sequence')
