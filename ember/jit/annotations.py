"""torch.jit.annotations: reading the types of a function for TorchScript, from annotations or
`# type:` comments. ember keeps the Python-level helpers (it compiles nothing)."""
import inspect
import re
import textwrap
from typing import Any, Dict, List, Optional, Tuple, Union  # noqa: F401 (torch's names here)

from .._tensor import Tensor

__all__ = ['get_signature', 'get_type_line', 'split_type_line', 'get_param_names',
           'is_vararg', 'is_tensor', 'check_fn', 'try_real_annotations']

_TYPE_COMMENT = '# type:'


def is_vararg(the_callable):
    if not inspect.isfunction(the_callable) and not inspect.ismethod(the_callable):
        the_callable = getattr(the_callable, '__call__', the_callable)  # noqa: B004
    if inspect.isfunction(the_callable) or inspect.ismethod(the_callable):
        return inspect.getfullargspec(the_callable).varargs is not None
    return False


def get_param_names(fn, n_args):
    if isinstance(fn, type):
        fn = fn.__init__
    if inspect.isfunction(fn) or inspect.ismethod(fn):
        return inspect.getfullargspec(fn).args
    return [str(i) for i in range(n_args)]


def get_type_line(source):
    """The `# type: (...) -> ...` comment of a function's source (None if it has none)."""
    lines = source.split('\n')
    type_lines = [(n, line) for n, line in enumerate(lines) if _TYPE_COMMENT in line
                  and 'ignore' not in line.split(_TYPE_COMMENT, 1)[1]]
    if not type_lines:
        return None
    found = [line for _, line in type_lines if re.search(r'#\s*type:\s*\(', line)]
    if len(found) > 1:
        raise RuntimeError('Return type line \'# type: (...) -> ...\' not found on multiline '
                           'type annotation')
    if not found:
        return None
    return found[0].strip()


def split_type_line(type_line):
    """('(arg types)', 'return type') of a `# type:` line."""
    start = len(_TYPE_COMMENT)
    arrow = type_line.find('->')
    if arrow == -1:
        raise RuntimeError("Syntax error in type annotation (couldn't find `->`)")
    return type_line[start:arrow].strip(), type_line[arrow + 2:].strip()


def try_real_annotations(fn, loc):
    """(parameter annotations, return annotation) of fn, or None if it has none."""
    try:
        sig = inspect.signature(fn)
    except ValueError:
        return None
    all_annots = [sig.return_annotation] + [p.annotation for p in sig.parameters.values()]
    if all(ann is inspect.Parameter.empty for ann in all_annots):
        return None
    arg_types = [p.annotation for p in sig.parameters.values()]
    return arg_types, sig.return_annotation


def get_signature(fn, rcb, loc, is_method):
    """fn's (parameter types, return type) from its annotations or its `# type:` comment
    (None without either); the types are Python's own (ember has no TorchScript types)."""
    if isinstance(fn, type):
        fn = fn.__init__
    found = try_real_annotations(fn, loc)
    if found is not None and is_method:
        found = found[0][1:], found[1]
    if found is not None:
        return found
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None
    type_line = get_type_line(source)
    return None if type_line is None else split_type_line(type_line)


def check_fn(fn, loc):
    """fn's source must be one function definition."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return
    if not source.lstrip().startswith(('def ', 'async def ', '@')):
        raise RuntimeError('Expected a single top-level function')


def is_tensor(ann):
    return isinstance(ann, type) and issubclass(ann, Tensor)
