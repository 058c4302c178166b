"""nn.utils.prune against torch: masks, state_dict keys, the forward pre-hook, composition in
a PruningContainer, the random methods' choices for the same seed, remove, errors."""
import numpy as np
import pytest
import torch
import torch.nn.utils.prune  # noqa: F401 (torch does not import it with torch.nn.utils)

import ember


def _net(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Conv2d(2, 4, 3), lib.nn.ReLU(), lib.nn.Flatten(),
                             lib.nn.Linear(4 * 4 * 4, 5))


def _state(net):
    return {k: v.detach().numpy() for k, v in net.state_dict().items()}


def _assert_same_state(e, t):
    se, st = _state(e), _state(t)
    assert list(se) == list(st)
    for k in st:
        np.testing.assert_allclose(se[k], st[k], rtol=1e-6, atol=1e-7, err_msg=k)


_STEPS = {
    'l1': lambda P, n: P.l1_unstructured(n[3], 'weight', amount=0.3),
    'l1_count': lambda P, n: P.l1_unstructured(n[0], 'bias', amount=2),
    'random': lambda P, n: P.random_unstructured(n[0], 'weight', amount=0.4),
    'ln': lambda P, n: P.ln_structured(n[0], 'weight', amount=0.5, n=2, dim=0),
    'ln_inf': lambda P, n: P.ln_structured(n[3], 'weight', amount=1, n=float('inf'), dim=-1),
    'random_structured': lambda P, n: P.random_structured(n[0], 'weight', amount=2, dim=1),
    'identity': lambda P, n: P.identity(n[3], 'bias'),
}


@pytest.mark.parametrize('steps', [['l1'], ['l1_count'], ['random'], ['ln'], ['ln_inf'],
                                   ['random_structured'], ['identity'], ['l1', 'ln_inf'],
                                   ['ln', 'random', 'random_structured', 'ln'],
                                   ['random', 'l1_count', 'identity']])
def test_pruning_matches_torch(steps):
    nets = {}
    for lib in (torch, ember):
        net = _net(lib)
        lib.manual_seed(7)
        for s in steps:
            _STEPS[s](lib.nn.utils.prune, net)
        x = lib.tensor(np.linspace(-1, 1, 2 * 2 * 6 * 6, dtype=np.float32).reshape(2, 2, 6, 6))
        out = net(x)
        out.sum().backward()
        nets[lib] = (net, out.detach().numpy())
    (e, eo), (t, to) = nets[ember], nets[torch]
    _assert_same_state(e, t)
    np.testing.assert_allclose(eo, to, rtol=1e-5, atol=1e-6)
    for (name, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert ember.nn.utils.prune.is_pruned(e) and torch.nn.utils.prune.is_pruned(t)
    hooks = [type(h).__name__ for m in e.modules() for h in m._forward_pre_hooks.values()]
    assert hooks == [type(h).__name__ for m in t.modules() for h in m._forward_pre_hooks.values()]


def test_remove_makes_pruning_permanent():
    nets = []
    for lib in (torch, ember):
        net = _net(lib)
        P = lib.nn.utils.prune
        P.l1_unstructured(net[3], 'weight', amount=0.5)
        P.ln_structured(net[3], 'weight', amount=1, n=1, dim=0)
        P.remove(net[3], 'weight')
        assert not P.is_pruned(net)
        assert isinstance(net[3].weight, lib.nn.Parameter)
        with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
            P.remove(net[3], 'weight')
        nets.append(net)
    _assert_same_state(nets[1], nets[0])


def test_global_unstructured_and_custom_mask():
    nets = []
    for lib in (torch, ember):
        net = _net(lib)
        P = lib.nn.utils.prune
        pairs = [(net[0], 'weight'), (net[3], 'weight'), (net[3], 'bias')]
        P.global_unstructured(pairs, pruning_method=P.L1Unstructured, amount=0.6)
        P.custom_from_mask(net[0], 'bias', mask=lib.tensor([1.0, 0.0, 1.0, 0.0]))
        nets.append(net)
    _assert_same_state(nets[1], nets[0])


def test_prune_method_directly_and_containers():
    t = np.arange(12, dtype=np.float32).reshape(3, 4) - 5
    outs = []
    for lib in (torch, ember):
        P = lib.nn.utils.prune
        outs.append(P.L1Unstructured(amount=0.25).prune(lib.tensor(t)).numpy())
        m = lib.nn.Linear(4, 3)
        P.l1_unstructured(m, 'weight', 0.2)
        P.random_unstructured(m, 'weight', 0.2)
        c = m._forward_pre_hooks[next(iter(m._forward_pre_hooks))]
        assert isinstance(c, P.PruningContainer) and len(c) == 2
        assert [type(x).__name__ for x in c] == ['L1Unstructured', 'RandomUnstructured']
        with pytest.raises(ValueError, match="Can only add pruning methods acting on"):
            other = P.Identity()
            other._tensor_name = 'bias'
            c.add_pruning_method(other)
        with pytest.raises(TypeError, match='is not a BasePruningMethod subclass'):
            c.add_pruning_method(3)
    assert np.array_equal(outs[0], outs[1])


@pytest.mark.parametrize('call,exc', [
    (lambda P, m: P.l1_unstructured(m, 'weight', amount=1.5), ValueError),
    (lambda P, m: P.l1_unstructured(m, 'weight', amount=-1), ValueError),
    (lambda P, m: P.l1_unstructured(m, 'weight', amount='a'), TypeError),
    (lambda P, m: P.l1_unstructured(m, 'weight', amount=100), ValueError),
    (lambda P, m: P.ln_structured(m, 'bias', amount=1, n=2, dim=0), ValueError),
    (lambda P, m: P.ln_structured(m, 'weight', amount=1, n=2, dim=3), IndexError),
    (lambda P, m: P.l1_unstructured(m, 'weight', 0.1, importance_scores=m.bias), AssertionError),
])
def test_errors_match_torch(call, exc):
    msgs = []
    for lib in (torch, ember):
        m = lib.nn.Linear(4, 3)
        with pytest.raises(exc) as e:
            call(lib.nn.utils.prune, m)
        # a failed pruning puts the parameter back (at the end, as torch does)
        msgs.append((str(e.value).replace('torch.Size', 'Size'),
                     [n for n, _ in m.named_parameters()], list(dict(m.named_buffers()))))
    assert msgs[0] == (msgs[1][0].replace('ember.Size', 'Size'),) + msgs[1][1:]
