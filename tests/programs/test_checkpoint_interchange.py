"""A checkpoint written by PyTorch is loaded by ember and resumed, and the reverse: model and
Adam state, epoch counters, half tensors and views all survive in torch's own file format."""
import numpy as np
import pytest

from _harness import ember, torch


def _net(lib):
    nn = lib.nn
    # no conv bias before BatchNorm: its gradient is pure rounding noise, which Adam amplifies
    return nn.Sequential(nn.Conv2d(1, 2, 3, bias=False), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))


def test_torch_checkpoint_resumed_on_ember_and_back(tmp_path):
    torch.manual_seed(0)
    m = _net(torch)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    m(torch.randn(2, 1, 4, 4)).sum().backward()
    opt.step()
    torch.save({'model': m.state_dict(), 'opt': opt.state_dict(), 'epoch': 3,
                'half': torch.ones(2, dtype=torch.float16), 'view': torch.arange(10)[2:5]},
               tmp_path / 'ck.pt')
    ck = ember.load(tmp_path / 'ck.pt')
    assert ck['epoch'] == 3 and ck['view'].tolist() == [2, 3, 4]
    assert ck['half'].dtype == ember.float16
    em = _net(ember)
    assert str(em.load_state_dict(ck['model'])) == '<All keys matched successfully>'
    eo = ember.optim.Adam(em.parameters(), lr=1e-3)
    eo.load_state_dict(ck['opt'])
    # one more identical step on both sides
    x = np.random.RandomState(1).randn(2, 1, 4, 4).astype(np.float32)
    for lib, net, o in ((torch, m, opt), (ember, em, eo)):
        o.zero_grad()
        net(lib.tensor(x)).pow(2).mean().backward()
        o.step()
    ember.save({'model': em.state_dict(), 'opt': eo.state_dict()}, tmp_path / 'ck2.pt')
    ck2 = torch.load(tmp_path / 'ck2.pt')
    assert ck2['opt']['state'][0]['step'].item() == 2.0
    for k, v in m.state_dict().items():
        np.testing.assert_allclose(ck2["model"][k].numpy(), v.numpy(), rtol=1e-5, atol=1e-7,
                                   err_msg=k)
    opt.load_state_dict(ck2['opt'])
    assert str(m.load_state_dict(ck2['model'])) == '<All keys matched successfully>'


@pytest.mark.xfail(strict=True, reason=(
    "ember/_ops/linear.py (addmm/linear through NumPy's GEMM): a (2, 8) @ (8, 3) float32 product "
    "differs from torch's in the last bit for half the outputs (different BLAS kernels' "
    "summation order); eval outputs of a model loaded from a torch checkpoint are not "
    "torch.equal to torch's"))
def test_linear_bitwise_small():
    rs = np.random.RandomState(0)
    x = rs.randn(2, 8).astype(np.float32)
    w = rs.randn(3, 8).astype(np.float32)
    b = rs.randn(3).astype(np.float32)
    t = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w), torch.tensor(b)).numpy()
    e = ember.nn.functional.linear(ember.tensor(x), ember.tensor(w), ember.tensor(b)).numpy()
    np.testing.assert_array_equal(e, t)
