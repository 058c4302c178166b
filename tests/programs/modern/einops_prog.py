"""einops on torch tensors and modules: rearrange, reduce, repeat, einsum, pack/unpack and the
einops.layers.torch layers inside an nn.Sequential, with gradients through them."""
import einops
import torch
import torch.nn as nn
from einops import einsum, pack, rearrange, reduce, repeat, unpack
from einops.layers.torch import EinMix, Rearrange, Reduce

torch.manual_seed(0)
x = torch.randn(2, 3, 4, 6)
print(rearrange(x, 'b c h w -> b h w c').shape)
print(rearrange(x, 'b c (h p1) (w p2) -> b (h w) (p1 p2 c)', p1=2, p2=3).shape)
print(rearrange(x, 'b c h w -> (b c) h w').stride())
print(reduce(x, 'b c h w -> b c', 'mean'))
print(reduce(x, 'b c (h 2) (w 2) -> b c h w', 'max')[0, 0])
print(reduce(x, 'b c h w -> c', 'sum'), reduce(x, 'b c h w -> b', 'min'))
print(repeat(torch.arange(3), 'n -> n k', k=2))
print(repeat(x[0, 0], 'h w -> (h 2) (w r)', r=2).shape)
print(einsum(x, x, 'b c h w, b c h w -> b c'))
packed, ps = pack([torch.ones(2, 5), torch.zeros(2, 3, 5)], 'b * d')
print(packed.shape, ps)
a, b = unpack(packed, ps, 'b * d')
print(a.shape, b.shape, b.sum())
print(einops.parse_shape(x, 'b c _ w'))

# attention heads split and merged the einops way
q = torch.randn(2, 5, 8, requires_grad=True)
heads = rearrange(q, 'b t (h d) -> b h t d', h=2)
scores = einsum(heads, heads, 'b h t d, b h s d -> b h t s') / 2.0
out = rearrange(scores.softmax(-1) @ heads, 'b h t d -> b t (h d)')
out.pow(2).sum().backward()
print(out.shape, out.grad_fn is not None, q.grad.abs().sum())

model = nn.Sequential(
    nn.Conv2d(3, 4, kernel_size=3, padding=1),
    Reduce('b c (h 2) (w 2) -> b c h w', 'max'),
    Rearrange('b c h w -> b (c h w)'),
    nn.Linear(4 * 2 * 3, 5),
)
print(model)
y = model(x)
print(y.shape)
y.sum().backward()
print(model[0].weight.grad.abs().sum())
mix = EinMix('b t c -> b t d', weight_shape='c d', bias_shape='d', c=8, d=3)
print(mix, mix(q).shape, sum(p.numel() for p in mix.parameters()))
print(Rearrange('b c h w -> b h w c')(x).is_contiguous())
