"""torch.backends.quantized: the quantized engine, as torch's x86 CPU wheel reports it. ember's
quantized kernels are fbgemm's arithmetic whichever engine is named (docs/internals.md)."""
import sys

from .._flags import PropModule

__all__ = ['engine', 'supported_engines', 'QuantizedEngine']

_ENGINES = {'none': 0, '': 0, None: 0, 'fbgemm': 1, 'qnnpack': 2, 'onednn': 3, 'x86': 4}
_NAMES = {0: 'NoQEngine', 1: 'FBGEMM', 2: 'QNNPACK', 3: 'ONEDNN', 4: 'X86'}
_SUPPORTED = ('qnnpack', 'onednn', 'x86', 'fbgemm')
_engine = ['x86']


def _get_qengine_id(qengine):
    if qengine not in _ENGINES:
        raise RuntimeError(f'{qengine} is not a valid value for quantized engine')
    return _ENGINES[qengine]


def _get_qengine_str(qengine):
    return {0: 'none', 1: 'fbgemm', 2: 'qnnpack', 3: 'onednn', 4: 'x86'}.get(qengine,
                                                                            '*undefined')


class _QEngineProp:
    def __get__(self, obj, objtype):
        return _engine[0]

    def __set__(self, obj, val):
        qid = _get_qengine_id(val)
        name = _get_qengine_str(qid)
        if name not in _SUPPORTED:
            raise RuntimeError(f'quantized engine {_NAMES[qid]} is not supported')
        _engine[0] = name


class _SupportedQEnginesProp:
    def __get__(self, obj, objtype):
        return list(_SUPPORTED)

    def __set__(self, obj, val):
        raise RuntimeError('Assignment not supported')


class QuantizedEngine(PropModule):
    engine = _QEngineProp()
    supported_engines = _SupportedQEnginesProp()


sys.modules[__name__] = QuantizedEngine(sys.modules[__name__], __name__)
