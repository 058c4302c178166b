"""The ``ember`` command: ``ember run``, ``ember compat``, ``ember demo``.

Subcommands are looked up in a table and imported only when used, so ``ember run`` starts no
faster or slower because of the others. Each is a ``main(argv) -> exit code`` function.
"""
import importlib
import sys

from .version import ember_version

__all__ = ['main', 'COMMANDS']

# name -> (module, function, one-line help). Add a subcommand by adding a row.
COMMANDS = {
    'run': ('ember._runner', 'main',
            'run an unmodified PyTorch program on ember (script.py or -m module)'),
    'compat': ('ember._compat', 'main',
               "print how much of torch's public API ember covers, per namespace"),
    'demo': ('ember._demo', 'main',
             'train a small network on real data and show what ember does'),
}


def _usage():
    width = max(len(n) for n in COMMANDS)
    lines = ['usage: ember <command> [args ...]', '',
             "ember: PyTorch's torch.nn programming model on NumPy.", '', 'commands:']
    lines += [f'  {name:<{width}}  {row[2]}' for name, row in COMMANDS.items()]
    lines += ['', "`ember <command> --help` describes a command's options.",
              'options:', '  -h, --help     show this help and exit',
              '  -V, --version  print the version and exit']
    return '\n'.join(lines)


def _load(name):
    modname, fn, _ = COMMANDS[name]
    try:
        mod = importlib.import_module(modname)
    except ModuleNotFoundError as e:
        if e.name is not None and (modname == e.name or modname.startswith(e.name + '.')):
            return None
        raise
    return getattr(mod, fn, None)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ('-h', '--help', 'help'):
        if len(argv) >= 2 and argv[0] == 'help' and argv[1] in COMMANDS:
            return main([argv[1], '--help'])
        print(_usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] in ('-V', '--version'):
        print(f'ember {ember_version}')
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(_usage(), file=sys.stderr)
        print(f"\nember: error: unknown command {name!r} (choose from "
              f"{', '.join(COMMANDS)})", file=sys.stderr)
        return 2
    fn = _load(name)
    if fn is None:
        print(f"ember: the '{name}' command is not available in this build of ember "
              f"({COMMANDS[name][0]} is missing)", file=sys.stderr)
        return 1
    rc = fn(rest)
    return 0 if rc is None else rc

