"""torch.onnx: exporting needs a traced graph, which ember does not build; the enums, the
errors and select_model_mode_for_export are torch's."""
import contextlib

from .._stubs import unimplemented as _unimplemented
from . import errors  # noqa: F401
from .errors import OnnxExporterError
from ._types import JitScalarType, OperatorExportTypes, TensorProtoDataType, TrainingMode

__all__ = ['export', 'is_in_onnx_export', 'dynamo_export', 'OnnxExporterError', 'errors',
           'JitScalarType', 'OperatorExportTypes', 'TensorProtoDataType', 'TrainingMode',
           'select_model_mode_for_export']


@_unimplemented('torch.onnx.export')
def export(model, args=(), f=None, **kwargs):
    raise NotImplementedError('torch.onnx.export is not supported by ember: ONNX export needs '
                              "a traced graph of torch's operators, which ember does not build")


@_unimplemented('torch.onnx.dynamo_export')
def dynamo_export(model, *args, **kwargs):
    raise NotImplementedError('torch.onnx.dynamo_export is not supported by ember')


def is_in_onnx_export():
    return False


@contextlib.contextmanager
def select_model_mode_for_export(model, mode):
    """Deprecated on torch: run the block with `model` in `mode`'s training state
    (TrainingMode.TRAINING, EVAL, or PRESERVE), then restore it."""
    if not isinstance(mode, TrainingMode):
        raise TypeError(f"'mode' should be a torch.onnx.TrainingMode enum, but got "
                        f"'{type(mode)}'.")
    originally_training = getattr(model, 'training', False)
    if hasattr(model, 'training'):
        if mode == TrainingMode.TRAINING:
            model.train(True)
        elif mode == TrainingMode.EVAL:
            model.train(False)
    try:
        yield
    finally:
        if hasattr(model, 'training') and mode != TrainingMode.PRESERVE:
            model.train(originally_training)
