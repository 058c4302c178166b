"""ember's optional compiled kernels: a few C functions for hot spots NumPy cannot vectorise.

The C sources are in `src/`; `pip install` builds them into one shared library next to this file
when a C compiler is present (setup.py; the build is optional). ember never needs them: every
kernel has the NumPy code it replaces beside its call, and the tests run both.

    declare(name, restype, *argtypes)   at import of the op family (loads nothing)
    get(name)                           at the call: the ctypes function, or None when the
                                        library is missing, stale, or switched off

    run_deferred(fn, parts)             a split's parts with their kernel calls run on the
                                        library's threads (below)

`EMBER_KERNELS=0` in the environment switches them off; `why_not()` says why they are off.
Kernels whose only fast path is a wide vector one ask `wide(lanes)` too: on a CPU without it
(AVX2 only, for AVX-512 code) their portable C is slower than the NumPy code.
ctypes releases the GIL for the duration of each call, so the parts of a split run in parallel.
"""
import array
import contextlib
import importlib
import importlib.machinery
import os
import struct
import threading

import numpy as np

_ABI = 2                    # ember_kernels_abi() of a library built from these sources
_CGRAPH_ABI = 2             # _cgraph.ABI of an extension built from cgraph.c
_SIGNATURES = {}            # name: (restype, argtypes)
_FUNCTIONS = {}             # name: ctypes function (False: not in the library), on first use
_STATE = {'lib': None, 'why': None, 'loaded': False, 'on': True, 'forced': False}
_SIGNATURES['ember_simd_lanes'] = ('i64', [])
_SIGNATURES['ember_run_parts'] = ('i64', ['i64', 'p', 'p'])
_SIGNATURES['ember_post_parts'] = ('i64', ['i64', 'p', 'p'])
_SIGNATURES['ember_finish_parts'] = (None, ['p', 'i64'])
_SIGNATURES['ember_pool_rest'] = (None, [])


# short names for the C types of a signature, so that declaring does not import ctypes
_CTYPES = {'p': 'c_void_p', 'i64': 'c_int64', 'i32': 'c_int32', 'f32': 'c_float',
           'f64': 'c_double'}


def declare(name, restype, *argtypes):
    """Record a kernel's C signature: ctypes types or the names of _CTYPES ('p' a pointer,
    'i64', 'i32', 'f32', 'f64'; restype None for void), or 'a': a pointer given as the NumPy
    array it points into (or an address, or None), which a deferred part keeps alive until
    its calls have run. `get` sets it on first use."""
    _SIGNATURES[name] = (restype, list(argtypes))


def _ctype(ctypes, t):
    if t == 'a':
        return _array_param(ctypes)
    return getattr(ctypes, _CTYPES[t]) if isinstance(t, str) else t


def _array_param(ctypes):
    """The ctypes argument type of 'a': an array's data pointer, an address, or None."""
    if 'array_param' not in _STATE:
        void_p = ctypes.c_void_p

        class ArrayParam:
            @classmethod
            def from_param(cls, v):
                return void_p(addr(v) if isinstance(v, np.ndarray) else v)
        _STATE['array_param'] = ArrayParam
    return _STATE['array_param']


# An ndarray's data pointer is the first field of its object after the object header
# (PyArrayObject_fields.data, NumPy's PyArray_DATA): reading it there costs 0.2 us, where
# a.ctypes.data builds a ctypes helper object each time (1.4-2.5 us; a kernel call takes two
# to nine pointers). Callers look it up as _kernels.addr: the first call puts the reader in
# its place.
_DATA_OFFSET = object.__basicsize__


def addr(a):
    """a.ctypes.data of an ndarray a: the address of its first element."""
    global addr
    ctypes = importlib.import_module('ctypes')      # lazy: import time
    read = ctypes.c_void_p.from_address
    probe = np.arange(4.0)[1:]
    # (CPython, whose id() is the object's address; elsewhere ctypes.data stays)
    if read(id(probe) + _DATA_OFFSET).value == probe.ctypes.data:
        def addr(a):
            """a.ctypes.data of an ndarray a: the address of its first element."""
            return read(id(a) + _DATA_OFFSET).value
    else:
        def addr(a):
            """a.ctypes.data of an ndarray a: the address of its first element."""
            return a.ctypes.data
    return addr(a)


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
    """The compiled kernel `name` (declared), or None when the kernels are unavailable; while
    this thread records a part (run_deferred), a stand-in that records the call (for kernels
    that return nothing)."""
    if not _STATE['on']:
        return None
    prog = _RECORDING.prog
    if prog is not None and _SIGNATURES[name][0] is None:   # (a query, as simd_lanes, runs)
        return _recorder(name, prog)
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


def cgraph():
    """The compiled graph recorder (the extension `_cgraph`, built from cgraph.c: _tensor._wrap,
    _tensor._alias and autograd.graph._record in C), or None when it is not built, stale, or
    switched off by EMBER_KERNELS=0. Asked once, at import: `disabled()` does not switch it
    off."""
    if os.environ.get('EMBER_KERNELS', '1') == '0':
        return None
    try:
        mod = importlib.import_module(__name__ + '._cgraph')
    except ImportError:
        return None
    return mod if getattr(mod, 'ABI', None) == _CGRAPH_ABI else None


# ---- float loops called through the extension ------------------------------------------------
#
# _cgraph.float_op(op, out, *inputs) runs one of these kernels of the library on plain
# C-contiguous float32/float64 arrays of one shape, or returns None when they do not suit, or
# while this thread records a part (run_deferred: its kernel calls are recorded, not run). It
# saves the ~2.5 us of a ctypes call with its checks and addresses, so these loops pay from the
# smallest arrays, not from 16K elements. It splits them over THREADS[0] of the library's
# threads from 32K elements. A caller writes
#     fop = _kernels.float_op
#     r = None if fop is None else fop(_kernels.FLOAT_ADD, None, a, b)
# and runs NumPy when r is None.

THREADS = [int(os.environ.get('OMP_NUM_THREADS', os.cpu_count() or 1))]     # _threads' count

(FLOAT_ADD, FLOAT_SUB, FLOAT_MUL, FLOAT_MUL_SCALAR, FLOAT_RELU, FLOAT_RELU_BACKWARD,
 FLOAT_SUM) = range(7)
_FLOAT_KERNELS = ('add_split', 'sub_split', 'mul_split', 'mul_scalar_split', 'relu_split',
                  'relu_backward_split', 'sum_split')


def _float_op_unbound(op, out, *inputs):
    """float_op before the library is loaded: load it and bind the kernels, then call."""
    fop = _bind_float_op()
    return None if fop is None else fop(op, out, *inputs)


float_op = _float_op_unbound    # then _cgraph.float_op, or None: unavailable or switched off


def _bind_float_op():
    """Bind float_op to the library's kernels (loading it) and return it, or None."""
    global float_op
    if not _STATE['on']:    # (disabled() sets float_op to None: not reached there)
        return None
    float_op = None
    if not _STATE['loaded']:
        _load()
    lib, mod = _STATE['lib'], cgraph()
    if lib is None or mod is None:
        return None
    ctypes = importlib.import_module('ctypes')
    addresses = []
    for name in _FLOAT_KERNELS:
        for suffix in ('f32', 'f64'):
            fn = getattr(lib, f'ember_{name}_{suffix}', None)
            if fn is None:
                return None
            addresses.append(ctypes.cast(fn, ctypes.c_void_p).value)
    mod.bind_kernels(addresses, THREADS, _RECORDING)
    _STATE['pool_used'] = True  # its loops split over the pool: rest() may send it to sleep
    float_op = mod.float_op
    return float_op


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


@contextlib.contextmanager
def disabled():
    """Run the NumPy code instead of the kernels inside the block (the tests run both)."""
    global float_op
    was = float_op
    float_op = None
    try:
        with _setting('on', False):
            yield
    finally:
        float_op = was


@contextlib.contextmanager
def _setting(key, value):
    was = _STATE[key]
    _STATE[key] = value
    try:
        yield
    finally:
        _STATE[key] = was


# ---- a split's parts on the library's threads ---------------------------------------------------
#
# A split run on Python threads (ember._threads.run_parallel) waits for the GIL between the
# kernel calls of its parts, and each hand-over to a sleeping thread costs 25-100 us on a
# virtual machine: a 2-core KVM guest ran U-Net's split convolutions 1.2x faster than one
# thread. run_deferred instead runs each part's Python on this thread with the kernel calls
# recorded (get() hands out recorders), then all the recorded calls at once in C
# (src/threads.c): part 0 here, the others on the library's own threads, which spin between
# the splits of a step instead of sleeping. A part run this way must not read, with NumPy,
# anything a kernel call of its own writes: the calls run after the part's Python. And the
# memory its calls use must outlive the part's Python: arrays made in the part go to the
# kernels as arrays ('a' arguments, kept alive until the run), not as addresses.

class _Recording(threading.local):
    # class defaults: every thread reads None until it records (a missing attribute of a
    # threading.local raises inside getattr, 0.5 us a kernel call)
    prog = None
    keep = None


_RECORDING = _Recording()
_TASKS = {}     # kernel name: (address of its task form, slot packers), or False: none


def _task(name):
    """(address of the task form, [(position, slot of an argument that is not an int)])."""
    t = _TASKS.get(name)
    if t is None:
        ctypes = importlib.import_module('ctypes')      # lazy: import time (loaded already)
        fn = getattr(_STATE['lib'], 'ember_task_' + name[len('ember_'):], None)
        restype, argtypes = _SIGNATURES[name]
        t = False if fn is None or restype is not None else (
            ctypes.cast(fn, ctypes.c_void_p).value,
            [(i, _SLOT[a]) for i, a in enumerate(argtypes) if a not in ('i64', 'i32')])
        _TASKS[name] = t
    return t


def _array_slot(v):
    """An 'a' argument's slot: an array's address (the array kept alive until the run)."""
    if isinstance(v, np.ndarray):
        _RECORDING.keep.append(v)
        return addr(v)
    return v or 0


# an argument as a 64-bit slot (see TASK_P in src/kernels.h); ints are their own
_SLOT = {'p': lambda v: v or 0, 'a': _array_slot,
         'f32': lambda v: struct.unpack('<i', struct.pack('<f', v))[0],
         'f64': lambda v: struct.unpack('<q', struct.pack('<d', v))[0]}


def _recorder(name, prog):
    t = _task(name)
    if not t:
        raise RuntimeError(f'internal: {name} was called in a deferred part, but it has no '
                           'task form in the kernels library')
    address, special = t

    def record(*args):
        slots = list(args)
        for i, slot in special:
            slots[i] = slot(slots[i])
        prog.append(address)
        prog.append(len(slots))
        prog.extend(slots)
    return record


def run_deferred(fn, parts):
    """[fn(*p) for p in parts], each part's Python run here with its kernel calls recorded,
    and each part's calls run on its own thread of the library (part 0 on this one). None
    when the library is unavailable: nothing ran.

    The library's parts are recorded first and start at once: this thread records part 0
    while they run (a convolution's backward part spends ~0.1 ms in Python)."""
    if not available() or len(parts) < 2 or _RECORDING.prog is not None:
        return None
    post, finish, run = (get('ember_post_parts'), get('ember_finish_parts'),
                         get('ember_run_parts'))
    if post is None:
        return None
    results = [None] * len(parts)
    progs = [[]]        # part 0's own program comes later
    _RECORDING.keep = keep = []     # the arrays the calls write or read: alive until they ran
    try:
        for k in range(1, len(parts)):
            _RECORDING.prog = prog = []
            results[k] = fn(*parts[k])
            progs.append(prog)
    finally:
        _RECORDING.prog = None
    _STATE['pool_used'] = True
    # (array.array, not NumPy: a few small NumPy arrays cost ~10 us a split)
    starts, flat = array.array('q', [0]), array.array('q')
    for p in progs:
        flat.extend(p)
        starts.append(len(flat))
    posted = post(len(parts), flat.buffer_info()[0], starts.buffer_info()[0])
    prog0, done = [], False
    try:
        _RECORDING.prog = prog0
        results[0] = fn(*parts[0])
        done = True
    finally:
        _RECORDING.prog = _RECORDING.keep = None
        # the library's parts may be running: wait for them, whatever part 0's Python did
        own = array.array('q', prog0 if done else ())
        if posted:
            finish(own.buffer_info()[0], len(own))
        elif done:      # another run had the threads: every part here, in turn
            own.extend(flat)
            # (the bounds held in a name: a temporary's buffer would be freed before the call)
            bounds = array.array('q', [0, len(own)])
            run(1, own.buffer_info()[0], bounds.buffer_info()[0])
        del keep
    return results


def get_split(name):
    """A kernel that splits its work over the library's threads itself (the split GEMM; the
    elementwise ones go through float_op): get(name), but None while a deferred part records
    (such a call would run at once, not be recorded). Its use counts as the pool's (rest())."""
    if _RECORDING.prog is not None:
        return None
    fn = get(name)
    if fn is not None:
        _STATE['pool_used'] = True
    return fn


def rest():
    """Send the library's idle threads to sleep now rather than after their spin: a split over
    Python threads is starting, and its threads need the cores they would hold."""
    if _STATE.get('pool_used') and _RECORDING.prog is None:
        # (switched off meanwhile: the threads sleep after their spin anyway)
        fn = _FUNCTIONS.get('ember_pool_rest') or get('ember_pool_rest')
        if fn:
            fn()
