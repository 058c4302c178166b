"""pin_memory=True on a machine without an accelerator: the same error as a CPU-only torch."""
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402

CALLS = {
    'empty': lambda lib, **kw: lib.empty(2, 3, **kw),
    'zeros': lambda lib, **kw: lib.zeros(2, **kw),
    'ones': lambda lib, **kw: lib.ones(2, **kw),
    'full': lambda lib, **kw: lib.full((2,), 1.5, **kw),
    'tensor': lambda lib, **kw: lib.tensor([1.0, 2.0], **kw),
    'empty_strided': lambda lib, **kw: lib.empty_strided((2, 2), (2, 1), **kw),
    'scalar_tensor': lambda lib, **kw: lib.scalar_tensor(3.0, **kw),
    'rand': lambda lib, **kw: lib.rand(3, **kw),
    'randn': lambda lib, **kw: lib.randn(3, **kw),
    'randint': lambda lib, **kw: lib.randint(0, 5, (3,), **kw),
    'randperm': lambda lib, **kw: lib.randperm(4, **kw),
    'zeros_like': lambda lib, **kw: lib.zeros_like(lib.ones(2), **kw),
    'ones_like': lambda lib, **kw: lib.ones_like(lib.ones(2), **kw),
    'empty_like': lambda lib, **kw: lib.empty_like(lib.ones(2), **kw),
    'full_like': lambda lib, **kw: lib.full_like(lib.ones(2), 7, **kw),
    'rand_like': lambda lib, **kw: lib.rand_like(lib.ones(2), **kw),
    'randn_like': lambda lib, **kw: lib.randn_like(lib.ones(2), **kw),
    'randint_like': lambda lib, **kw: lib.randint_like(lib.ones(2), 0, 4, **kw),
}


def _outcome(fn):
    try:
        r = fn()
    except Exception as e:  # noqa: BLE001 - the type and message are what we compare
        return type(e).__name__, str(e)
    return 'ok', tuple(r.shape)


@pytest.mark.parametrize('name', sorted(CALLS))
@pytest.mark.parametrize('pin', [True, False])
def test_pin_memory_as_cpu_torch(name, pin):
    call = CALLS[name]
    got = _outcome(lambda: call(ember, pin_memory=pin))
    want = _outcome(lambda: call(torch, pin_memory=pin))
    assert got == want
