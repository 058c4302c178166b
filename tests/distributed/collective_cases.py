"""Every collective of torch.distributed, run in each process of a 2-process job on either
library: `python collective_cases.py torch|ember OUT_DIR`. torch's processes read torchrun's
variables (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT); ember's are MPI's. Each rank writes
what every case gave (values, dtypes, errors) to OUT_DIR/rank<r>.pkl for the test to compare.

A case that raises must raise on both ranks (argument checks), so that no rank waits for a
partner that has left the collective.
"""
import os
import pickle
import sys
import warnings

LIB, OUT = sys.argv[1], sys.argv[2]
if LIB == 'torch':
    import torch
else:
    import ember as torch
dist = torch.distributed
dist.init_process_group('gloo')
rank, ws = dist.get_rank(), dist.get_world_size()
R = dist.ReduceOp
warnings.simplefilter('ignore')


def val(x):
    """A result as plain data: tensors as (dtype, shape, values as float64 or complex)."""
    if isinstance(x, torch.Tensor):
        y = x.detach()
        if y.dtype == torch.bfloat16 or y.dtype == torch.float16:
            y = y.float()
        return ('T', str(x.dtype), tuple(x.shape), y.numpy().tolist())
    if isinstance(x, (list, tuple)):
        return [val(v) for v in x]
    if isinstance(x, dict):
        return {k: val(v) for k, v in x.items()}
    return x


def ints(*shape, dtype=None, k=1):
    n = 1
    for s in shape:
        n *= s
    return (torch.arange(n) * k + 10 * rank + 1).reshape(*shape).to(dtype or torch.float32)


CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


DTYPES = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int8', 'uint8',
          'bool', 'complex64']
OPS = ['SUM', 'AVG', 'PRODUCT', 'MIN', 'MAX', 'BAND', 'BOR', 'BXOR']

for _dt in DTYPES:
    for _op in OPS:
        def _ar(dt=_dt, op=_op):
            d = getattr(torch, dt)
            if d == torch.bool:
                t = torch.tensor([True, False, rank == 0, rank == 1])
            elif d.is_complex:
                t = torch.complex(ints(4), ints(4, k=-1))
            else:
                t = ints(4, dtype=d) if d != torch.uint8 else (torch.arange(4) + 3 * rank + 1).to(d)
            dist.all_reduce(t, op=getattr(R, op))
            return t
        CASES[f'all_reduce_{_dt}_{_op}'] = _ar


@case
def all_reduce_noncontiguous():
    t = ints(2, 3).t()
    dist.all_reduce(t)
    return t, t.is_contiguous()


@case
def all_reduce_scalar_and_view():
    s = torch.tensor(2.5 + rank)
    base = ints(3, 4)
    v = base[:, 1]
    dist.all_reduce(s, op=R.MAX)
    dist.all_reduce(v)
    return s, base


@case
def all_reduce_async():
    t = ints(5)
    w = dist.all_reduce(t, async_op=True)
    done = w.wait()
    return done, w.is_completed(), w.is_success(), w.result(), t


@case
def all_reduce_reduceop_instance():
    t = ints(3)
    dist.all_reduce(t, op=R(R.MAX))
    return t


@case
def all_reduce_not_a_tensor():
    dist.all_reduce([1, 2])


@case
def all_reduce_complex_product():
    dist.all_reduce(torch.ones(2, dtype=torch.complex64), op=R.PRODUCT)


@case
def broadcast_each_src():
    out = []
    for src in range(ws):
        t = ints(2, 3, dtype=torch.float64)
        dist.broadcast(t, src=src)
        out.append(t)
    b = torch.tensor([rank == 0, True])
    dist.broadcast(b, 1)
    h = ints(3, dtype=torch.bfloat16)
    dist.broadcast(h, 0)
    nc = ints(3, 2).t()
    dist.broadcast(nc, 1)
    return out, b, h, nc


@case
def broadcast_bad_src():
    dist.broadcast(torch.ones(2), src=5)


@case
def reduce_to_each_dst():
    out = []
    for dst in range(ws):
        for op in (R.SUM, R.MAX, R.AVG):
            t = ints(3)
            dist.reduce(t, dst=dst, op=op)
            out.append(t if rank == dst else None)   # other ranks' buffers: unspecified
    return out


@case
def all_gather_list():
    out = [torch.zeros(2, 2) for _ in range(ws)]
    dist.all_gather(out, ints(2, 2))
    i = [torch.zeros(3, dtype=torch.int64) for _ in range(ws)]
    dist.all_gather(i, ints(3, dtype=torch.int64))
    nc = [torch.zeros(2, 3).t() for _ in range(ws)]
    dist.all_gather(nc, ints(3, 2))
    return out, i, nc


@case
def all_gather_coalesced_sync_and_async():
    outs = [[torch.zeros(2), torch.zeros(3, 1)] for _ in range(ws)]
    dist.all_gather_coalesced(outs, [ints(2), ints(3, 1, k=2)])
    outs2 = [[torch.zeros(4)] for _ in range(ws)]
    fut = dist.all_gather_coalesced(outs2, [ints(4, k=3)], async_op=True)
    fut.wait()
    return outs, outs2


@case
def all_gather_coalesced_not_a_list():
    dist.all_gather_coalesced((torch.zeros(2),), [ints(2)])


@case
def all_gather_wrong_length():
    dist.all_gather([torch.zeros(3)], torch.ones(3))


@case
def all_gather_wrong_dtype():
    dist.all_gather([torch.zeros(2), torch.zeros(2)], torch.ones(2, dtype=torch.float64))


@case
def all_gather_into_tensor_cat_and_stack():
    cat = torch.zeros(2 * ws, 3)
    dist.all_gather_into_tensor(cat, ints(2, 3))
    stack = torch.zeros(ws, 2, 3)
    dist.all_gather_into_tensor(stack, ints(2, 3))
    return cat, stack


@case
def all_gather_object():
    objs = [None] * ws
    dist.all_gather_object(objs, {'rank': rank, 'name': f'r{rank}', 'l': [rank] * (rank + 1)})
    return objs


@case
def broadcast_object_list():
    objs = [rank, 'x', {'k': rank}] if rank == 1 else [None, None, None]
    dist.broadcast_object_list(objs, src=1)
    return objs


@case
def gather_to_1():
    t = ints(3)
    lst = [torch.zeros(3) for _ in range(ws)] if rank == 1 else None
    dist.gather(t, lst, dst=1)
    return lst


@case
def scatter_from_0():
    t = torch.zeros(2, 2)
    lst = [torch.full((2, 2), float(i + 1)) for i in range(ws)] if rank == 0 else None
    dist.scatter(t, lst, src=0)
    return t


@case
def gather_object_to_0():
    out = [None] * ws if rank == 0 else None
    dist.gather_object(('o', rank), out, dst=0)
    return out


@case
def scatter_object_list():
    out = [None]
    dist.scatter_object_list(out, [{'to': i} for i in range(ws)] if rank == 0 else None, src=0)
    return out


@case
def reduce_scatter_tensor():
    out = torch.zeros(2)
    dist.reduce_scatter_tensor(out, ints(2 * ws))
    mx = torch.zeros(2, dtype=torch.int64)
    dist.reduce_scatter_tensor(mx, ints(2 * ws, dtype=torch.int64), op=R.MAX)
    return out, mx


@case
def reduce_scatter_list():
    out = torch.zeros(3)
    dist.reduce_scatter(out, [ints(3, k=i + 1) for i in range(ws)])
    return out


@case
def all_to_all_single_even():
    out = torch.zeros(2 * ws)
    dist.all_to_all_single(out, ints(2 * ws))
    return out


@case
def all_to_all_single_uneven():
    # rank r sends r+1 rows to rank 0 and 2 rows to rank 1
    send = [rank + 1, 2]
    recv = [r + 1 if rank == 0 else 2 for r in range(ws)]
    inp = ints(sum(send), 2)
    out = torch.zeros(sum(recv), 2)
    dist.all_to_all_single(out, inp, recv, send)
    return out


@case
def all_to_all_lists():
    inp = [ints(2, k=i + 1) for i in range(ws)]
    out = [torch.zeros(2) for _ in range(ws)]
    dist.all_to_all(out, inp)
    return out


@case
def send_recv():
    if rank == 0:
        dist.send(ints(4, dtype=torch.float64), dst=1)
        t = torch.zeros(3, dtype=torch.int32)
        who = dist.recv(t)
        return who, t
    t = torch.zeros(4, dtype=torch.float64)
    who = dist.recv(t, src=0)
    dist.send(ints(3, dtype=torch.int32), dst=0)
    return who, t


@case
def send_to_self():
    dist.send(torch.ones(1), dst=rank)


@case
def isend_irecv_and_batch():
    peer = 1 - rank
    got = torch.zeros(3)
    reqs = dist.batch_isend_irecv([dist.P2POp(dist.isend, ints(3), peer),
                                   dist.P2POp(dist.irecv, got, peer)])
    for r in reqs:
        r.wait()
    got2 = torch.zeros(2, 2)
    if rank == 0:
        w = dist.isend(ints(2, 2), dst=1, tag=7)
    else:
        w = dist.irecv(got2, src=0, tag=7)
    w.wait()
    return got, got2


@case
def groups():
    g = dist.new_group([1])
    everyone = dist.new_group()
    t = ints(2)
    res = dist.all_reduce(t, group=g)
    u = ints(2)
    dist.all_reduce(u, group=everyone)
    b = ints(2)
    if rank == 1:
        dist.broadcast(b, src=1, group=g)
    return (g == dist.GroupMember.NON_GROUP_MEMBER, dist.get_rank(g), dist.get_world_size(g),
            res, t, u, b, dist.get_process_group_ranks(everyone),
            dist.get_rank(everyone), dist.get_world_size(everyone))


@case
def subgroups():
    mine, every = dist.new_subgroups(1)
    t = ints(2)
    dist.all_reduce(t, group=mine)
    pair, _ = dist.new_subgroups_by_enumeration([[0, 1]])
    u = ints(2)
    dist.all_reduce(u, group=pair)
    return (len(every), dist.get_world_size(mine), dist.get_rank(mine), t, u,
            repr(dist.get_debug_level()))


@case
def barrier_and_queries():
    dist.barrier()
    w = dist.barrier(async_op=True)
    w.wait()
    return (dist.is_initialized(), dist.get_rank(), dist.get_world_size(),
            str(dist.get_backend()), dist.group.WORLD.rank(), dist.group.WORLD.size(),
            dist.get_global_rank(dist.group.WORLD, 1), dist.get_group_rank(dist.group.WORLD, 1))


@case
def init_twice():
    dist.init_process_group('gloo')


@case
def device_mesh_1d():
    m = torch.distributed.device_mesh.init_device_mesh('cpu', (2,), mesh_dim_names=('dp',))
    return (repr(m), m.mesh.tolist(), str(m.mesh.dtype), m.ndim, m.shape, m.size(), m.size(0),
            m.get_rank(), m.get_local_rank(), m.get_coordinate(), m.mesh_dim_names,
            m.device_type, dist.get_process_group_ranks(m.get_group()),
            dist.get_process_group_ranks(m.get_group('dp')), repr(m['dp']), m['dp'] is m)


@case
def device_mesh_2d():
    m = dist.init_device_mesh('cpu', (1, 2), mesh_dim_names=('dp', 'tp'))
    t = torch.ones(2) * (rank + 1)
    dist.all_reduce(t, group=m.get_group('tp'))
    u = torch.ones(1) * (rank + 1)
    dist.all_reduce(u, group=m.get_group(0))
    return (repr(m), m.mesh.tolist(), m.ndim, m.shape, m.size(), m.size(1),
            m.get_local_rank('tp'), m.get_local_rank(0), m.get_coordinate(),
            [dist.get_process_group_ranks(g) for g in m.get_all_groups()],
            repr(m['tp']), m['tp'].mesh.tolist(), repr(m['dp']), m['dp'].mesh.tolist(), t, u)


@case
def device_mesh_unnamed_and_from_group():
    m = dist.init_device_mesh('cpu', (2, 1))
    w = dist.DeviceMesh('cpu', [0, 1])
    g = dist.DeviceMesh.from_group(dist.group.WORLD, 'cpu')
    return (repr(m), m.mesh_dim_names, m.get_coordinate(), m.get_local_rank(0), repr(w),
            w.get_local_rank(), repr(g), dist.get_process_group_ranks(g.get_group()))


@case
def device_mesh_group_of_2d_needs_a_dim():
    dist.init_device_mesh('cpu', (1, 2), mesh_dim_names=('dp', 'tp')).get_group()


@case
def device_mesh_bad_name():
    dist.init_device_mesh('cpu', (1, 2), mesh_dim_names=('dp', 'tp'))['xx']


@case
def device_mesh_too_big():
    dist.init_device_mesh('cpu', (3,))


@case
def device_mesh_names_length():
    dist.init_device_mesh('cpu', (2,), mesh_dim_names=('a', 'b'))


@case
def device_mesh_slice_unnamed():
    dist.init_device_mesh('cpu', (2,))['x']


@case
def split_group_on_the_cpu():
    dist.split_group(split_ranks=[[0], [1]])


results = {}
for name, fn in CASES.items():
    try:
        results[name] = ('ok', val(fn()))
    except Exception as e:  # noqa: BLE001 -- the error is the result compared
        results[name] = ('err', type(e).__name__, str(e).split('\n')[0])
dist.destroy_process_group()
results['after_destroy'] = ('ok', dist.is_initialized())
with open(os.path.join(OUT, f'rank{rank}.pkl'), 'wb') as f:
    pickle.dump(results, f)
