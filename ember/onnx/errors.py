"""ember.onnx.errors (torch.onnx.errors): the exporter's exception and warning classes."""

__all__ = ['OnnxExporterWarning', 'SymbolicValueError', 'UnsupportedOperatorError']


class OnnxExporterWarning(UserWarning):
    """Warnings in the ONNX exporter."""


class OnnxExporterError(RuntimeError):
    """Errors raised by the ONNX exporter: the base class of the exporter's errors."""


class UnsupportedOperatorError(OnnxExporterError):
    """An operator the exporter cannot export at the requested opset."""

    def __init__(self, name, version, supported_version):
        if supported_version is not None:
            msg = (f"Exporting the operator '{name}' to ONNX opset version {version} is not "
                   f"supported. Support for this operator was added in version "
                   f"{supported_version}, try exporting with this version")
        elif name.startswith(('aten::', 'prim::', 'quantized::')):
            msg = f"Exporting the operator '{name}' to ONNX opset version {version} is not supported"
        else:
            msg = (f"ONNX export failed on an operator with unrecognized namespace {name}. If you "
                   "are trying to export a custom operator, make sure you registered it with the "
                   "right domain and version.")
        super().__init__(msg)


class SymbolicValueError(OnnxExporterError):
    """Errors around TorchScript values and nodes (ember builds no TorchScript graph, so it
    takes the message as given)."""

    def __init__(self, msg, value=None):
        super().__init__(msg)
