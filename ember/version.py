"""ember.version (torch.version): a CPU-only build."""
from .torch_version import __version__  # noqa: F401  (torch.version.__version__)

__all__ = ['__version__', 'cuda', 'hip', 'rocm', 'xpu', 'debug', 'git_version']

cuda = None
hip = None
rocm = None
xpu = None
debug = False
git_version = 'unknown'

# ember's own release (the package's version; `ember --version`)
ember_version = '0.1.0'

from ._stubs import hook as _hook  # noqa: E402
_hook(__name__)
