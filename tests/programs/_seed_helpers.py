"""Shared helpers of the seed-program tests: build a network in torch and in ember."""
import numpy as np
import pytest

import ember


def to_np(t):
    return np.array(t.detach().numpy())


def copy_weights(torch_mod, ember_mod):
    """state_dict -> NumPy -> load_state_dict, so both networks hold identical weights."""
    sd = {k: ember.tensor(to_np(v)) for k, v in torch_mod.state_dict().items()}
    return ember_mod.load_state_dict(sd)


def require(*names):
    """Skip, naming what is missing, when a layer this program needs is not built yet.

    Names are 'nn.Conv2d' style (a layer) or 'F.relu' style (ember.nn.functional).
    """
    spaces = {'nn': ember.nn, 'F': ember.nn.functional}
    missing = [n for n in names if not hasattr(spaces[n.split('.')[0]], n.split('.')[1])]
    if missing:
        pytest.skip(f'needs {", ".join(missing)}, not yet in ember (runs once it exists)')


def assert_close(e, t, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(to_np(e), to_np(t), rtol=rtol, atol=atol)


def same_error(fn_t, fn_e):
    with pytest.raises(Exception) as et:
        fn_t()
    with pytest.raises(Exception) as ee:
        fn_e()
    assert type(ee.value) is type(et.value), (et.value, ee.value)
    assert str(ee.value) == str(et.value)
