"""nn.AdaptiveLogSoftmaxWithLoss (torch.nn.modules.adaptive): the adaptive softmax of Grave et
al. A head scores the frequent classes (the shortlist) plus one entry per tail cluster; each
cluster scores its own rare classes through a narrower projection, and a class's log
probability is its cluster's head entry plus its log probability within the cluster."""
from collections import namedtuple

import numpy as np

from ..._tensor import _wrap
from ..._ops.activation import log_softmax
from ..._ops.shape import cat
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ['AdaptiveLogSoftmaxWithLoss']

_ASMoutput = namedtuple('_ASMoutput', ['output', 'loss'])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax: forward(input, target) -> _ASMoutput(output, loss), where output is
    each target's log probability and loss their negated mean; log_prob(input) gives every
    class's, predict(input) the most likely class."""

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False,
                 device=None, dtype=None):
        factory = {'device': device, 'dtype': dtype}
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError('cutoffs should be a sequence of length larger than 0')
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError('cutoffs should be a sequence of unique, positive integers sorted '
                             'in an increasing order, where each value is between 1 and '
                             'n_classes-1')
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        # created in torch's order, so the same seed gives the same weights
        self.head = Linear(in_features, self.head_size, bias=head_bias, **factory)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            self.tail.append(Sequential(
                Linear(in_features, hidden, bias=False, **factory),
                Linear(hidden, self.cutoffs[i + 1] - self.cutoffs[i], bias=False, **factory)))

    def reset_parameters(self):
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_, target_):
        tdim = target_.dim()
        if tdim == 1:
            if input_.size(0) != target_.size(0):
                raise RuntimeError('Input and target should have the same size in the batch '
                                   'dimension.')
            if input_.dim() != 2:
                raise RuntimeError('1D target tensor expects 2D input tensors, but found inputs '
                                   f'with size {input_.size()}')
        elif tdim == 0:
            if input_.dim() != 1:
                raise RuntimeError('0D target tensor expects 1D input tensors, but found inputs '
                                   f'with size {input_.size()}')
        else:
            raise RuntimeError('0D or 1D target tensor expected, multi-target not supported')
        batched = tdim > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        t = target._data.astype(np.int64, copy=False)
        output = input.new_zeros(t.shape[0])
        # the head entry each row reads: its class in the shortlist, else its cluster's
        head_index = np.zeros(t.shape[0], dtype=np.int64)
        bounds = [0] + self.cutoffs
        used = 0
        for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            rows = np.flatnonzero((t >= lo) & (t < hi))
            if rows.size == 0:
                continue
            used += rows.size
            if i == 0:
                head_index[rows] = t[rows]
                continue
            head_index[rows] = self.shortlist_size + i - 1
            ridx = _wrap(rows)
            cluster = log_softmax(self.tail[i - 1](input.index_select(0, ridx)), dim=1)
            local = cluster.gather(1, _wrap((t[rows] - lo)[:, None]))
            output = output.index_copy(0, ridx, local.squeeze(1))
        if used != t.shape[0]:
            raise RuntimeError(f'Target values should be in [0, {self.n_classes - 1}], but '
                               f'values in range [{target.min().item()}, '
                               f'{target.max().item()}] were found. ')
        head_logprob = log_softmax(self.head(input), dim=1)
        output = output + head_logprob.gather(1, _wrap(head_index[:, None])).squeeze()
        loss = (-output).mean()
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input, head_output):
        head_logprob = log_softmax(head_output, dim=1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster = log_softmax(self.tail[i](input), dim=1)
            parts.append(cluster + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return cat(parts, 1)

    def log_prob(self, input):
        """The log probability of every class, (N, n_classes)."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most likely class of each row (log_prob(input).argmax(1), computing the tail
        clusters only for rows whose best head entry is a cluster)."""
        head_output = self.head(input)
        output = head_output.argmax(dim=1)
        in_tail = output._data >= self.shortlist_size
        if not in_tail.any():
            return output
        if in_tail.all():
            return self._get_full_log_prob(input, head_output).argmax(dim=1)
        rows = _wrap(np.flatnonzero(in_tail))
        best = self._get_full_log_prob(input.index_select(0, rows),
                                       head_output.index_select(0, rows)).argmax(dim=1)
        return output.index_copy(0, rows, best)
