"""torch.onnx's enums, JitScalarType, errors and select_model_mode_for_export against torch 2.13
(export itself needs a traced graph, which ember does not build)."""
import pytest

import ember

torch = pytest.importorskip('torch')


@pytest.mark.parametrize('name', ['TrainingMode', 'OperatorExportTypes', 'TensorProtoDataType'])
def test_bound_enums_as_torch(name):
    e, t = getattr(ember.onnx, name), getattr(torch.onnx, name)
    assert {k: int(v) for k, v in e.__members__.items()} == \
        {k: int(v) for k, v in t.__members__.items()}
    for k in t.__members__:
        assert (repr(getattr(e, k)), str(getattr(e, k))) == (repr(getattr(t, k)), str(getattr(t, k)))


def _outcome(fn):
    try:
        return 'ok', fn()
    except Exception as exc:  # noqa: BLE001 - compared between the libraries
        return type(exc).__name__, str(exc).replace('torch.', '')


@pytest.mark.parametrize('member', list(torch.onnx.JitScalarType.__members__))
def test_jit_scalar_type_as_torch(member):
    e, t = ember.onnx.JitScalarType[member], torch.onnx.JitScalarType[member]
    assert (int(e), repr(e), str(e)) == (int(t), repr(t).replace('torch', 'ember'), str(t))
    assert e.scalar_name() == t.scalar_name() and e.onnx_compatible() == t.onnx_compatible()
    assert str(e.onnx_type()) == str(t.onnx_type())
    assert _outcome(e.torch_name)[0] == _outcome(t.torch_name)[0]
    te, tt = _outcome(e.dtype), _outcome(t.dtype)
    if te[0] == 'ok' and tt[0] == 'ok':
        assert str(te[1]) == str(tt[1])
        assert ember.onnx.JitScalarType.from_dtype(te[1]) == e
    elif tt[0] == 'ok':   # a dtype ember may not have yet (float8)
        assert te[0] == 'KeyError'


@pytest.mark.parametrize('onnx_type', range(0, 22))
def test_jit_scalar_type_from_onnx_type_as_torch(onnx_type):
    e = _outcome(lambda: int(ember.onnx.JitScalarType.from_onnx_type(onnx_type)))
    t = _outcome(lambda: int(torch.onnx.JitScalarType.from_onnx_type(onnx_type)))
    assert e == t


@pytest.mark.parametrize('name', ['Float', 'float', 'int64_t', 'Long', 'nope', None])
def test_jit_scalar_type_from_name_as_torch(name):
    assert _outcome(lambda: int(ember.onnx.JitScalarType._from_name(name))) == \
        _outcome(lambda: int(torch.onnx.JitScalarType._from_name(name)))


def test_errors_as_torch():
    for args in [('aten::foo', 9, None), ('aten::foo', 9, 11), ('custom::op', 9, None)]:
        assert str(ember.onnx.errors.UnsupportedOperatorError(*args)) == \
            str(torch.onnx.errors.UnsupportedOperatorError(*args))
    assert issubclass(ember.onnx.errors.UnsupportedOperatorError, ember.onnx.OnnxExporterError)
    assert issubclass(ember.onnx.errors.OnnxExporterWarning, UserWarning)


@pytest.mark.parametrize('mode', ['EVAL', 'TRAINING', 'PRESERVE'])
@pytest.mark.parametrize('start', [True, False])
def test_select_model_mode_for_export_as_torch(mode, start):
    seen = []
    for lib in (torch, ember):
        m = lib.nn.Sequential(lib.nn.Dropout())
        m.train(start)
        with lib.onnx.select_model_mode_for_export(m, getattr(lib.onnx.TrainingMode, mode)):
            inside = m.training, m[0].training
        seen.append((inside, m.training))
    assert seen[0] == seen[1]
    for lib in (torch, ember):
        with pytest.raises(TypeError, match="'mode' should be a torch.onnx.TrainingMode enum"):
            with lib.onnx.select_model_mode_for_export(lib.nn.Linear(1, 1), 'eval'):
                pass
