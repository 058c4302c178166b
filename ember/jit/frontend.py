"""torch.jit.frontend: TorchScript's Python-source front end. ember compiles nothing (scripted
code runs eagerly); what remains are its error types and the source helpers programs use."""
import inspect

__all__ = ['FrontendError', 'NotSupportedError', 'UnsupportedNodeError', 'FrontendTypeError',
           'get_default_args', 'get_default_args_for_class', 'is_reserved_name', 'get_jit_def']

_reserved_prefix = '__jit'
_reserved_names = {'print'}


def is_reserved_name(name):
    return name.startswith(_reserved_prefix) or name in _reserved_names


class FrontendError(Exception):
    def __init__(self, source_range, msg):
        self.source_range = source_range
        self.msg = msg

    def __str__(self):
        return self.msg + (f'\n{self.source_range}' if self.source_range is not None else '')


class NotSupportedError(FrontendError):
    pass


class UnsupportedNodeError(NotSupportedError):
    def __init__(self, ctx, offending_node, reason=''):
        what = type(offending_node).__name__
        super().__init__(None, f"{what} {reason + ' ' if reason else ''}aren't supported")


class FrontendTypeError(FrontendError):
    pass


def get_default_args(fn):
    """{parameter name: default} of fn's parameters that have one ({} for None)."""
    if fn is None:
        return {}
    return {k: v.default for k, v in inspect.signature(fn).parameters.items()
            if v.default is not inspect.Parameter.empty}


def get_default_args_for_class(cls):
    """{method name: its defaults} for the methods and functions of a class."""
    methods = inspect.getmembers(cls, predicate=lambda m: (inspect.ismethod(m)
                                                             or inspect.isfunction(m))
                                 and not is_static_fn(cls, m.__name__)
                                 and m.__name__ in cls.__dict__)
    return {name: get_default_args(fn) for name, fn in methods}


def is_static_fn(cls, fn):
    return isinstance(inspect.getattr_static(cls, fn), staticmethod)


def get_jit_def(fn, def_name, self_name=None, is_classmethod=False):
    """The TorchScript definition of fn: its source must be reachable, as for torch; building
    the TorchScript AST is not supported by ember."""
    inspect.getsource(fn)
    raise NotImplementedError('torch.jit.frontend.get_jit_def: ember does not build TorchScript '
                              '(scripted code runs eagerly)')
