"""torch.version, torch.random and torch.nn.attention on ember, against torch."""
import numpy as np
import pytest
import torch

import ember


def test_version_is_cpu_only_as_torch_cpu():
    assert ember.version.cuda is None and torch.version.cuda is None
    assert ember.version.hip is None and ember.version.debug is False


def test_random_namespace_matches_torch():
    for lib in (ember, torch):
        lib.random.manual_seed(5)
    np.testing.assert_array_equal(ember.rand(3).numpy(), torch.rand(3).numpy())
    for lib in (ember, torch):
        lib.manual_seed(7)
        with lib.random.fork_rng():
            lib.rand(4)
        assert lib.random.initial_seed() == 7
    np.testing.assert_array_equal(ember.rand(3).numpy(), torch.rand(3).numpy())
    assert ember.random.thread_safe_generator() is None


def test_sdpa_kernel_and_backends():
    for b in torch.nn.attention.SDPBackend.__members__:
        assert int(getattr(ember.nn.attention.SDPBackend, b)) == \
            int(getattr(torch.nn.attention.SDPBackend, b))
    q = ember.randn(1, 2, 3, 4)
    with ember.nn.attention.sdpa_kernel([ember.nn.attention.SDPBackend.MATH]):
        out = ember.nn.functional.scaled_dot_product_attention(q, q, q)
    assert tuple(out.shape) == (1, 2, 3, 4)
    for lib in (ember, torch):
        with pytest.raises(AssertionError, match='Backend must be an instance of SDPBackend'):
            with lib.nn.attention.sdpa_kernel('math'):
                pass
