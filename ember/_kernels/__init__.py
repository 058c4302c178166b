"""ember's optional compiled kernels: a few C functions for hot spots NumPy cannot vectorise.

The C sources are in `src/`; `pip install` builds them into one shared library next to this file
when a C compiler is present (setup.py; the build is optional). ember never needs them: every
kernel has the NumPy code it replaces beside its call, and the tests run both.

    declare(name, restype, *argtypes)   at import of the op family (loads nothing)
    get(name)                           at the call: the ctypes function, or None when the
                                        library is missing, stale, or switched off

`EMBER_KERNELS=0` in the environment switches them off; `why_not()` says why they are off.
Kernels whose only fast path is a wide vector one ask `wide(lanes)` too: on a CPU without it
(AVX2 only, for AVX-512 code) their portable C is slower than the NumPy code.
ctypes releases the GIL for the duration of each call, so the parts of a split run in parallel.
"""
import contextlib
import importlib
import importlib.machinery
import os

_ABI = 1                    # ember_kernels_abi() of a library built from these sources
_SIGNATURES = {}            # name: (restype, argtypes)
_FUNCTIONS = {}             # name: ctypes function (False: not in the library), on first use
_STATE = {'lib': None, 'why': None, 'loaded': False, 'on': True, 'forced': False}
_SIGNATURES['ember_simd_lanes'] = ('i64', [])


# short names for the C types of a signature, so that declaring does not import ctypes
_CTYPES = {'p': 'c_void_p', 'i64': 'c_int64', 'i32': 'c_int32', 'f32': 'c_float',
           'f64': 'c_double'}


def declare(name, restype, *argtypes):
    """Record a kernel's C signature: ctypes types or the names of _CTYPES ('p' a pointer,
    'i64', 'i32', 'f32', 'f64'; restype None for void). `get` sets it on first use."""
    _SIGNATURES[name] = (restype, list(argtypes))


def _ctype(ctypes, t):
    return getattr(ctypes, _CTYPES[t]) if isinstance(t, str) else t


def _load():
    _STATE['loaded'] = True
    if os.environ.get('EMBER_KERNELS', '1') == '0':
        _STATE['why'] = 'switched off by EMBER_KERNELS=0'
        return
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.join(here, '_lib' + s) for s in importlib.machinery.EXTENSION_SUFFIXES]
    paths = [p for p in paths if os.path.exists(p)]
    if not paths:
        _STATE['why'] = ('not built: install ember from source with a C compiler present '
                         '(pip install -e . builds ember/_kernels/src)')
        return
    ctypes = importlib.import_module('ctypes')      # lazy: import time
    try:
        lib = ctypes.CDLL(paths[0])
        lib.ember_kernels_abi.restype = ctypes.c_int64
        abi = lib.ember_kernels_abi()
    except (OSError, AttributeError) as exc:
        _STATE['why'] = f'{paths[0]} could not be loaded: {exc}'
        return
    if abi != _ABI:
        _STATE['why'] = (f'{paths[0]} is stale (ABI {abi}, these sources are ABI {_ABI}): '
                         'rebuild it (pip install -e .)')
        return
    _STATE['lib'] = lib


def get(name):
    """The compiled kernel `name` (declared), or None when the kernels are unavailable."""
    if not _STATE['on']:
        return None
    fn = _FUNCTIONS.get(name)
    if fn is not None:
        return fn or None       # False: missing from the library
    if not _STATE['loaded']:
        _load()
    lib = _STATE['lib']
    if lib is None:
        return None
    ctypes = importlib.import_module('ctypes')      # lazy: import time (loaded already)
    restype, argtypes = _SIGNATURES[name]
    try:
        fn = getattr(lib, name)
    except AttributeError:      # a library built before this kernel was written
        _FUNCTIONS[name] = False
        return None
    fn.restype = _ctype(ctypes, restype)
    fn.argtypes = [_ctype(ctypes, t) for t in argtypes]
    _FUNCTIONS[name] = fn
    return fn


def simd_lanes():
    """Float lanes of the widest vector path the kernels take on this CPU (16 AVX-512F, 8 AVX2
    with FMA, 1 neither), or 0 when the kernels are unavailable."""
    if 'lanes' not in _STATE:
        fn = get('ember_simd_lanes')
        if fn is None:
            return 0
        _STATE['lanes'] = int(fn())
    return _STATE['lanes'] if _STATE['on'] else 0


def wide(lanes):
    """Whether to call a kernel whose fast path needs `lanes` float lanes: this CPU has them,
    or the tests force every kernel on (`forced()`) to cover the portable paths too."""
    return _STATE['forced'] or simd_lanes() >= lanes


def forced():
    """Call every available kernel inside the block, on any CPU (the tests' compiled path)."""
    return _setting('forced', True)


def available():
    """Whether the compiled kernels are loaded and on."""
    if not _STATE['loaded']:
        _load()
    return _STATE['on'] and _STATE['lib'] is not None


def why_not():
    """Why the kernels are not in use, or None when they are."""
    if available():
        return None
    return _STATE['why'] if _STATE['on'] else 'switched off by ember._kernels.disabled()'


def disabled():
    """Run the NumPy code instead of the kernels inside the block (the tests run both)."""
    return _setting('on', False)


@contextlib.contextmanager
def _setting(key, value):
    was = _STATE[key]
    _STATE[key] = value
    try:
        yield
    finally:
        _STATE[key] = was
