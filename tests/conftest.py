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
    # a Tensor subclass a test defined arms __torch_function__'s wrappers until the class is
    # collected: collect it now, so that the tests after it start unarmed (as a program does)
    from ember._torch_function import State
    if State.armed:
        import gc
        gc.collect()


@pytest.fixture
def two_threads():
    """ember on two threads, for tests of the paths that split work across them (skipped
    where NumPy's BLAS has no thread-local count: nothing is split there)."""
    import ember
    from ember import _threads
    before = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        if not _threads.can_split():
            pytest.skip("NumPy's BLAS has no thread-local thread count: nothing is split")
        yield
    finally:
        ember.set_num_threads(before)


@pytest.fixture
def count_splits(monkeypatch):
    """count_splits(module) -> a list that gets the number of parts of every run_parallel call
    made through `module`'s name for it (the module's own function, patched for the test)."""
    def count(module):
        calls = []
        real = module.run_parallel

        def counted(fn, parts, *args, **kwargs):
            calls.append(len(parts))
            return real(fn, parts, *args, **kwargs)
        monkeypatch.setattr(module, 'run_parallel', counted)
        return calls
    return count


@pytest.fixture
def took(monkeypatch):
    """took(module, name) -> a list that gets, per call of module.name (patched for the test),
    whether it returned something other than None: whether a fast path was taken."""
    def spy_on(module, name):
        seen = []
        real = getattr(module, name)

        def spy(*args, **kwargs):
            r = real(*args, **kwargs)
            seen.append(r is not None)
            return r
        monkeypatch.setattr(module, name, spy)
        return seen
    return spy_on


@pytest.fixture(params=['compiled', 'numpy'])
def kernel_path(request):
    """Each test that takes it runs twice: with ember's compiled kernels (skipped where they
    are not built: no C compiler) and with the NumPy code beside them."""
    from ember import _kernels
    if request.param == 'numpy':
        with _kernels.disabled():
            yield request.param
    else:
        if not _kernels.available():
            pytest.skip(f'no compiled kernels: {_kernels.why_not()}')
        with _kernels.forced():     # the portable paths too, where the CPU lacks the wide ones
            yield request.param
