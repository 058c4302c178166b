"""`ember compat`: how much of torch 2.13's public API ember implements, namespace by namespace.

Computed at run time from the committed list of torch's names (``_torch_api.py``) and ember's
own objects: a name counts as implemented when ember resolves it to something that is not a
stub (see ``_stubs.py``). torch is not needed.
"""
import argparse
import importlib
import sys

from .version import ember_version
from ._stubs import is_missing, kinds
from ._torch_api import API, TORCH_VERSION
from ._tensor import Tensor


def _ember_module(ns):
    if ns == 'torch.Tensor':
        return Tensor
    return importlib.import_module('ember' + ns[len('torch'):])


def status(ns):
    """[(name, kind, implemented)] for one torch namespace, sorted by name."""
    mod = _ember_module(ns)
    placeholder = not isinstance(mod, type) and is_missing(mod)
    out = []
    for name, kind in sorted(kinds(ns).items()):
        try:
            obj = getattr(mod, name)
        except Exception:  # the API-contract test forbids this; count it as missing here
            obj = None
        ok = obj is not None or kind == 'v'
        ok = ok and not placeholder and not is_missing(obj)
        out.append((name, kind[0], ok))
    return out


def _resolve_ns(arg):
    ns = arg if arg.startswith('torch') else 'torch.' + arg
    if ns not in API:
        raise SystemExit(f"ember compat: unknown namespace {arg!r}; one of: "
                         + ', '.join(n[len('torch.'):] or n for n in API))
    return ns


def main(argv=None):
    p = argparse.ArgumentParser(prog='ember compat',
                                description="ember's coverage of torch's public API")
    p.add_argument('--missing', metavar='NAMESPACE',
                   help="list the names of one namespace (e.g. 'fft', 'nn.functional', "
                        "'Tensor') that ember does not implement")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.missing:
        ns = _resolve_ns(args.missing)
        for name, kind, ok in status(ns):
            if not ok:
                print(f'{ns}.{name}')
        return 0
    print(f"ember {ember_version}: coverage of torch {TORCH_VERSION}'s public API")
    print(f"{'namespace':<34}{'implemented':>12}{'total':>7}{'%':>7}")
    done_all = total_all = 0
    for ns in API:
        st = status(ns)
        done = sum(ok for _, _, ok in st)
        done_all += done
        total_all += len(st)
        pct = 100.0 * done / len(st) if st else 100.0
        print(f"{ns:<34}{done:>12}{len(st):>7}{pct:>6.0f}%")
    print(f"{'all namespaces':<34}{done_all:>12}{total_all:>7}"
          f"{100.0 * done_all / total_all:>6.0f}%")
    print("Missing names raise NotImplementedError when used; "
          "list them with: ember compat --missing NAMESPACE")
    return 0


if __name__ == '__main__':
    sys.exit(main())
