"""`import ember` leaves the heavier namespaces for first use; they must behave as if loaded.

Each check runs in a fresh interpreter, as a user's program starts.
"""
import subprocess
import sys
import textwrap

import pytest

from _subproc import env

LAZY = ['ember.distributions', 'ember.distributed', 'ember.serialization', 'ember.cuda',
        'ember.jit', 'ember.onnx', 'ember.utils.data', 'ember.func', 'ember.nn.parallel',
        'ember._hook', 'ctypes.util', 'ember.library', 'ember.nested', 'ember.return_types',
        'ember.masked', 'ember.amp', 'ember.cpu', 'ember._oplib', 'ember._higher_order',
        'ember._extras', 'ember._compile', 'ember.futures', 'ember.backends.cudnn',
        'ember.backends.cuda', 'ember.backends.mkldnn', 'ember.optim.lr_scheduler',
        'ember.optim.swa_utils', 'ember.optim.lbfgs', 'ember.nn.utils.prune',
        'ember.nn.utils.parametrizations', 'ember.nn.utils.parametrize', 'ember.optim',
        'ember.nn.modules.rnn', 'ember.nn.modules.padding', 'ember.nn.modules.upsampling',
        'ember.nn.modules.pixelshuffle', 'ember.nn.modules.channelshuffle',
        'ember.nn.modules.adaptive', 'ember.nn.modules.fold', 'ember.nn.modules.data_parallel',
        'ember.nn.utils.rnn', 'ember.nn.utils.clip_grad', 'ember.nn.utils.fusion',
        'ember.nn.utils.convert_parameters', 'ember.nn.utils.init',
        'ember.nn.utils.memory_format']


def _run(source):
    r = subprocess.run([sys.executable, '-c', textwrap.dedent(source)], env=env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_import_ember_leaves_heavy_namespaces_unloaded():
    out = _run(f'''
        import sys, ember
        print(sorted(m for m in {LAZY!r} if m in sys.modules))
    ''')
    assert out.strip() == '[]'


@pytest.mark.parametrize('access', [
    'ember.distributions.Normal(0., 1.).mean',
    'ember.utils.data.DataLoader',
    'ember.cuda.is_available()',
    'ember.vmap is ember.func.vmap',
    'ember.save.__module__',
    'ember.nn.parallel.DistributedDataParallel',
    'ember.library.custom_op',
    'ember.nested.nested_tensor([ember.ones(2)])',
    'ember.return_types.max',
    'ember.backends.cudnn.is_available()',
    'ember.optim.lr_scheduler.StepLR',
    'ember.nn.LSTM(2, 3)',
    'ember.nn.modules.rnn.GRU',
    'ember.nn.ZeroPad2d(1)',
    'ember.nn.ChannelShuffle(2)',
    'ember.nn.utils.rnn.pack_sequence',
    'ember.nn.utils.clip_grad_norm_',
    'ember.nn.utils.fuse_conv_bn_eval',
    'ember.nn.utils.skip_init',
    'ember.nn.utils.prune.l1_unstructured',
    'ember.masked.masked_tensor',
    'ember.amp.GradScaler',
])
def test_lazy_namespaces_load_on_first_attribute(access):
    out = _run(f'''
        import ember
        print(repr({access}))
    ''')
    assert out.strip() and 'Error' not in out


@pytest.mark.parametrize('how', ['attribute', 'import'])
def test_lazily_loaded_namespace_keeps_the_missing_name_fallback(how):
    # torch.onnx's names that ember lacks resolve to stubs (NotImplementedError when used),
    # whether the namespace is reached as an attribute or imported after `import ember`
    out = _run(f'''
        import ember
        from ember import _stubs
        {'import ember.onnx as ns' if how == 'import' else 'ns = ember.onnx'}
        names = sorted(_stubs.kinds('torch.onnx'))
        got = [getattr(ns, n) for n in names]
        missing = [n for n, o in zip(names, got) if _stubs.is_missing(o)]
        assert missing, 'expected some torch.onnx names ember lacks'
        try:
            getattr(ns, missing[0])()
        except NotImplementedError as e:
            print('NotImplementedError', e)
    ''')
    assert out.startswith('NotImplementedError ember does not implement torch.onnx.')


def test_pickling_a_tensor_loads_the_serializer():
    out = _run('''
        import pickle, sys, ember
        t = pickle.loads(pickle.dumps(ember.arange(3.)))
        print(t.tolist(), 'ember.serialization' in sys.modules)
    ''')
    assert out.split() == ['[0.0,', '1.0,', '2.0]', 'True']


def test_every_lazy_name_is_its_home_modules_object():
    # each table entry names the object its module defines (torch's names at the top level,
    # in ember.optim, ember.backends, ember.nn.utils), and _extras' names are all listed
    out = _run('''
        import importlib, ember
        from ember import _extras, _higher_order
        from ember.amp import autocast_mode
        tables = {'ember': ember._LAZY,
                  'ember.optim': {'lr_scheduler': None, 'swa_utils': None, 'LBFGS': 'lbfgs'},
                  'ember.nn.utils': ember.nn.utils._LAZY,
                  'ember.nn.modules': ember.nn.modules._LAZY,
                  'ember.nn': {n: ('modules.' + h, n) for n, h in ember.nn.modules._LAZY.items()
                               if h},
                  'ember.backends': dict.fromkeys(['cudnn', 'cuda', 'mkldnn', 'opt_einsum'])}
        bad = []
        for package, table in tables.items():
            pkg = importlib.import_module(package)
            for name, home in table.items():
                got = getattr(pkg, name)
                if home is None:
                    want = importlib.import_module(f'{package}.{name}')
                else:
                    module, attr = (home, name) if isinstance(home, str) else home
                    want = getattr(importlib.import_module(f'{package}.{module}'), attr)
                if got is not want:
                    bad.append(f'{package}.{name}')
        # each lazy module's public names are all listed (so ember.nn.X finds every one)
        for package in ('ember.nn.modules', 'ember.nn.utils'):
            table = importlib.import_module(package)._LAZY
            pkg = importlib.import_module(package)
            for module in {h for h in table.values() if h}:
                mod = importlib.import_module(f'{package}.{module}')
                bad += [f'{package}.{module}.{n}' for n in mod.__all__
                        if getattr(pkg, n) is not getattr(mod, n)]
        listed = {n for n, h in ember._LAZY.items() if h == '_extras'}
        bad += sorted(set(_extras.__all__) ^ listed)
        listed = {n for n, h in ember._LAZY.items() if h == '_higher_order'}
        bad += sorted(set(_higher_order.__all__) - listed)
        print(bad, ember.Future.__name__, ember.autocast is autocast_mode.autocast)
    ''')
    assert out.split() == ['[]', 'Future', 'True']


def test_tensor_methods_do_not_depend_on_lazy_modules():
    # a lazily loaded module must not define Tensor methods: until it loads, such a method would
    # be a NotImplementedError stub. So loading them all changes no method of Tensor, but for
    # the placeholders of the lazy op families (tests/test_lazy_ops.py), which their family's
    # declarations replace if one of these modules imports it.
    out = _run(f'''
        import importlib, ember
        from ember import _tensor

        def methods():
            return dict(vars(ember.Tensor))

        before = methods()
        for m in {LAZY!r}:
            importlib.import_module(m)
        after = methods()
        changed = [n for n in before.keys() | after.keys() if before.get(n) is not after.get(n)]
        print(sorted(n for n in changed if not (isinstance(before.get(n), _tensor._LazyMethod)
                                                and _tensor._DECLARED[n][1] is after[n])))
    ''')
    assert out.strip() == '[]'


def test_dir_lists_names_not_loaded_yet():
    # dir(torch.nn) lists LSTM before anything loads it: so does ember's, without loading
    out = _run('''
        import sys, ember
        listed = ('LSTM' in dir(ember.nn), 'RNN' in dir(ember.nn.modules),
                  'Adam' in dir(ember.optim), 'clip_grad_norm_' in dir(ember.nn.utils),
                  'i0' in dir(ember), 'save' in dir(ember), 'zeros' in dir(ember))
        loaded = [m for m in ('ember.nn.modules.rnn', 'ember.optim.adam', 'ember._ops.special',
                              'ember.serialization', 'ember.nn.utils.clip_grad')
                  if m in sys.modules]
        print(all(listed), loaded)
    ''')
    assert out.strip() == 'True []'
