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
