"""Word-level language models on a tiny corpus: an LSTM and a Transformer, both with tied weights.

A Dictionary/Corpus built from text, batchify into columns, truncated back-propagation
through time with the hidden state detached between batches, the encoder embedding shared
with the decoder projection, nn.TransformerEncoder under a causal mask from
nn.Transformer.generate_square_subsequent_mask, sinusoidal positional encodings,
clip_grad_norm_ with a hand-written SGD update, perplexity and learning-rate annealing on the
validation loss, then a saved and reloaded best model.
"""
import argparse
import math
import os
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser(description='tiny word-level language model')
parser.add_argument('--model', type=str, default='LSTM', help='LSTM, GRU or Transformer')
parser.add_argument('--emsize', type=int, default=16)
parser.add_argument('--nhid', type=int, default=16)
parser.add_argument('--nlayers', type=int, default=2)
parser.add_argument('--lr', type=float, default=5.0)
parser.add_argument('--clip', type=float, default=0.25)
parser.add_argument('--epochs', type=int, default=3)
parser.add_argument('--bptt', type=int, default=8)
parser.add_argument('--dropout', type=float, default=0.2)
parser.add_argument('--nhead', type=int, default=2)
parser.add_argument('--seed', type=int, default=1111)
args = parser.parse_args()

TRAIN = """the river runs past the mill and the mill turns all day
the miller sells flour in the town and the town buys bread
a cart comes down the road with sacks of grain for the mill
the children watch the wheel turn and the water falls white
in winter the river is slow and the wheel stops in the ice
the miller waits by the fire and counts the sacks of flour
in spring the ice breaks and the river runs fast again"""
VALID = """the wheel turns and the miller sells bread in the town
a cart of grain comes down the road in spring"""


class Dictionary(object):
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


class Corpus(object):
    def __init__(self, texts):
        self.dictionary = Dictionary()
        self.train, self.valid = (self.tokenize(t) for t in texts)

    def tokenize(self, text):
        idss = []
        for line in text.split('\n'):
            words = line.split() + ['<eos>']
            idss.append(torch.tensor([self.dictionary.add_word(w) for w in words],
                                     dtype=torch.int64))
        return torch.cat(idss)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).t().contiguous()


class RNNModel(nn.Module):
    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super(RNNModel, self).__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError('When using the tied flag, nhid must be equal to emsize')
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output).view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == 'LSTM':
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=64):
        super(PositionalEncoding, self).__init__()
        self.dropout = nn.Dropout(p=dropout)
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0).transpose(0, 1)
        self.register_buffer('pe', pe)

    def forward(self, x):
        x = x + self.pe[:x.size(0), :]
        return self.dropout(x)


class TransformerModel(nn.Transformer):
    """An nn.Transformer subclass that uses only its encoder, with a tied output layer."""

    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
        super(TransformerModel, self).__init__(d_model=ninp, nhead=nhead,
                                               dim_feedforward=nhid,
                                               num_encoder_layers=nlayers)
        self.model_type = 'Transformer'
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)
        self.decoder.weight = self.input_emb.weight  # tied
        self.init_weights()

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.input_emb.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)

    def forward(self, src, has_mask=True):
        if has_mask:
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                self.src_mask = nn.Transformer.generate_square_subsequent_mask(len(src))
        else:
            self.src_mask = None
        src = self.input_emb(src) * math.sqrt(self.ninp)
        src = self.pos_encoder(src)
        output = self.encoder(src, mask=self.src_mask)
        output = self.decoder(output)
        return F.log_softmax(output, dim=-1)


class SmallTransformerLM(nn.Module):
    """The same idea from parts: TransformerEncoderLayer + TransformerEncoder, a causal mask."""

    def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, dropout=0.2):
        super().__init__()
        self.embedding = nn.Embedding(ntoken, d_model)
        self.pos = PositionalEncoding(d_model, dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
        self.transformer_encoder = nn.TransformerEncoder(layer, nlayers,
                                                         enable_nested_tensor=False)
        self.linear = nn.Linear(d_model, ntoken)
        self.linear.weight = self.embedding.weight
        self.d_model = d_model
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        nn.init.zeros_(self.linear.bias)

    def forward(self, src, src_mask=None):
        src = self.pos(self.embedding(src) * math.sqrt(self.d_model))
        if src_mask is None:
            src_mask = nn.Transformer.generate_square_subsequent_mask(len(src))
        return self.linear(self.transformer_encoder(src, src_mask, is_causal=True))


def repackage_hidden(h):
    """Detach hidden states from their history (truncated BPTT)."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i):
    seq_len = min(args.bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


torch.manual_seed(args.seed)
device = torch.device('cpu')
corpus = Corpus([TRAIN, VALID])
ntokens = len(corpus.dictionary)
train_data = batchify(corpus.train, 4).to(device)
val_data = batchify(corpus.valid, 2).to(device)
print('tokens', ntokens, 'train', tuple(train_data.shape), 'valid', tuple(val_data.shape))
print(train_data[:3])
mask = nn.Transformer.generate_square_subsequent_mask(4)
print(mask)
print(mask.dtype, torch.isinf(mask).sum().item())
criterion = nn.NLLLoss()


def run(model, name, use_log_softmax_output=True):
    lr = args.lr
    best_val_loss = None
    path = os.path.join(tempfile.mkdtemp(), 'model.pt')

    def evaluate(model, data_source):
        model.eval()
        total_loss = 0.
        if name != 'Transformer':
            hidden = model.init_hidden(2)
        with torch.no_grad():
            for i in range(0, data_source.size(0) - 1, args.bptt):
                data, targets = get_batch(data_source, i)
                if name == 'Transformer':
                    output = model(data).view(-1, ntokens)
                else:
                    output, hidden = model(data, hidden)
                    hidden = repackage_hidden(hidden)
                total_loss += len(data) * criterion(output, targets).item()
        return total_loss / (len(data_source) - 1)

    for epoch in range(1, args.epochs + 1):
        model.train()
        total_loss = 0.
        start_time = time.time()
        if name != 'Transformer':
            hidden = model.init_hidden(4)
        for batch, i in enumerate(range(0, train_data.size(0) - 1, args.bptt)):
            data, targets = get_batch(train_data, i)
            model.zero_grad()
            if name == 'Transformer':
                output = model(data).view(-1, ntokens)
            else:
                hidden = repackage_hidden(hidden)
                output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
            total_loss += loss.item()
            print('| epoch {:3d} | batch {:2d} | lr {:5.2f} | loss {:5.3f} | ppl {:8.3f} '
                  '| norm {:.4f}'.format(epoch, batch, lr, loss.item(),
                                         math.exp(loss.item()), norm))
        elapsed = time.time() - start_time
        assert elapsed >= 0
        val_loss = evaluate(model, val_data)
        print('| end of epoch {:3d} | valid loss {:5.3f} | valid ppl {:8.3f}'.format(
            epoch, val_loss, math.exp(val_loss)))
        if not best_val_loss or val_loss < best_val_loss:
            with open(path, 'wb') as f:
                torch.save(model, f)
            best_val_loss = val_loss
        else:
            lr /= 4.0
    with open(path, 'rb') as f:
        best = torch.load(f, weights_only=False)
        if name != 'Transformer':
            best.rnn.flatten_parameters()
    print(name, 'best valid ppl {:8.3f}'.format(math.exp(evaluate(best, val_data))),
          type(best).__name__)
    os.remove(path)
    os.rmdir(os.path.dirname(path))
    return best


for rnn_type in ['LSTM', 'GRU']:
    torch.manual_seed(args.seed)
    model = RNNModel(rnn_type, ntokens, args.emsize, args.nhid, args.nlayers, args.dropout,
                     tie_weights=True).to(device)
    print(model)
    print('tied', model.decoder.weight is model.encoder.weight,
          sum(p.numel() for p in model.parameters()))
    run(model, rnn_type)

torch.manual_seed(args.seed)
model = TransformerModel(ntokens, args.emsize, args.nhead, args.nhid, args.nlayers,
                         args.dropout).to(device)
print(type(model.encoder).__name__, len(model.encoder.layers), type(model.decoder).__name__)
print('params', sum(p.numel() for p in model.parameters()),
      'tied', model.decoder.weight is model.input_emb.weight)
best = run(model, 'Transformer')

torch.manual_seed(args.seed)
small = SmallTransformerLM(ntokens, 16, 2, 32, 2)
print(small.transformer_encoder.layers[0])
opt = torch.optim.SGD(small.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(opt, 1, gamma=0.95)
for epoch in range(3):
    small.train()
    for batch, i in enumerate(range(0, train_data.size(0) - 1, args.bptt)):
        data, targets = get_batch(train_data, i)
        out = small(data)
        loss = F.cross_entropy(out.view(-1, ntokens), targets)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(small.parameters(), 0.5)
        opt.step()
    scheduler.step()
    print(f'small epoch {epoch} loss {loss.item():.4f} ppl {math.exp(loss.item()):.3f} '
          f'lr {scheduler.get_last_lr()[0]:.4f}')
small.eval()
with torch.no_grad():
    data, targets = get_batch(val_data, 0)
    logits = small(data)
    val = F.cross_entropy(logits.view(-1, ntokens), targets)
print(f'small valid loss {val.item():.4f} ppl {math.exp(val.item()):.3f}')
words = [corpus.dictionary.idx2word[int(i)] for i in logits[:, 0].argmax(-1)]
print(' '.join(words))
