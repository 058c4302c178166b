"""Programs with sparse tensors (issue 13), run on torch and on ember, printed output
compared: a two-layer GCN over a random sparse adjacency matrix, and an embedding table with
sparse gradients trained by SparseAdam (plus a sparse-gradient SGD with momentum), and the rest of
the sparse API (smm, hspmm, sspaddmm, spdiags, sampled_addmm, the legacy sparse types,
resizing) printed exactly."""
import warnings

from _harness import compare

GCN = r"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
n, f, h, c = 12, 5, 8, 3
# a random symmetric graph with self-loops, normalised D^-1/2 (A + I) D^-1/2
dense = (torch.rand(n, n) < 0.25).float()
dense = ((dense + dense.t()) > 0).float() + torch.eye(n)
dense = (dense > 0).float()
deg = dense.sum(1)
norm = deg.pow(-0.5)
adj = (norm[:, None] * dense * norm[None, :]).to_sparse()
print(adj.layout, adj.is_coalesced(), adj._nnz(), adj.shape)
print(adj.indices()[:, :6])


class GCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(f, h)
        self.l2 = nn.Linear(h, c)

    def forward(self, x, adj):
        x = F.relu(torch.sparse.mm(adj, self.l1(x)))
        return torch.spmm(adj, self.l2(x))


x = torch.randn(n, f)
y = torch.randint(0, c, (n,))
model = GCN()
opt = torch.optim.Adam(model.parameters(), lr=0.05)
for step in range(6):
    out = model(x, adj)
    loss = F.cross_entropy(out, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(step, f"{loss.item():.5f}")
print(model.l1.weight.grad.abs().sum().item() > 0)
with torch.no_grad():
    print(model(x, adj).argmax(1))
# the same layer on a hand-built COO tensor with duplicate entries
s = torch.sparse_coo_tensor(torch.tensor([[0, 1, 1, 0], [1, 0, 2, 1]]),
                            torch.tensor([1., 2., 3., 4.]), (2, 3))
w = torch.randn(3, 2, requires_grad=True)
z = torch.sparse.mm(s, w)
z.sum().backward()
print(z.detach(), w.grad)
print(torch.sparse.sum(s), torch.sparse.sum(s, dim=0))
print(s.coalesce())
"""

EMBEDDING = r"""
import torch
import torch.nn as nn

torch.manual_seed(3)
emb = nn.Embedding(30, 6, sparse=True, padding_idx=0)
head = nn.Linear(6, 2)
opt_sparse = torch.optim.SparseAdam(list(emb.parameters()), lr=0.05)
opt_dense = torch.optim.Adam(head.parameters(), lr=0.05)
print(emb)
for step in range(6):
    idx = torch.randint(0, 30, (10, 4))
    target = torch.randint(0, 2, (10,))
    logits = head(emb(idx).mean(1))
    loss = nn.functional.cross_entropy(logits, target)
    opt_sparse.zero_grad()
    opt_dense.zero_grad()
    loss.backward()
    g = emb.weight.grad
    print(step, f"{loss.item():.5f}", g.layout, g.is_coalesced(), g._nnz())
    opt_sparse.step()
    opt_dense.step()
print(emb.weight[0])
print(emb.weight[1:3])
print(opt_sparse.state[emb.weight]['step'])

torch.manual_seed(4)
table = nn.Embedding(8, 3, sparse=True)
sgd = torch.optim.SGD(table.parameters(), lr=0.1, momentum=0.9)
for step in range(3):
    loss = table(torch.tensor([[1, 2], [2, 7]])).pow(2).sum()
    sgd.zero_grad()
    loss.backward()
    sgd.step()
    print(step, f"{loss.item():.5f}")
print(sgd.state[table.weight]['momentum_buffer'].layout)
try:
    torch.optim.Adam(table.parameters()).step()
except RuntimeError as e:
    print('RuntimeError:', e)
"""

# the rest of torch's sparse API on a small matrix: printed exactly as torch prints it
API = r"""
import torch
s = torch.sparse_coo_tensor([[0,1,1],[2,0,2]], [3.,4.,5.], (3,3))
d = torch.arange(6.).reshape(3,2)
print(torch.smm(s, d)); print(torch.dsmm(s, d)); print(torch.hsmm(s, d)); print(torch.hspmm(s, d))
print(torch.sspaddmm(torch.sparse_coo_tensor([[0],[1]],[1.],(3,2)), s, d, beta=2, alpha=0.5))
print(torch.sparse.spdiags(torch.tensor([[1.,2,3],[4,5,6]]), torch.tensor([0,-1]), (3,3)))
print(torch.sparse.spdiags(torch.tensor([[1.,2,3],[4,5,6]]), torch.tensor([0,1]), (2,4)))
print(torch.sparse.FloatTensor(torch.tensor([[0,1]]), torch.tensor([1.,2.]), torch.Size([3])))
print(torch.sparse.FloatTensor(2,3))
print(isinstance(s, torch.sparse.FloatTensor), isinstance(d, torch.sparse.FloatTensor), isinstance(s, torch.FloatTensor), isinstance(s, torch.sparse.DoubleTensor))
sr = s.to_sparse_csr().requires_grad_()
a = torch.arange(12.).reshape(3,4).requires_grad_(); b = torch.linspace(-1, 1, 12).reshape(4,3).requires_grad_()
r = torch.sparse.sampled_addmm(sr, a, b, beta=0.5, alpha=2.); print(r); r.to_dense().sum().backward(); print(a.grad, b.grad, sr.grad)
x = s.clone(); x.sparse_resize_((4,5), 2, 0); print(x.shape, x._nnz())
x = s.clone(); x.sparse_resize_and_clear_((4,5), 2, 0); print(x.shape, x._nnz(), x.is_coalesced())
y = torch.sparse_coo_tensor([[0],[0]],[1.],(5,5)); x = s.clone(); x.resize_as_sparse_(y); print(x)
print(s.smm(d))
v = torch.ones(3, requires_grad=True)
sg = s.clone().requires_grad_()
y = torch.mv(sg, v); print(y); y.sum().backward(); print(v.grad, sg.grad)
y = sg @ v; print(y); 
sg2 = s.clone().requires_grad_(); w = torch.ones(3,2, requires_grad=True)
z = torch.hspmm(sg2, w)
try: z.to_dense().sum().backward()
except RuntimeError as e: print(e)
"""

# a CSR matrix: its repr, products with a dense matrix and their gradients
CSR = r"""
import torch
torch.manual_seed(0)
d = torch.randn(4, 5)
d[d.abs() < 0.8] = 0
c = d.to_sparse_csr()
print(c)
x = torch.randn(5, 3, requires_grad=True)
y = c @ x
print(y.grad_fn.name() if y.grad_fn else None)
y.pow(2).sum().backward()
print(x.grad)
cr = d.to_sparse_csr().requires_grad_()
z = torch.mm(cr, x.detach())
z.sum().backward()
print(cr.grad.layout)
print(cr.grad)
print((c * 2).to_dense())
print(c.to_sparse())
print(torch.sparse.mm(c, x).grad_fn.name())
"""

# sparse @ sparse: a sparse, coalesced product
SPARSE_SPARSE = r"""
import torch
a = torch.sparse_coo_tensor([[0,1,1,0],[2,0,2,2]], [3.,4.,5.,1.], (2,3))
b = torch.sparse_coo_tensor([[2,0,1,2],[1,0,1,0]], [1.,2.,3.,4.], (3,2))
for f in [torch.mm, torch.sparse.mm, torch.matmul, lambda x, y: x @ y]:
    r = f(a, b); print(r, r.is_coalesced())
torch.manual_seed(0)
x = torch.randn(6, 5); x[x.abs() < 1] = 0
y = torch.randn(5, 4); y[y.abs() < 1] = 0
r = torch.sparse.mm(x.to_sparse(), y.to_sparse())
print(r._nnz(), torch.allclose(r.to_dense(), x @ y))
"""


def assert_program_matches(source, name, **tol):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        compare(source, name=name, **(tol or dict(rtol=1e-4, atol=1e-5)))


def test_gcn_on_a_sparse_adjacency():
    assert_program_matches(GCN, 'sparse_gcn')


def test_sparse_embedding_with_sparse_adam():
    assert_program_matches(EMBEDDING, 'sparse_embedding')


def test_sparse_products_constructors_and_resizing():
    assert_program_matches(API, 'sparse_api', rtol=0.0, atol=0.0)


def test_csr_products_and_gradients():
    assert_program_matches(CSR, 'sparse_csr')


def test_sparse_sparse_product():
    assert_program_matches(SPARSE_SPARSE, 'sparse_sparse', rtol=0.0, atol=0.0)
