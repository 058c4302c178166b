"""The state behind torch.backends: the module-property machinery (`PropModule`,
`ContextProp`), the global-flags freeze, torch's float32 precision tree and the context managers
that set flags for a block.

The flags change nothing in ember (NumPy computes in full float32 precision whatever they say);
they are kept, read back and checked as torch's CPU build keeps them, so programs that set,
save and restore them run unchanged.
"""
import contextlib
import types
import warnings

_frozen = [False]


def no_binding(name):
    """The AttributeError torch's CPU build gives where a binding of torch._C it calls is absent
    (the CUDA, MPS, cuBLAS ones)."""
    return AttributeError(f"module 'torch._C' has no attribute '{name}'")


def disable_global_flags():
    """After this, setting a backend flag by assignment is refused (use the flags() blocks)."""
    _frozen[0] = True


def flags_frozen():
    return _frozen[0]


@contextlib.contextmanager
def allow_mutation():
    """torch's `__allow_nonbracketed_mutation`: the flags() blocks may set frozen flags."""
    old = _frozen[0]
    _frozen[0] = False
    try:
        yield
    finally:
        _frozen[0] = old


class ContextProp:
    """A module attribute read and written through a getter and a setter."""

    def __init__(self, getter, setter):
        self.getter = getter
        self.setter = setter

    def __get__(self, obj, objtype):
        return self.getter()

    def __set__(self, obj, val):
        if flags_frozen():
            raise RuntimeError(f"not allowed to set {obj.__name__} flags after "
                               "disable_global_flags; please use flags() context manager "
                               "instead")
        self.setter(val)


class PropModule(types.ModuleType):
    """A module replaced by an instance of a subclass, whose class attributes are properties;
    every other name is the original module's."""

    def __init__(self, m, name):
        super().__init__(name)
        self.m = m
        # a module-level __getattr__ (PEP 562, as ember's stub fallback installs one) runs
        # before the class's: this one reaches the original module first
        self.__dict__['__getattr__'] = m.__getattribute__

    def __getattr__(self, attr):
        return self.m.__getattribute__(attr)


# torch's float32 precision tree: generic -> {cuda, mkldnn} -> {all -> conv, rnn, matmul}.
# 'none' defers to the parent; cuDNN's conv and rnn, with nothing set on the way up, follow the
# legacy cudnn.allow_tf32 (on by default).
_PRECISIONS = ('none', 'ieee', 'tf32', 'bf16')
_OPS = ('all', 'conv', 'rnn', 'matmul')
_fp32 = {('generic', 'all'): 'none'}
_fp32.update({(b, op): 'none' for b in ('cuda', 'mkldnn') for op in _OPS})
_legacy = {'cudnn_allow_tf32': True, 'matmul': 'highest', 'nnpack': True, 'miopen': False,
           'cudnn_enabled': True, 'cudnn_benchmark': False, 'cudnn_deterministic': False,
           'cudnn_depthwise_kernel': 'auto', 'mkldnn_enabled': True,
           'mkldnn_deterministic': False}


def _key(backend, op):
    if backend not in ('generic', 'cuda', 'mkldnn'):
        raise RuntimeError(f'Unknown backend: {backend}')
    if op not in _OPS:
        raise RuntimeError(f'Unknown op: {op}')
    key = (backend, op)
    if key not in _fp32:
        raise RuntimeError(f'Invalid (backend, op) pair: ({backend}, {op})')
    return key


def get_precision(backend, op):
    """The precision in force for (backend, op), following 'none' up the tree."""
    key = _key(backend, op)
    p = _fp32[key]
    if p == 'none':
        p = _fp32[(backend, 'all')]
    if p == 'none':
        p = _fp32[('generic', 'all')]
    if p == 'none' and backend == 'cuda' and op in ('conv', 'rnn') \
            and _legacy['cudnn_allow_tf32']:
        p = 'tf32'
    if backend == 'cuda' and p == 'bf16':
        return 'none'
    return p


def set_precision(backend, op, precision):
    key = _key(backend, op)
    if precision not in _PRECISIONS:
        raise RuntimeError(f'Unknown precision: {precision}')
    if backend == 'cuda' and precision == 'bf16':
        raise RuntimeError("backend 'cuda' does not support precision 'bf16'")
    _fp32[key] = precision


def precision_getter(backend, op):
    return lambda: get_precision(backend, op)


def precision_setter(backend, op):
    return lambda precision: set_precision(backend, op, precision)


class _FP32Precision:
    """`cudnn.conv`, `mkldnn.matmul`, ...: an object with one attribute, fp32_precision."""

    def __init__(self, backend, op):
        self.backend = backend
        self.op = op

    def __setattr__(self, name, value):
        if name == 'fp32_precision':
            set_precision(self.backend, self.op, value)
        elif name in ('backend', 'op'):
            super().__setattr__(name, value)
        else:
            raise AttributeError('Unknown attribute ' + name)

    def __getattr__(self, name):
        if name == 'fp32_precision':
            return get_precision(self.backend, self.op)
        raise AttributeError('Unknown attribute ' + name)


_MIX = ("This combination indicates that you have used a mix of the legacy and new APIs to set "
        "the TF32 flags. We suggest only using the new API to set the TF32 flag(s). See also: "
        "https://pytorch.org/docs/main/notes/cuda.html"
        "#tensorfloat-32-tf32-on-ampere-and-later-devices")


def cudnn_allow_tf32():
    rnn = get_precision('cuda', 'rnn') == 'tf32'
    conv = get_precision('cuda', 'conv') == 'tf32'
    if not (rnn == conv == _legacy['cudnn_allow_tf32']):
        raise RuntimeError("PyTorch is checking whether allow_tf32 is enabled for cuDNN without "
                           "a specific operator name,but the current flag(s) indicate that cuDNN "
                           "conv and cuDNN RNN have different TF32 flags." + _MIX)
    return _legacy['cudnn_allow_tf32']


def set_cudnn_allow_tf32(b):
    b = bool(b)
    set_precision('cuda', 'rnn', 'tf32' if b else 'none')
    set_precision('cuda', 'conv', 'tf32' if b else 'none')
    _legacy['cudnn_allow_tf32'] = b


def cublas_allow_tf32():
    new = get_precision('cuda', 'matmul') == 'tf32'
    if (_legacy['matmul'] != 'highest') != new:
        raise RuntimeError(
            "PyTorch is checking whether allow_tf32_new is enabled for cuBlas matmul,Current "
            "status indicate that you have used mix of the legacy and new APIs to set the TF32 "
            "status for cublas matmul. We suggest only using the new API to set the TF32 flag. "
            "See also: https://pytorch.org/docs/main/notes/cuda.html"
            "#tensorfloat-32-tf32-on-ampere-and-later-devices")
    return new


def set_cublas_allow_tf32(b):
    _legacy['matmul'] = 'high' if b else 'highest'
    set_precision('cuda', 'matmul', 'tf32' if b else 'ieee')


_MATMUL_LEVELS = {'highest': ('ieee', 'ieee'), 'high': ('tf32', 'tf32'),
                  'medium': ('tf32', 'bf16')}


def set_float32_matmul_precision(precision):
    # exact names only: torch's case-insensitive retry lowercases into an empty string
    if precision in _MATMUL_LEVELS:
        _legacy['matmul'] = precision
        cuda, mkldnn = _MATMUL_LEVELS[precision]
        set_precision('cuda', 'matmul', cuda)
        set_precision('mkldnn', 'matmul', mkldnn)
        return
    warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                  "setFloat32MatmulPrecision call has no effect.", stacklevel=3)


def get_float32_matmul_precision():
    level = _legacy['matmul']
    mk = get_precision('mkldnn', 'matmul')
    invalid = (get_precision('cuda', 'matmul') == 'tf32' and level == 'highest') \
        or (mk == 'bf16' and level != 'medium') or (mk == 'tf32' and level != 'high')
    if invalid:
        raise RuntimeError(
            "PyTorch is checking the matmul precision without a specific backend name,"
            "Current status indicate that you have used mix of the legacy and new APIs to set "
            "the matmul precision. We suggest only using the new API for matmul precision. "
            "See also: https://pytorch.org/docs/main/notes/cuda.html"
            "#tensorfloat-32-tf32-on-ampere-and-later-devices")
    return level


def legacy_flag(name):
    """The (getter, setter) of one plain flag (cudnn.enabled, nnpack, ...)."""
    def get():
        return _legacy[name]

    def set_(value):
        _legacy[name] = value
    return get, set_


def set_all(props, values):
    """set_flags: read every flag (None where there is no getter), then set each given value
    (None keeps it); return the old values."""
    orig = tuple(None if p is None else p[0]() for p in props)
    for p, value in zip(props, values):
        if p is not None and value is not None:
            p[1](value)
    return orig


@contextlib.contextmanager
def scoped(set_flags, *values):
    """`with flags(...)`: set the flags, restore them on the way out (allowed while the global
    flags are frozen)."""
    with allow_mutation():
        orig = set_flags(*values)
    try:
        yield
    finally:
        with allow_mutation():
            set_flags(*orig)


class _Verbose:
    """`with verbose(...)`: MKL's and oneDNN's verbose logging; ember has nothing to log."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
