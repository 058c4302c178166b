import os

import numpy as np
import pytest

# tests must not depend on the order they run in
os.environ.setdefault("PYTHONHASHSEED", "0")


@pytest.fixture(autouse=True)
def _restore_defaults():
    import sys
    import ember
    dt = ember.get_default_dtype()
    # torch.compile (dynamo) turns torch's distribution argument checks off for the whole
    # process: the oracle must keep its defaults for the tests that run after
    tdist = sys.modules.get('torch.distributions')
    validate = tdist.Distribution._validate_args if tdist is not None else None
    yield
    ember.set_default_dtype(dt)
    ember.autograd.grad_mode._State.enabled = True
    if tdist is not None:
        tdist.Distribution._validate_args = validate
