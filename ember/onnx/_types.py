"""torch.onnx's enums: TrainingMode, OperatorExportTypes, TensorProtoDataType (bound from C++
on torch) and JitScalarType (a Python IntEnum on torch)."""
import enum

from .. import _dtype
from .._enums import pybind_enum
from .errors import OnnxExporterError

__all__ = ['TrainingMode', 'OperatorExportTypes', 'TensorProtoDataType', 'JitScalarType']

TrainingMode = pybind_enum('TrainingMode', [('EVAL', 0), ('PRESERVE', 1), ('TRAINING', 2)],
                           'ember.onnx')
OperatorExportTypes = pybind_enum('OperatorExportTypes', [
    ('ONNX', 0), ('ONNX_ATEN', 1), ('ONNX_ATEN_FALLBACK', 2), ('ONNX_FALLTHROUGH', 3)],
    'ember.onnx')
TensorProtoDataType = pybind_enum('TensorProtoDataType', [(n, i) for i, n in enumerate(
    'UNDEFINED FLOAT UINT8 INT8 UINT16 INT16 INT32 INT64 STRING BOOL FLOAT16 DOUBLE UINT32 '
    'UINT64 COMPLEX64 COMPLEX128 BFLOAT16 FLOAT8E4M3FN FLOAT8E4M3FNUZ FLOAT8E5M2 '
    'FLOAT8E5M2FNUZ'.split())], 'ember.onnx')

# member: (scalar name, torch's C++ name, ONNX type, torch dtype name), in torch's order
_TABLE = {
    'UINT8': ('Byte', 'uint8_t', 'UINT8', 'uint8'),
    'INT8': ('Char', 'int8_t', 'INT8', 'int8'),
    'INT16': ('Short', 'int16_t', 'INT16', 'int16'),
    'INT': ('Int', 'int', 'INT32', 'int32'),
    'INT64': ('Long', 'int64_t', 'INT64', 'int64'),
    'HALF': ('Half', 'half', 'FLOAT16', 'float16'),
    'FLOAT': ('Float', 'float', 'FLOAT', 'float32'),
    'DOUBLE': ('Double', 'double', 'DOUBLE', 'float64'),
    'COMPLEX32': ('ComplexHalf', 'complex32', 'UNDEFINED', 'complex32'),
    'COMPLEX64': ('ComplexFloat', 'complex64', 'COMPLEX64', 'complex64'),
    'COMPLEX128': ('ComplexDouble', 'complex128', 'COMPLEX128', 'complex128'),
    'BOOL': ('Bool', 'bool', 'BOOL', 'bool'),
    'QINT8': ('QInt8', 'qint8', 'INT8', 'qint8'),
    'QUINT8': ('QUInt8', 'quint8', 'UINT8', 'quint8'),
    'QINT32': ('QInt32', 'qint32', 'INT32', 'qint32'),
    'BFLOAT16': ('BFloat16', 'bfloat16', 'BFLOAT16', 'bfloat16'),
    'FLOAT8E5M2': ('Float8E5M2', 'float8_e5m2', 'FLOAT8E5M2', 'float8_e5m2'),
    'FLOAT8E4M3FN': ('Float8E4M3FN', 'float8_e4m3fn', 'FLOAT8E4M3FN', 'float8_e4m3fn'),
    'FLOAT8E5M2FNUZ': ('Float8E5M2FNUZ', 'float8_e5m2fnuz', 'FLOAT8E5M2FNUZ', 'float8_e5m2fnuz'),
    'FLOAT8E4M3FNUZ': ('Float8E4M3FNUZ', 'float8_e4m3fnuz', 'FLOAT8E4M3FNUZ', 'float8_e4m3fnuz'),
    'UNDEFINED': ('Undefined', None, 'UNDEFINED', None),
}


class JitScalarType(enum.IntEnum):
    """A tensor's scalar type as the TorchScript ONNX exporter names it."""
    UINT8 = 0
    INT8 = 1
    INT16 = 2
    INT = 3
    INT64 = 4
    HALF = 5
    FLOAT = 6
    DOUBLE = 7
    COMPLEX32 = 8
    COMPLEX64 = 9
    COMPLEX128 = 10
    BOOL = 11
    QINT8 = 12
    QUINT8 = 13
    QINT32 = 14
    BFLOAT16 = 15
    FLOAT8E5M2 = 16
    FLOAT8E4M3FN = 17
    FLOAT8E5M2FNUZ = 18
    FLOAT8E4M3FNUZ = 19
    UNDEFINED = 20

    @classmethod
    def _from_name(cls, name):
        if name is None:
            raise OnnxExporterError("Scalar type name cannot be None")
        for member, (scalar, cname, _, _) in _TABLE.items():
            if name == scalar or (cname is not None and name == cname):
                return cls[member]
        raise OnnxExporterError(f"Unknown torch or scalar type: '{name}'")

    @classmethod
    def from_dtype(cls, dtype):
        for member, row in _TABLE.items():
            if row[3] is not None and getattr(_dtype, row[3], None) is dtype is not None:
                return cls[member]
        raise OnnxExporterError(f"Unknown dtype: {dtype}")

    @classmethod
    def from_onnx_type(cls, onnx_type):
        # torch inverts its table by dict, so for an ONNX type several members share, the one
        # its table lists last wins: the quantized types and COMPLEX32 (UNDEFINED's)
        shared = ('COMPLEX32', 'QINT8', 'QUINT8', 'QINT32')
        found = None
        for member in [m for m in _TABLE if m not in shared] + list(shared):
            row = _TABLE[member]
            if onnx_type is not None and int(getattr(TensorProtoDataType, row[2])) == onnx_type:
                found = cls[member]
        if found is None:
            raise OnnxExporterError(f"Unknown onnx_type: {onnx_type}")
        return found

    def scalar_name(self):
        return _TABLE[self.name][0]

    def torch_name(self):
        name = _TABLE[self.name][1]
        if name is None:
            raise KeyError(self)
        return name

    def dtype(self):
        name = _TABLE[self.name][3]
        value = getattr(_dtype, name, None) if name is not None else None
        if value is None:
            raise KeyError(self)
        return value

    def onnx_type(self):
        return getattr(TensorProtoDataType, _TABLE[self.name][2])

    def onnx_compatible(self):
        return self not in (JitScalarType.UNDEFINED, JitScalarType.COMPLEX32)


JitScalarType.__module__ = 'ember.onnx'
