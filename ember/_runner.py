"""``ember run``: run an unmodified PyTorch program on ember.

The program runs as Python would run it (``python script.py args`` / ``python -m pkg.mod
args``): its own ``sys.argv``, ``__name__ == '__main__'``, ``sys.path[0]``, exit code and
tracebacks, with the torch import hook (ember/_hook.py) installed first, so every ``torch`` and
``torch.*`` import is answered by ember. The file itself is not rewritten.
"""
import argparse
import importlib.machinery
import importlib.util
import os
import runpy
import sys
import traceback
import types
import zipfile

from . import _launch
from ._hook import install_as_torch

__all__ = ['main', 'build_parser', 'run_path', 'run_module']


def build_parser(prog='ember run'):
    """The argument parser of ``ember run`` (launcher options go before the program)."""
    p = argparse.ArgumentParser(
        prog=prog,
        description="Run an unmodified PyTorch program on ember: every `torch` and `torch.*` "
                    "import is answered by ember through an import hook.",
        usage='%(prog)s [options] (script.py | -m module) [args ...]')
    p.add_argument('-m', dest='module', metavar='module',
                   help='run library module as a script (as python -m)')
    g = p.add_argument_group('processes (torchrun\'s options; the processes are started through '
                             'MPI, the distributed extra)')
    g.add_argument('--nproc-per-node', '--nproc_per_node', dest='nproc_per_node', type=int,
                   metavar='N', help='start N processes of the program, with torchrun\'s '
                   'environment (RANK, WORLD_SIZE, LOCAL_RANK, ...)')
    g.add_argument('--nnodes', type=int, default=1, metavar='M',
                   help='number of machines (default 1); run `ember run` on each, with the '
                   'same options but --node-rank')
    g.add_argument('--node-rank', '--node_rank', dest='node_rank', type=int, default=0,
                   metavar='R', help="this machine's rank among the nodes")
    g.add_argument('--master-addr', '--master_addr', dest='master_addr', default='127.0.0.1',
                   metavar='A', help='node 0\'s address: MASTER_ADDR given to the program '
                   '(default 127.0.0.1)')
    g.add_argument('--master-port', '--master_port', dest='master_port', type=int,
                   default=29500, metavar='P', help='MASTER_PORT given to the program, and '
                   'where the nodes meet (default 29500)')
    # the program and its own arguments: everything from the first positional on is theirs
    p.add_argument('target', nargs='?', metavar='script.py', help='the program to run')
    p.add_argument('args', nargs=argparse.REMAINDER, help="the program's arguments")
    p.epilog = ('Several machines: `ember run --nnodes M --node-rank R --master-addr A ...` on '
                'each, as torchrun; or MPI starts the processes on all of them at once, e.g. '
                '`mpiexec -hosts a,b -ppn 2 ember run script.py`: under an MPI launcher '
                'every `ember run` gives its program torchrun\'s environment.')
    return p


# launcher options that take a value (the program starts at the first token after them)
_VALUED = {'--nproc-per-node', '--nproc_per_node', '--nnodes', '--node-rank', '--node_rank',
           '--master-addr', '--master_addr', '--master-port', '--master_port'}


def _parse(argv):
    # `ember run -m pkg.mod -x` must leave `-x` to the program, and so must `ember run
    # script.py --help`: split at the first program token before argparse sees the rest
    parser = build_parser()
    argv = list(argv)
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == '-m':
            if i + 1 >= len(argv):
                parser.error('argument -m: expected one argument')
            ns = parser.parse_args(argv[:i])
            if ns.target is not None:
                parser.error('give either a script or -m module, not both')
            ns.module, ns.args = argv[i + 1], argv[i + 2:]
            return parser, ns
        if a.startswith('-m') and len(a) > 2:
            ns = parser.parse_args(argv[:i])
            ns.module, ns.args = a[2:], argv[i + 1:]
            return parser, ns
        if a == '--':
            ns = parser.parse_args(argv[:i])
            rest = argv[i + 1:]
            if not rest:
                parser.error('no program given after --')
            ns.target, ns.args = rest[0], rest[1:]
            return parser, ns
        if not a.startswith('-') or a == '-':
            ns = parser.parse_args(argv[:i])
            ns.target, ns.args = a, argv[i + 1:]
            return parser, ns
        i += 2 if a in _VALUED else 1
    ns = parser.parse_args(argv)
    return parser, ns


# frames of the machinery that starts the program: hidden from the program's tracebacks
def _is_runner_frame(code):
    fn = code.co_filename
    if fn.startswith('<frozen '):
        return True
    here = os.path.dirname(os.path.abspath(__file__))
    base = os.path.basename(fn)
    if os.path.dirname(os.path.abspath(fn)) == here and base in (
            '_runner.py', '_cli.py', '__main__.py', '_hook.py'):
        return True
    return os.path.abspath(fn) == os.path.abspath(runpy.__file__)


def _user_traceback(tb):
    """`tb` without the runner's, the import hook's and importlib's frames."""
    kept = []
    while tb is not None:
        if not _is_runner_frame(tb.tb_frame.f_code):
            kept.append(tb)
        tb = tb.tb_next
    for a, b in zip(kept, kept[1:] + [None]):
        a.tb_next = b
    return kept[0] if kept else None


def _report(exc):
    """Print `exc` as the interpreter would for the program, without the runner's frames."""
    seen, e = set(), exc
    while e is not None and id(e) not in seen:   # the chained exceptions' tracebacks too
        seen.add(id(e))
        e.__traceback__ = _user_traceback(e.__traceback__)
        e = e.__cause__ if e.__cause__ is not None else e.__context__
    try:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    except Exception:
        traceback.print_exception(type(exc), exc, exc.__traceback__)


def _exit_code(e):
    """SystemExit -> the process exit code (the interpreter's rules)."""
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    # sys.exit('message'): the message goes to stderr, the status is 1
    try:
        print(code, file=sys.stderr)
    except Exception:
        pass
    return 1


def _set_path0(directory):
    """sys.path[0] as Python sets it for the program, unless -P/-I said not to have one."""
    if getattr(sys.flags, 'safe_path', False) or sys.flags.isolated:
        return
    if sys.path:
        sys.path[0] = directory
    else:
        sys.path.insert(0, directory)


def _fresh_main(**attrs):
    mod = types.ModuleType('__main__')
    mod.__dict__.update(attrs)
    mod.__builtins__ = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)
    # the program is now the main module (pickle of its classes, multiprocessing, ...)
    sys.modules['__main__'] = mod
    return mod


def _execute(code, mod):
    """Run `code` in module `mod`; the exit code as the interpreter would give it."""
    try:
        exec(code, mod.__dict__)
    except SystemExit as e:
        return _exit_code(e)
    except KeyboardInterrupt as e:
        _report(e)
        return 130
    except BaseException as e:  # noqa: B902 -- reported as the interpreter reports it
        _report(e)
        return 1
    return 0


def run_path(path, args):
    """Run the script at `path` as ``python path args...`` would."""
    abspath = os.path.abspath(path)
    if os.path.isdir(path) or (os.path.isfile(path) and not path.endswith('.py')
                               and _is_zip(path)):
        return _run_runpy_path(path, args)
    try:
        with open(abspath, 'rb') as f:
            source = f.read()
    except OSError as e:
        print(f"ember run: can't open file {abspath!r}: [Errno {e.errno}] {e.strerror}",
              file=sys.stderr)
        return 2
    sys.argv[:] = [path] + list(args)
    _set_path0(os.path.dirname(os.path.realpath(abspath)))
    loader = importlib.machinery.SourceFileLoader('__main__', abspath)
    mod = _fresh_main(__file__=abspath, __spec__=None, __package__=None, __loader__=loader,
                      __cached__=None, __doc__=None)
    try:
        code = compile(source, abspath, 'exec', dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        traceback.print_exception(type(e), e, None)
        return 1
    return _execute(code, mod)


def _is_zip(path):
    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def _run_runpy_path(path, args):
    """A directory or zip file with a __main__.py: runpy does what python does."""
    sys.argv[:] = [path] + list(args)
    try:
        runpy.run_path(path, run_name='__main__')
    except SystemExit as e:
        return _exit_code(e)
    except KeyboardInterrupt as e:
        _report(e)
        return 130
    except BaseException as e:  # noqa: B902
        _report(e)
        return 1
    return 0


def run_module(name, args):
    """Run module `name` as ``python -m name args...`` would."""
    _set_path0(os.getcwd())
    sys.argv[:] = ['-m'] + list(args)   # as python does while the module is being found
    try:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations is not None:
            # a package: run its __main__ (python -m pkg)
            if name == '__main__' or name.endswith('.__main__'):
                raise ImportError('Cannot use package as __main__ module')
            pkg, name = name, name + '.__main__'
            spec = importlib.util.find_spec(name)
            if spec is None:
                print(f"{sys.executable}: No module named {name}; '{pkg}' is a package and "
                      "cannot be directly executed", file=sys.stderr)
                return 1
        if spec is None:
            print(f"{sys.executable}: No module named {name}", file=sys.stderr)
            return 1
        code = spec.loader.get_code(name) if spec.loader is not None else None
    except ImportError as e:
        print(f"{sys.executable}: Error while finding module specification for {name!r} "
              f"({type(e).__name__}: {e})", file=sys.stderr)
        return 1
    except SyntaxError as e:
        traceback.print_exception(type(e), e, None)
        return 1
    if code is None:
        print(f"{sys.executable}: No code object available for {name}", file=sys.stderr)
        return 1
    fname = spec.origin
    sys.argv[0] = fname
    mod = _fresh_main(__file__=fname, __spec__=spec, __package__=name.rpartition('.')[0],
                      __loader__=spec.loader, __cached__=spec.cached, __doc__=None)
    return _execute(code, mod)


def main(argv=None):
    """``ember run``: returns the program's exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser, ns = _parse(argv)
    if ns.module is None and ns.target is None:
        parser.print_usage(sys.stderr)
        print('ember run: error: give a script or -m module to run', file=sys.stderr)
        return 2
    if ns.nproc_per_node is not None:
        return _launch.start(ns, argv, parser)
    _launch.set_torchrun_env()
    try:
        install_as_torch()
    except RuntimeError as e:
        print(f'ember run: {e}', file=sys.stderr)
        return 1
    if ns.module is not None:
        rc = run_module(ns.module, ns.args)
    else:
        rc = run_path(ns.target, ns.args)
    if rc:
        _launch.end_job_on_failure(rc)
    return rc
