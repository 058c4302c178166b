"""The layer classes have torch's shape: class hierarchy (isinstance against torch's private
bases), __constants__, constructor signatures, printed reprs and state_dict keys."""
import inspect

import pytest
import torch

import ember

_FILES = ['activation', 'conv', 'dropout', 'fold', 'linear', 'loss', 'normalization', 'padding',
          'pixelshuffle', 'pooling', 'rnn', 'sparse', 'transformer', 'container', 'flatten',
          'distance', 'upsampling', 'channelshuffle', 'batchnorm', 'instancenorm']
# signatures that differ from torch's for reasons outside this test (torch's *args shims,
# the transformers' extra arguments)
_SIGNATURE_KNOWN = {'NLLLoss2d', 'Container', 'Transformer', 'TransformerDecoderLayer',
                    'TransformerEncoderLayer'}


def _pairs():
    out = []
    for name in _FILES:
        tmod = getattr(torch.nn.modules, name)
        emod = getattr(ember.nn.modules, name)
        for attr, tcls in vars(tmod).items():
            if not (isinstance(tcls, type) and issubclass(tcls, torch.nn.Module)
                    and tcls.__module__ == tmod.__name__):
                continue
            ecls = getattr(emod, attr, None)
            if ecls is None or getattr(ecls, '_ember_missing', False):
                continue
            out.append(pytest.param(name, tcls, ecls, id=f"{name}.{attr}"))
    return out


def _torch_names(cls, prefix):
    return [(b.__module__[len(prefix):], b.__name__) for b in cls.__mro__
            if b.__module__.startswith(prefix)]


@pytest.mark.parametrize('name,tcls,ecls', _pairs())
def test_hierarchy_and_constants(name, tcls, ecls):
    tnames = _torch_names(tcls, 'torch.nn.modules.')
    # ember may add private helpers between torch's classes, never a class torch has elsewhere
    enames = [n for n in _torch_names(ecls, 'ember.nn.modules.')
              if hasattr(getattr(torch.nn.modules, n[0].split('.')[0]), n[1])]
    assert enames == tnames
    assert getattr(ecls, '__constants__', None) == getattr(tcls, '__constants__', None)
    if not tcls.__name__.startswith('_') and tcls.__name__ not in _SIGNATURE_KNOWN:
        def sig(c):
            return [(p.name, p.default, p.kind) for p in inspect.signature(c).parameters.values()]
        assert sig(ecls) == sig(tcls)


# (class name, args, kwargs): reprs and state_dict keys compared with torch's
_CASES = [
    ('Conv1d', (2, 4, 3), {}), ('Conv2d', (2, 4, 3), dict(stride=2, padding=1, bias=False)),
    ('Conv3d', (2, 4, (1, 2, 3)), dict(dilation=2, groups=2, padding_mode='reflect')),
    ('Conv2d', (2, 4, 3), dict(padding='same')),
    ('ConvTranspose1d', (2, 4, 3), dict(output_padding=1, stride=2)),
    ('ConvTranspose2d', (2, 4, 3), {}), ('ConvTranspose3d', (2, 4, 1), dict(bias=False)),
    ('MaxPool1d', (2,), {}), ('MaxPool2d', (3, 1, 1), dict(ceil_mode=True)),
    ('MaxPool3d', (2,), dict(return_indices=True)),
    ('MaxUnpool1d', (2,), {}), ('MaxUnpool2d', (2, 1), {}), ('MaxUnpool3d', (2,), {}),
    ('AvgPool1d', (2,), {}), ('AvgPool2d', (2,), dict(divisor_override=3)),
    ('AvgPool3d', (2, 1, 1), dict(count_include_pad=False)),
    ('AdaptiveAvgPool1d', (3,), {}), ('AdaptiveAvgPool2d', ((3, None),), {}),
    ('AdaptiveAvgPool3d', (3,), {}), ('AdaptiveMaxPool1d', (3,), dict(return_indices=True)),
    ('AdaptiveMaxPool2d', (3,), {}), ('AdaptiveMaxPool3d', (3,), {}),
    ('LPPool1d', (2, 3), {}), ('LPPool2d', (1.5, 2), dict(stride=1)), ('LPPool3d', (2, 2), {}),
    ('ZeroPad1d', (1,), {}), ('ZeroPad2d', ((1, 2, 3, 4),), {}), ('ZeroPad3d', (1,), {}),
    ('ConstantPad1d', (2, 3.5), {}), ('ConstantPad2d', (1, 0), {}), ('ConstantPad3d', (1, 2), {}),
    ('ReflectionPad1d', (2,), {}), ('ReflectionPad2d', (1,), {}), ('ReflectionPad3d', (1,), {}),
    ('ReplicationPad1d', (2,), {}), ('ReplicationPad2d', (1,), {}),
    ('ReplicationPad3d', (1,), {}), ('CircularPad1d', (2,), {}), ('CircularPad2d', (1,), {}),
    ('CircularPad3d', (1,), {}),
    ('ReLU', (), {}), ('ReLU', (True,), {}), ('ReLU6', (True,), {}), ('SELU', (), {}),
    ('SiLU', (True,), {}), ('Mish', (), {}), ('Hardswish', (True,), {}),
    ('Hardsigmoid', (), {}), ('ELU', (0.5, True), {}), ('CELU', (0.5,), {}),
    ('Hardshrink', (0.3,), {}), ('Softshrink', (), {}), ('Threshold', (0.1, 2.0), {}),
    ('RReLU', (), {}), ('Hardtanh', (-2.0, 2.0), {}), ('GLU', (), {}), ('GELU', ('tanh',), {}),
    ('LeakyReLU', (0.2, True), {}), ('Softplus', (2.0,), {}), ('PReLU', (3,), {}),
    ('Softmin', (1,), {}), ('Softmax', (), {}), ('LogSoftmax', (0,), {}), ('Softmax2d', (), {}),
    ('Sigmoid', (), {}), ('Tanh', (), {}), ('LogSigmoid', (), {}), ('Softsign', (), {}),
    ('Tanhshrink', (), {}),
    ('Dropout', (), {}), ('Dropout1d', (0.2,), {}), ('Dropout2d', (0.3, True), {}),
    ('Dropout3d', (), {}), ('AlphaDropout', (0.1,), {}), ('FeatureAlphaDropout', (), {}),
    ('Fold', ((4, 5), 2), {}), ('Unfold', (2,), dict(padding=1)),
    ('PixelShuffle', (2,), {}), ('PixelUnshuffle', (3,), {}),
    ('LayerNorm', (4,), {}), ('LayerNorm', ((2, 3),), dict(elementwise_affine=False)),
    ('GroupNorm', (2, 4), {}), ('GroupNorm', (2, 4), dict(bias=False)),
    ('BatchNorm2d', (3,), {}), ('BatchNorm1d', (3,), dict(bias=False, momentum=None)),
    ('InstanceNorm3d', (3,), dict(affine=True, bias=False)), ('LazyBatchNorm1d', (), {}), ('LocalResponseNorm', (2,), {}), ('RMSNorm', (4,), {}),
    ('Embedding', (5, 3), dict(padding_idx=1)), ('EmbeddingBag', (5, 3), {}),
    ('RNN', (3, 4), dict(num_layers=2)), ('LSTM', (3, 4), dict(proj_size=2)),
    ('GRU', (3, 4), dict(bidirectional=True)), ('RNNCell', (3, 4), {}), ('LSTMCell', (3, 4), {}),
    ('GRUCell', (3, 4), dict(bias=False)),
    ('L1Loss', (), {}), ('MSELoss', (), dict(reduction='sum')), ('NLLLoss', (), {}),
    ('CrossEntropyLoss', (), dict(label_smoothing=0.1)), ('BCELoss', (), {}),
    ('BCEWithLogitsLoss', (), {}), ('HuberLoss', (), {}), ('SmoothL1Loss', (), {}),
    ('KLDivLoss', (), {}), ('MarginRankingLoss', (), {}), ('TripletMarginLoss', (), {}),
    ('TransformerEncoderLayer', (8, 2, 16), dict(dropout=0.0)),
    ('TransformerDecoderLayer', (8, 2, 16), dict(dropout=0.0)),
    ('Linear', (3, 4), {}), ('Bilinear', (2, 3, 4), {}), ('Identity', (), {}),
]


@pytest.mark.parametrize('cls,args,kwargs', _CASES,
                         ids=[f'{c[0]}-{i}' for i, c in enumerate(_CASES)])
def test_repr_and_state_dict(cls, args, kwargs):
    t = getattr(torch.nn, cls)(*args, **kwargs)
    e = getattr(ember.nn, cls)(*args, **kwargs)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    for attr in getattr(type(t), '__constants__', ()):
        if hasattr(t, attr):
            assert getattr(e, attr) == getattr(t, attr), attr


@pytest.mark.parametrize('cls', ['Conv2d', 'ReLU', 'MaxPool2d', 'ReflectionPad2d', 'L1Loss'])
def test_subclass_keywords_as_torch(cls):
    # the families' class keywords (fn=, nd=) must not stop a user's mixin from taking its own
    results = []
    for lib in (torch, ember):
        class Mixin:
            def __init_subclass__(sub, tag=None, **kwargs):
                super().__init_subclass__(**kwargs)
                sub.tag = tag

        class Tagged(getattr(lib.nn, cls), Mixin, tag='x'):
            pass

        try:
            class Bad(getattr(lib.nn, cls), bogus=1):
                pass
            bad = None
        except TypeError as e:
            bad = str(e)
        results.append((Tagged.tag, bad))
    assert results[1] == results[0]
