"""torch.onnx: exporting needs a traced graph, which ember does not build."""
from .._stubs import unimplemented as _unimplemented

__all__ = ['export', 'is_in_onnx_export', 'dynamo_export', 'OnnxExporterError']


class OnnxExporterError(RuntimeError):
    pass


@_unimplemented('torch.onnx.export')
def export(model, args=(), f=None, **kwargs):
    raise NotImplementedError('torch.onnx.export is not supported by ember: ONNX export needs '
                              "a traced graph of torch's operators, which ember does not build")


@_unimplemented('torch.onnx.dynamo_export')
def dynamo_export(model, *args, **kwargs):
    raise NotImplementedError('torch.onnx.dynamo_export is not supported by ember')


def is_in_onnx_export():
    return False
