"""torch.utils.collect_env: the environment report attached to bug reports
(`python -m torch.utils.collect_env`), answering for ember: its version, the torch API it
follows, Python, the OS, the CPU and the versions of the packages that matter."""
import collections
import locale
import os
import platform
import re
import subprocess
import sys
from importlib import metadata

from .._torch_api import TORCH_VERSION
from ..version import ember_version

__all__ = ['SystemEnv', 'get_env_info', 'get_pretty_env_info', 'main', 'run',
           'run_and_read_all', 'run_and_parse_first_match', 'get_os', 'get_python_platform',
           'get_libc_version', 'get_cpu_info', 'get_pip_packages', 'pretty_str']

SystemEnv = collections.namedtuple('SystemEnv', [
    'torch_version', 'is_debug_build', 'cuda_compiled_version', 'gcc_version', 'clang_version',
    'cmake_version', 'os', 'libc_version', 'python_version', 'python_platform',
    'is_cuda_available', 'cuda_runtime_version', 'nvidia_driver_version', 'nvidia_gpu_models',
    'cudnn_version', 'pip_version', 'pip_packages', 'conda_packages', 'hip_compiled_version',
    'hip_runtime_version', 'miopen_runtime_version', 'caching_allocator_config',
    'is_xnnpack_available', 'cpu_info'])

_RELEVANT = re.compile(r'^(ember|torch|numpy|ml[-_]dtypes|scipy|opt[-_]einsum|safetensors)$',
                       re.IGNORECASE)


def run(command):
    """(return code, stdout, stderr) of a shell command."""
    p = subprocess.run(command, shell=isinstance(command, str), capture_output=True)
    enc = 'oem' if sys.platform == 'win32' else locale.getpreferredencoding()
    return p.returncode, p.stdout.decode(enc).strip(), p.stderr.decode(enc).strip()


def run_and_read_all(run_lambda, command):
    rc, out, _ = run_lambda(command)
    return out if rc == 0 else None


def run_and_parse_first_match(run_lambda, command, regex):
    rc, out, _ = run_lambda(command)
    if rc != 0:
        return None
    match = re.search(regex, out)
    return match.group(1) if match else None


def get_os(run_lambda=run):
    if sys.platform.startswith('linux'):
        desc = None
        if os.path.exists('/etc/os-release'):
            with open('/etc/os-release') as f:
                found = re.search(r'^PRETTY_NAME="?([^"\n]*)', f.read(), re.MULTILINE)
            desc = found.group(1) if found else None
        return f'{desc or platform.platform()} ({platform.machine()})'
    if sys.platform == 'darwin':
        return f'macOS {platform.mac_ver()[0]} ({platform.machine()})'
    return f'{platform.system()} {platform.release()} ({platform.machine()})'


def get_python_platform():
    return platform.platform()


def get_libc_version():
    if not sys.platform.startswith('linux'):
        return 'N/A'
    return '-'.join(platform.libc_ver())


def get_cpu_info(run_lambda=run):
    if sys.platform.startswith('linux'):
        return run_and_read_all(run_lambda, 'lscpu') or 'Could not collect'
    return platform.processor() or 'Could not collect'


def get_pip_packages(run_lambda=run, patterns=None):
    """('pip3', the relevant installed packages as `name==version` lines)."""
    lines = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions()
                   if d.metadata['Name'] and _RELEVANT.match(d.metadata['Name']))
    return 'pip3', '\n'.join(lines)


def _version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def get_env_info():
    """The environment as a SystemEnv."""
    pip_version, pip_list = get_pip_packages()
    return SystemEnv(
        torch_version=f'ember {ember_version} (the torch {TORCH_VERSION} API, on NumPy '
                      f'{_version("numpy")})',
        is_debug_build='False', cuda_compiled_version=None, gcc_version=run_and_parse_first_match(
            run, 'gcc --version', r'gcc (.*)'),
        clang_version=run_and_parse_first_match(run, 'clang --version', r'clang version (.*)'),
        cmake_version=run_and_parse_first_match(run, 'cmake --version', r'cmake (.*)'),
        os=get_os(),
        libc_version=get_libc_version(),
        python_version=f'{sys.version.replace(chr(10), " ")} '
                       f'({sys.maxsize.bit_length() + 1}-bit runtime)',
        python_platform=get_python_platform(), is_cuda_available='False',
        cuda_runtime_version=None, nvidia_driver_version=None, nvidia_gpu_models=None,
        cudnn_version=None, pip_version=pip_version, pip_packages=pip_list, conda_packages='',
        hip_compiled_version='N/A', hip_runtime_version='N/A', miopen_runtime_version='N/A',
        caching_allocator_config='N/A', is_xnnpack_available='False',
        cpu_info=get_cpu_info())


_FORMAT = '''PyTorch version: {torch_version}
Is debug build: {is_debug_build}
CUDA used to build PyTorch: {cuda_compiled_version}
ROCM used to build PyTorch: {hip_compiled_version}

OS: {os}
GCC version: {gcc_version}
Clang version: {clang_version}
CMake version: {cmake_version}
Libc version: {libc_version}

Python version: {python_version}
Python platform: {python_platform}
Is CUDA available: {is_cuda_available}
CUDA runtime version: {cuda_runtime_version}
GPU models and configuration: {nvidia_gpu_models}
Nvidia driver version: {nvidia_driver_version}
cuDNN version: {cudnn_version}
HIP runtime version: {hip_runtime_version}
MIOpen runtime version: {miopen_runtime_version}
Is XNNPACK available: {is_xnnpack_available}
Caching allocator config: {caching_allocator_config}

CPU:
{cpu_info}

Versions of relevant libraries:
{pip_packages}
{conda_packages}'''


def pretty_str(envinfo):
    """The report of a SystemEnv, as torch prints it (absent values 'Could not collect')."""
    fields = envinfo._asdict()
    for key, value in fields.items():
        if value is None:
            fields[key] = 'Could not collect'
    if fields['pip_packages']:
        fields['pip_packages'] = '\n'.join(f'[{envinfo.pip_version}] {line}'
                                           for line in envinfo.pip_packages.splitlines())
    else:
        fields['pip_packages'] = 'No relevant packages'
    return _FORMAT.format(**fields).rstrip() + '\n'


def get_pretty_env_info():
    """The environment report as a string."""
    return pretty_str(get_env_info())


def main():
    print('Collecting environment information...')
    print(get_pretty_env_info())


if __name__ == '__main__':
    main()
