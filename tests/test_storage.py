"""Storages on ember against torch 2.13: UntypedStorage, TypedStorage, the legacy classes
(FloatStorage, ...), torch.cuda's, Tensor.storage()/untyped_storage() sharing memory, pickling,
from_buffer and from_file."""
import copy
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

import ember
from _oracle import assert_same
from _subproc import env

torch = pytest.importorskip('torch')

LEGACY = ['DoubleStorage', 'FloatStorage', 'HalfStorage', 'LongStorage', 'IntStorage',
          'ShortStorage', 'CharStorage', 'ByteStorage', 'BoolStorage', 'BFloat16Storage',
          'ComplexDoubleStorage', 'ComplexFloatStorage']


def _quiet(fn):
    def run(L):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return fn(L)
    return run


@pytest.mark.parametrize('name', LEGACY)
def test_legacy_classes(name):
    def run(L):
        cls = getattr(L, name)
        s = cls([1, 0, 1])
        others = [n for n in LEGACY if n != name and isinstance(s, getattr(L, n))]
        return (repr(cls.dtype), type(s).__name__, s.dtype == cls.dtype, isinstance(s, cls),
                isinstance(s, L.TypedStorage), others, s.size(), s.element_size(),
                s.nbytes(), s.pickle_storage_type(), s.type(), len(cls(4)),
                isinstance(s, getattr(L.cuda, name)))
    assert_same(_quiet(run), torch)


@pytest.mark.parametrize('name', LEGACY)
def test_cuda_legacy_classes_need_cuda(name):
    assert_same(_quiet(lambda L: getattr(L.cuda, name)(2)), torch)


@pytest.mark.parametrize('name', ['FloatTensor', 'LongTensor', 'BoolTensor', 'HalfTensor'])
def test_cuda_legacy_tensor_types(name):
    assert_same(lambda L: getattr(L.cuda, name)(3), torch)
    assert_same(lambda L: isinstance(L.ones(1), getattr(L.cuda, name)), torch)


def test_typed_storage_warns_once_as_torch():
    code = ("import warnings, {lib} as L\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    L.FloatStorage(2); L.TypedStorage(2, dtype=L.float64); L.ones(1).storage()\n"
            "print([(x.category.__name__, str(x.message)) for x in w])")
    out = {}
    for lib in ('torch', 'ember'):
        r = subprocess.run([sys.executable, '-c', code.format(lib=lib)], capture_output=True,
                           text=True, timeout=120, env=env())
        out[lib] = r.stdout
    assert out['ember'] == out['torch'] and 'TypedStorage is deprecated' in out['ember']


def test_untyped_storage():
    def run(L):
        u = L.UntypedStorage([1, 2, 300 % 256, 255])
        v = u[1:3]
        v[0] = 9
        out = [u.tolist(), len(u), u.size(), u.nbytes(), u.element_size(), u[0], type(u[0]),
               repr(u), repr(v), type(v).__name__, str(u.device), u.is_shared(),
               u.is_pinned(), u.is_cuda, u.type(), len(L.UntypedStorage(5))]
        u.fill_(7)
        c = u.clone()
        c[0] = 1
        out += [u.tolist(), c.tolist(), u.float().tolist(), u.byte().tolist(),
                u.bool().dtype == L.bool, u.double().size()]
        w = L.UntypedStorage(4)
        w.copy_(L.UntypedStorage([4, 3, 2, 1]))
        out.append(w.tolist())
        return out
    assert_same(_quiet(run), torch)


def test_tensor_storages_share_memory():
    def run(L):
        t = L.arange(4, dtype=L.int16)
        us = t.untyped_storage()
        us[0] = 9
        ts = t.storage()
        ts[1] = 5
        out = [t.tolist(), us.tolist(), ts.tolist(), ts[1], type(ts[1]).__name__,
               repr(ts.dtype), ts.size(), ts.nbytes(), us.data_ptr() == t.data_ptr(),
               ts.data_ptr() == t.data_ptr(), ts.untyped().data_ptr() == us.data_ptr(),
               L.is_storage(ts), L.is_storage(us), L.is_storage(t)]
        v = t[2:]
        out.append(v.untyped_storage().size())  # the whole buffer, as torch's
        ts.fill_(3)
        out.append(t.tolist())
        out.append(ts.float().tolist())
        out.append(repr(ts))
        return out
    assert_same(_quiet(run), torch)


def test_typed_storage_errors():
    def run(L):
        s = L.FloatStorage([1, 2, 3])
        return s[1:2]
    assert_same(_quiet(run), torch)
    assert_same(_quiet(lambda L: L.FloatStorage([1, 2, 3])[3]), torch)
    assert_same(_quiet(lambda L: L.FloatStorage([1, 2, 3])[-3]), torch)
    assert_same(_quiet(lambda L: L.TypedStorage(L.UntypedStorage(4), wrap_storage=L.UntypedStorage(4),
                                         dtype=L.float32)), torch)
    assert_same(_quiet(lambda L: L.TypedStorage(wrap_storage=[1], dtype=L.float32)), torch)


def test_typed_storage_constructors():
    def run(L):
        return [L.TypedStorage(3, dtype=L.float64).size(),
                L.TypedStorage([1.5, 2], dtype=L.float32).tolist(),
                L.TypedStorage(wrap_storage=L.UntypedStorage([0, 0, 128, 63]),
                               dtype=L.float32).tolist(),
                L.TypedStorage().dtype == L.get_default_dtype(),
                L.TypedStorage([True, False], dtype=L.bool).tolist()]
    assert_same(_quiet(run), torch)


def test_from_buffer():
    def run(L):
        data = np.array([1.0, 2.0], np.float32).tobytes()
        big = np.array([1.0, 2.0], '>f4').tobytes()
        return [L.FloatStorage.from_buffer(data, 'native').tolist(),
                L.FloatStorage.from_buffer(big, 'big').tolist(),
                L.FloatStorage.from_buffer(data, 'little', 1, 4).tolist(),
                L.UntypedStorage.from_buffer(b'abc', dtype=L.uint8).tolist(),
                L.TypedStorage.from_buffer(data, 'little', dtype=L.float32).tolist()]
    assert_same(_quiet(run), torch)


def test_from_file(tmp_path):
    def run(L):
        p = tmp_path / f'{L.__name__}.bin'
        np.arange(4, dtype=np.float32).tofile(p)
        s = L.FloatStorage.from_file(str(p), False, 4)
        private = s.tolist()
        s[0] = 100
        unchanged = np.fromfile(p, np.float32).tolist()
        shared = L.FloatStorage.from_file(str(p), True, 4)
        shared[1] = 50
        del shared
        u = L.UntypedStorage.from_file(str(tmp_path / f'{L.__name__}_new.bin'), True, 8)
        return private, unchanged, np.fromfile(p, np.float32).tolist(), u.size(), \
            (tmp_path / f'{L.__name__}_new.bin').stat().st_size
    assert_same(_quiet(run), torch)


def test_pickle_and_copy():
    def run(L):
        ts = L.tensor([1.5, 2.5]).storage()
        us = L.tensor([1, 2], dtype=L.uint8).untyped_storage()
        back = pickle.loads(pickle.dumps(ts))
        c = copy.deepcopy(ts)
        c[0] = 0
        return (type(back).__name__, back.tolist(), repr(back.dtype), ts.tolist(), c.tolist(),
                copy.copy(us).tolist(), copy.deepcopy(us).tolist(), ts.get_device(),
                us.get_device())
    assert_same(_quiet(run), torch)


def test_sizeof_counts_bytes():
    for L in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            t = L.zeros(100)
            assert sys.getsizeof(t.untyped_storage()) - 400 == \
                sys.getsizeof(torch.zeros(100).untyped_storage()) - 400


def test_module_and_bases():
    assert_same(lambda L: (L.storage.__all__, L.Storage.__name__, L.Storage is L.FloatStorage,
                    issubclass(L.UntypedStorage, L.StorageBase), L.TypedStorage.__name__,
                    L.UntypedStorage.__module__.split('.')[-1]), torch)
