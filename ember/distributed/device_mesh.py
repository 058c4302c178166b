"""torch.distributed.device_mesh: the job's ranks laid out as an n-dimensional array, with a
process group along each dimension (data parallel along one, model parallel along another).

On ember every device is the CPU of an MPI process; a mesh's groups are made with new_group,
one per slice along each dimension, by every process of the job in the same order.
"""
import numpy as np

from .._tensor import Tensor, _wrap
from . import distributed_c10d as c10d

__all__ = ['init_device_mesh', 'DeviceMesh']


def _stride(shape):
    """torch's printed layout: row-major strides, `()` for a dimension of size 1."""
    out, step = [], 1
    for n in reversed(shape):
        out.append(step if n > 1 else ())
        step *= n
    return tuple(reversed(out))


class DeviceMesh:
    """Ranks in an n-dimensional layout (`mesh`), with one process group per dimension for
    the slice that holds this process."""

    def __init__(self, device_type, mesh, *, mesh_dim_names=None, backend_override=None,
                 _init_backend=True):
        ranks = np.asarray(mesh._data if isinstance(mesh, Tensor) else mesh, dtype=np.int64)
        if mesh_dim_names is not None and len(mesh_dim_names) != ranks.ndim:
            raise ValueError(f'mesh_dim_names {tuple(mesh_dim_names)} must have the same '
                             f'length as the mesh dimensions ({ranks.ndim})')
        if not c10d.is_initialized():
            c10d.init_process_group()
        world = c10d.get_world_size()
        if ranks.size > world:
            raise RuntimeError(f'Mesh should not be bigger than default world size {world}, '
                               f'but found {ranks.size} ranks!')
        groups = [self._dim_group(ranks, d) for d in range(ranks.ndim)] if _init_backend \
            else [None] * ranks.ndim
        self._setup(device_type, ranks, mesh_dim_names, groups)

    def _setup(self, device_type, ranks, names, groups):
        self.device_type = device_type
        self._ranks = ranks
        self._mesh_dim_names = tuple(names) if names else None
        self._groups = groups
        where = np.argwhere(ranks == c10d.get_rank())
        self._coordinate = tuple(int(i) for i in where[0]) if len(where) else None

    @staticmethod
    def _dim_group(ranks, dim):
        """The group along `dim` holding this process: every slice along it becomes a group
        (new_group is collective: each process makes them all, in the same order)."""
        rows = np.moveaxis(ranks, dim, -1).reshape(-1, ranks.shape[dim])
        me, mine = c10d.get_rank(), None
        for row in rows:
            g = c10d.new_group(row.tolist())
            if me in row:
                mine = g
        return mine

    @classmethod
    def _made(cls, device_type, ranks, names, groups):
        mesh = object.__new__(cls)
        mesh._setup(device_type, ranks, names, groups)
        return mesh

    @staticmethod
    def from_group(group, device_type, mesh=None, *, mesh_dim_names=None):
        """A 1-D mesh over the ranks of `group` (which it reuses)."""
        if isinstance(group, (list, tuple)):
            if len(group) != 1:
                raise NotImplementedError('ember makes a DeviceMesh from one ProcessGroup only')
            group = group[0]
        ranks = np.asarray(c10d.get_process_group_ranks(group) if mesh is None else
                           (mesh._data if isinstance(mesh, Tensor) else mesh), dtype=np.int64)
        return DeviceMesh._made(device_type, ranks, mesh_dim_names, [c10d._resolve(group)])

    # -- what a mesh is ---------------------------------------------------------------------
    @property
    def mesh(self):
        return _wrap(self._ranks.astype(np.int32))

    @property
    def mesh_dim_names(self):
        return self._mesh_dim_names

    @property
    def ndim(self):
        return self._ranks.ndim

    @property
    def shape(self):
        return tuple(self._ranks.shape)

    def size(self, mesh_dim=None):
        return int(self._ranks.size) if mesh_dim is None else self._ranks.shape[mesh_dim]

    def get_rank(self):
        return c10d.get_rank()

    def get_coordinate(self):
        return self._coordinate

    def _dim(self, mesh_dim):
        if mesh_dim is None:
            if self.ndim > 1:
                raise RuntimeError(str((
                    f'Found the DeviceMesh have {self.ndim} dimensions',
                    'Optional kwarg `mesh_dim` needs to be specified when '
                    'device_mesh.ndim > 1.',
                    'If you want to get the list of all the ProcessGroups in the DeviceMesh,'
                    'please use `get_all_groups()` instead.')))
            return 0
        if isinstance(mesh_dim, str):
            if not self._mesh_dim_names:
                raise KeyError('No `mesh_dim_names` found.')
            if mesh_dim not in self._mesh_dim_names:
                raise KeyError(f"Mesh dimension '{mesh_dim}' does not exist.",
                               f'Available mesh dimensions are: '
                               f'mesh_dim_names={self._mesh_dim_names}')
            return self._mesh_dim_names.index(mesh_dim)
        return mesh_dim

    def get_group(self, mesh_dim=None):
        return self._groups[self._dim(mesh_dim)]

    def get_all_groups(self):
        return list(self._groups)

    def get_local_rank(self, mesh_dim=None):
        return self._coordinate[self._dim(mesh_dim)] if self._coordinate else None

    def __getitem__(self, mesh_dim_names):
        """The sub-mesh along the named dimensions that holds this process (no new groups)."""
        if not self._mesh_dim_names:
            raise RuntimeError('Cannot slice a DeviceMesh without mesh_dim_names!')
        names = (mesh_dim_names,) if isinstance(mesh_dim_names, str) else tuple(mesh_dim_names)
        if names == self._mesh_dim_names:
            return self
        if not all(n in self._mesh_dim_names for n in names):
            raise KeyError(f'Invalid mesh_dim_names {names} specified. Valid mesh_dim_names '
                           f'are {list(self._mesh_dim_names)}.')
        dims = [self._mesh_dim_names.index(n) for n in names]
        if dims != sorted(dims):
            raise KeyError(f'Invalid mesh_dim_names {names} specified. Mesh dim indices should '
                           f'be in ascending order.')
        index = tuple(slice(None) if d in dims else self._coordinate[d]
                      for d in range(self.ndim))
        return DeviceMesh._made(self.device_type, self._ranks[index], names,
                                [self._groups[d] for d in dims])

    def __repr__(self):
        shape = (f"({', '.join(f'{n}={s}' for n, s in zip(self._mesh_dim_names, self.shape))})"
                 if self._mesh_dim_names else repr(self.shape))
        return f"DeviceMesh({shape}, '{self.device_type}', stride={_stride(self.shape)!r})"

    def __eq__(self, other):
        return (isinstance(other, DeviceMesh) and self.shape == other.shape
                and bool((self._ranks == other._ranks).all())
                and self._mesh_dim_names == other._mesh_dim_names)

    def __hash__(self):
        return hash((self.shape, tuple(self._ranks.reshape(-1).tolist()),
                     self._mesh_dim_names))


def init_device_mesh(device_type, mesh_shape, *, mesh_dim_names=None, backend_override=None):
    """A mesh of ranks 0..prod(mesh_shape)-1 in row-major order, with its groups."""
    mesh_shape = tuple(mesh_shape)
    if mesh_dim_names is not None and len(mesh_dim_names) != len(mesh_shape):
        raise RuntimeError(f'mesh_shape and mesh_dim_names should have same length! Found '
                           f'len(mesh_dim_names): {len(mesh_dim_names)} and '
                           f'len(mesh_shape):{len(mesh_shape)}.')
    if device_type not in ('cpu',):
        raise RuntimeError(f"ember's DeviceMesh runs on the CPU (device_type='cpu'), not "
                           f'{device_type!r}')
    ranks = np.arange(int(np.prod(mesh_shape)), dtype=np.int64).reshape(mesh_shape)
    return DeviceMesh(device_type, ranks, mesh_dim_names=mesh_dim_names)
