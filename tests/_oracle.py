"""Run one small program on torch and on ember and compare what each gives back."""
import re
import warnings

import ember


def run(fn, lib):
    """('ok', value) or ('raised', (exception type name, message))."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            return 'ok', fn(lib)
        except Exception as exc:  # noqa: BLE001 - compared by the caller
            # object addresses differ between the runs
            return 'raised', (type(exc).__name__, re.sub(' at 0x[0-9a-f]+', '', str(exc)))


def assert_same(fn, torch):
    """fn(torch) and fn(ember) give equal values, or raise the same type with the same
    message; returns ember's outcome."""
    t, e = run(fn, torch), run(fn, ember)
    assert e == t, (t, e)
    return e


def error_of(fn):
    """(exception type name, first line of its message) that fn() raises."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - compared by the caller
        return type(e).__name__, str(e).split('\n')[0]
    raise AssertionError('no exception')


def assert_same_error(make, torch, prefix=False):
    """make(ember) and make(torch) raise the same type with the same first line of message
    (with prefix=True, ember's first line may be the start of torch's)."""
    e, t = error_of(lambda: make(ember)), error_of(lambda: make(torch))
    assert e[0] == t[0] and (e[1] == t[1] or prefix and t[1].startswith(e[1])), (e, t)
