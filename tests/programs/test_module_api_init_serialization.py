"""Module API in depth (ModuleDict, Identity, register_parameter(None), named_modules prefixes,
get_submodule, deepcopy, del/assign of submodules and parameters, LazyLinear, container
editing), every nn.init function under the same seed, whole-model torch.save/torch.load,
pickled optimizer state."""
from _harness import compare

PROGRAM = r"""
import copy
import io
import pickle
import torch
import torch.nn as nn

torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.ModuleDict({'conv': nn.Conv2d(c, c, 3, padding=1), 'act': nn.LeakyReLU(0.1)})
        self.skip = nn.Identity()
        self.gamma = nn.Parameter(torch.zeros(1))
        self.register_parameter('unused', None)

    def forward(self, x):
        return self.skip(x) + self.gamma * self.body['act'](self.body['conv'](x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3)
        self.blocks = nn.Sequential(*[Block(4) for _ in range(2)])
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.head(x.mean(dim=(2, 3)))


net = Net()
print(net)
print([n for n, _ in net.named_modules()])
print([n for n, _ in net.named_parameters()])
print(len(list(net.modules())), len(list(net.parameters(recurse=False))), len(list(net.children())))
print(list(net.named_modules(prefix='net'))[1][0])
print(net.get_submodule('blocks.1.body.conv'))
print(net.blocks[0].unused, 'unused' in dict(net.named_parameters()))
print(list(net.state_dict(prefix='m.').keys())[:3])
for name, init in [('xavier_uniform_', nn.init.xavier_uniform_), ('kaiming_uniform_', nn.init.kaiming_uniform_),
                   ('orthogonal_', nn.init.orthogonal_), ('trunc_normal_', nn.init.trunc_normal_),
                   ('uniform_', lambda w: nn.init.uniform_(w, -0.1, 0.1)),
                   ('normal_', lambda w: nn.init.normal_(w, std=0.02)),
                   ('kaiming_normal_fan_out', lambda w: nn.init.kaiming_normal_(w, mode='fan_out', nonlinearity='relu')),
                   ('eye_', nn.init.eye_), ('dirac_', None), ('ones_', nn.init.ones_),
                   ('sparse_', lambda w: nn.init.sparse_(w, 0.5))]:
    torch.manual_seed(1)
    if init is None:
        w = nn.init.dirac_(torch.empty(2, 2, 3, 3))
        print(name, w.sum())
        continue
    w = torch.empty(3, 5)
    init(w)
    print(name, w)
print(nn.init.calculate_gain('leaky_relu', 0.2), nn.init.calculate_gain('tanh'), nn.init.calculate_gain('selu'))
x = torch.randn(2, 1, 6, 6)
y = net(x)
net2 = copy.deepcopy(net)
print(torch.equal(net2(x), y), net2.head.weight is net.head.weight)
buf = io.BytesIO()
torch.save(net, buf)
buf.seek(0)
net3 = torch.load(buf, weights_only=False)
print(type(net3).__name__, torch.equal(net3(x), y))
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
y.sum().backward()
opt.step()
opt2 = pickle.loads(pickle.dumps(opt.state_dict()))
print(opt2['param_groups'][0]['params'][:5], len(opt2['state']))
print(opt.state_dict()['state'][0]['momentum_buffer'].shape)
del net.head
print(hasattr(net, 'head'), [n for n, _ in net.named_children()])
net.head = nn.Linear(4, 2)
print(list(net._modules))
sd = {k: v.clone() for k, v in net.state_dict().items()}
print(net.load_state_dict(sd, assign=True))
vec = nn.utils.parameters_to_vector(net.parameters())
print(vec.shape)
lin = nn.Linear(3, 3)
lin.weight = nn.Parameter(torch.eye(3))
print(lin.weight)
try:
    lin.weight = torch.eye(3)
except TypeError as e:
    print(e)
lin.weight = None
print(lin.weight, list(lin.state_dict()))
lazy = nn.LazyLinear(5)
print(lazy)
lazy(torch.ones(2, 7))
print(lazy, lazy.weight.shape)
print(nn.Bilinear(2, 3, 4)(torch.ones(1, 2), torch.ones(1, 3)).shape)
print(nn.Unflatten(1, (2, 3))(torch.ones(4, 6)).shape, nn.Flatten()(torch.ones(2, 3, 4)).shape)
mlist = nn.ModuleList()
mlist += [nn.ReLU(), nn.Tanh()]
print(mlist, mlist[::-1])
pd = nn.ParameterDict({'a': nn.Parameter(torch.ones(1))})
pd['b'] = nn.Parameter(torch.zeros(2))
print(pd, list(pd.keys()))
pl = nn.ParameterList([nn.Parameter(torch.ones(2, 2))])
print(pl)
seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
seq.append(nn.Linear(2, 1))
seq.insert(0, nn.Identity())
print(seq)
seq[1] = nn.Linear(2, 2, bias=False)
del seq[0]
print(seq, seq[-1])
"""


def test_module_api_init_and_serialization():
    compare(PROGRAM, name='module_api')
