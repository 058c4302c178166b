"""torch.distributed's option records, BackendConfig and GroupName against torch 2.13 (no
process group needed)."""
import warnings

import pytest

import ember.distributed as edist

torch = pytest.importorskip('torch')
tdist = torch.distributed

OPTIONS = ['AllToAllOptions', 'AllreduceCoalescedOptions', 'AllreduceOptions', 'BarrierOptions',
           'BroadcastOptions', 'GatherOptions', 'ReduceOptions', 'ReduceScatterOptions',
           'ScatterOptions']


def _fields(o):
    return {a: getattr(o, a) for a in dir(o) if not a.startswith('_')}


@pytest.mark.parametrize('name', OPTIONS)
def test_option_records_have_torchs_fields_and_defaults(name):
    e, t = _fields(getattr(edist, name)()), _fields(getattr(tdist, name)())
    assert sorted(e) == sorted(t)
    for k in e:
        if k == 'reduceOp':
            assert type(e[k]).__name__ == type(t[k]).__name__ == 'ReduceOp'
            assert e[k] == edist.ReduceOp.SUM and t[k] == tdist.ReduceOp.SUM
        else:
            assert e[k] == t[k], k
    for lib in (edist, tdist):
        o = getattr(lib, name)()
        o.asyncOp = False
        assert o.asyncOp is False
        with pytest.raises(AttributeError):
            o.not_a_field = 1


@pytest.mark.parametrize('spec', ['gloo', 'mpi', 'nccl', 'GLOO', 'undefined', 'cpu:gloo',
                                  'cpu:gloo,cuda:nccl', 'custom'])
def test_backend_config_as_torch(spec):
    got = []
    for lib in (tdist, edist):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            c = lib.BackendConfig(spec)
        got.append((repr(c), {k: str(v) for k, v in c.get_device_backend_map().items()},
                    [str(x.message) for x in w]))
    assert got[0] == got[1]


@pytest.mark.parametrize('spec', ['cpu:gloo:x', 'cpu:gloo,cpu:mpi'])
def test_backend_config_errors_as_torch(spec):
    msgs = []
    for lib in (tdist, edist):
        with pytest.raises(ValueError) as e:
            lib.BackendConfig(spec)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_group_name_is_a_str_newtype():
    assert edist.GroupName('pg') == 'pg' and type(edist.GroupName('pg')) is str
    assert edist.GroupName.__name__ == tdist.GroupName.__name__
