"""ember.version (torch.version): a CPU-only build."""
__all__ = ['cuda', 'hip', 'rocm', 'xpu', 'debug', 'git_version']

cuda = None
hip = None
rocm = None
xpu = None
debug = False
git_version = 'unknown'

from ._stubs import hook as _hook  # noqa: E402
_hook(__name__)
