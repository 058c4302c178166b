import os

import numpy as np
import pytest

# tests must not depend on the order they run in
os.environ.setdefault("PYTHONHASHSEED", "0")


@pytest.fixture(autouse=True)
def _restore_defaults():
    import ember
    dt = ember.get_default_dtype()
    yield
    ember.set_default_dtype(dt)
    ember.autograd.grad_mode._State.enabled = True
