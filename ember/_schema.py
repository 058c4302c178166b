"""Operator schemas as torch's dispatcher reads and prints them ("ns::name.overload(Tensor x,
int n=2) -> Tensor"): parsing, printing, and binding a call's arguments to them."""
import re

from ._dtype import dtype as _dtype_cls, _BY_NAME as _DTYPES
from ._tensor import Tensor, device as _device

__all__ = ['FunctionSchema', 'Argument', 'AliasInfo', 'parse_schema']

_BASE_TYPES = {'Tensor', 'int', 'SymInt', 'float', 'SymFloat', 'bool', 'SymBool', 'str',
               'Scalar', 'ScalarType', 'Device', 'Layout', 'MemoryFormat', 'Generator',
               'Dimname', 'Storage', 'Stream', 'Any', 'complex', 'QScheme', 't', 'AnyEnumType',
               'GraphModule'}

# c10::ScalarType numbers: a ScalarType default prints as its number, as torch's printer does
_SCALAR_TYPE = {'uint8': 0, 'int8': 1, 'int16': 2, 'int32': 3, 'int64': 4, 'float16': 5,
                'float32': 6, 'float64': 7, 'complex32': 8, 'complex64': 9, 'complex128': 10,
                'bool': 11, 'qint8': 12, 'quint8': 13, 'qint32': 14, 'bfloat16': 15,
                'quint4x2': 16, 'quint2x4': 17, 'uint16': 27, 'uint32': 28, 'uint64': 29}
_UNKNOWN_TYPE = (
    "\nunknown type specifier. Common valid schema types include Tensor, SymInt, int, float, "
    "bool, Scalar; for a full list, please see "
    "https://github.com/pytorch/pytorch/blob/main/aten/src/ATen/native/README.md#func :\n")
_TYPE_RE = re.compile(r'^([A-Za-z_]\w*)(\([^)]*\))?((?:\?|\[\d*\])*)$')


class AliasInfo:
    """An argument's alias annotation: `Tensor(a!)` writes set a, `Tensor(a)` only reads it."""

    def __init__(self, text):
        self._text = text  # 'a!', 'a', 'a -> *'
        body = text.split('->')[0].strip()
        self.is_write = body.endswith('!')
        self.before_set = {body.rstrip('!')}
        self.after_set = self.before_set

    def __str__(self):
        return f'({self._text})'


class _Type:
    """A schema type: base name, alias annotation, and its `?`/`[N]` suffixes in order."""

    def __init__(self, text, where):
        m = _TYPE_RE.match(text.strip())
        if m is None or m.group(1) not in _BASE_TYPES:
            raise RuntimeError(_UNKNOWN_TYPE + where)
        self.base = m.group(1)
        self.alias = AliasInfo(m.group(2)[1:-1]) if m.group(2) else None
        self.suffix = re.findall(r'\?|\[\d*\]', m.group(3))

    @property
    def optional(self):
        return bool(self.suffix) and self.suffix[-1] == '?'

    @property
    def is_list(self):
        s = [x for x in self.suffix if x != '?']
        return bool(s)

    def list_size(self):
        for x in self.suffix:
            if x.startswith('[') and len(x) > 2:
                return int(x[1:-1])
        return None

    def is_tensor_like(self):
        return self.base == 'Tensor'

    def __str__(self):
        return self.base + (str(self.alias) if self.alias else '') + ''.join(self.suffix)


class _JitType(str):
    """An argument's type as torch's schema objects print it ('Optional[Tensor]')."""
    __slots__ = ()


class Argument:
    """One argument (or named/unnamed return) of a schema."""

    def __init__(self, name, type_, default_text=None, kwarg_only=False):
        self.name = name
        self._type = type_
        self.type = _JitType(_type_name(type_))
        self.kwarg_only = kwarg_only
        self.alias_info = type_.alias
        self._default_text = default_text
        self.has_default_value = default_text is not None
        self.default_value = _parse_default(default_text, type_) if default_text is not None \
            else None

    def __str__(self):
        s = f'{self._type} {self.name}' if self.name else str(self._type)
        if self._default_text is not None:
            s += '=' + _print_default(self.default_value, self._type)
        return s


def _split_top(text):
    """Split at commas outside brackets and quotes."""
    out, depth, cur, quote = [], 0, '', None
    for ch in text:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
            continue
        if ch in '"\'':
            quote = ch
        elif ch in '([':
            depth += 1
        elif ch in ')]':
            depth -= 1
        elif ch == ',' and depth == 0:
            out.append(cur.strip())
            cur = ''
            continue
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def _parse_scalar(text, base):
    t = text.strip()
    if t == 'None':
        return None
    if t in ('True', 'False'):
        return t == 'True'
    if t[:1] in '"\'' and t[-1:] == t[:1]:
        return t[1:-1]
    if base == 'ScalarType' or t in _DTYPES:
        return _DTYPES.get(t, t)
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t  # contiguous_format, strided, Mean, ... kept by name


def _parse_default(text, type_):
    t = text.strip()
    if type_.is_list and t.startswith('['):
        inner = t[1:-1].strip()
        return [_parse_scalar(v, type_.base) for v in _split_top(inner)] if inner else []
    v = _parse_scalar(t, type_.base)
    n = type_.list_size()
    if type_.is_list and n is not None and isinstance(v, (int, float)):
        return [v] * n  # `int[2] stride=1` is [1, 1]
    return v


def _format_float(v):
    s = '%.17g' % v
    return s if any(c in s for c in '.ein') else s + '.'


def _print_scalar(v):
    if v is None or isinstance(v, bool):
        return str(v)
    if isinstance(v, _dtype_cls):
        return str(_SCALAR_TYPE.get(v.name, v.name))
    if isinstance(v, float):
        return _format_float(v)
    if isinstance(v, str) and v in ('contiguous_format', 'strided', 'preserve_format',
                                    'channels_last', 'Mean', 'Sum', 'None'):
        return v
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)


def _print_default(v, type_):
    if isinstance(v, list):
        if type_.list_size() is not None and len(set(map(repr, v))) == 1 and v:
            return _print_scalar(v[0])
        return '[' + ', '.join(_print_scalar(x) for x in v) + ']'
    return _print_scalar(v)


class FunctionSchema:
    """A parsed schema: name, overload_name, arguments, returns; str() prints it as torch."""

    def __init__(self, name, overload_name, arguments, returns, returns_text):
        self.name, self.overload_name = name, overload_name
        self.arguments, self.returns = arguments, returns
        self._returns_text = returns_text

    @property
    def is_mutable(self):
        return any(a.alias_info is not None and a.alias_info.is_write for a in self.arguments)

    def _is_view_op(self):
        return any(a.alias_info is not None and not a.alias_info.is_write
                   for a in self.arguments)

    def __str__(self):
        args, star = [], False
        for a in self.arguments:
            if a.kwarg_only and not star:
                args.append('*')
                star = True
            args.append(str(a))
        name = self.name + (f'.{self.overload_name}' if self.overload_name else '')
        return f"{name}({', '.join(args)}) -> {self._returns_text}"

    __repr__ = __str__


def _parse_returns(text, full):
    t = text.strip()
    if not t:
        raise RuntimeError(f"expected ident but found 'eof' here:\n{full}")
    if t.startswith('(') and t.endswith(')'):
        inner = t[1:-1].strip()
        items = _split_top(inner) if inner else []
        returns = []
        for it in items:
            parts = it.rsplit(None, 1)
            if len(parts) == 2 and not parts[1].endswith(')') and '(' not in parts[1] \
                    and _TYPE_RE.match(parts[0]):
                returns.append(Argument(parts[1], _Type(parts[0], full)))
            else:
                returns.append(Argument('', _Type(it, full)))
        printed = '(' + ', '.join(str(r) for r in returns) + ')'
        return returns, printed
    ret = Argument('', _Type(t, full))
    return [ret], str(ret)


def parse_schema(schema):
    """Parse "name.overload(args) -> returns" as torch._C.parse_schema does."""
    s = schema.strip()
    m = re.match(r'^([A-Za-z_][\w:]*(?:\.\w+)?)\s*\(', s)
    if m is None:
        bad = s[:1] or 'eof'
        raise RuntimeError(f"expected ident but found '{bad}' here:\n{schema}\n~ <--- HERE\n")
    full_name = m.group(1)
    depth, i = 0, m.end() - 1
    for j in range(i, len(s)):
        depth += s[j] == '('
        depth -= s[j] == ')'
        if depth == 0:
            break
    else:
        raise RuntimeError(f"expected ')' but found 'eof' here:\n{schema}")
    args_text, rest = s[i + 1:j], s[j + 1:].strip()
    if not rest.startswith('->'):
        raise RuntimeError(f"expected arrow but found 'eof' here:\n{schema}")
    name, _, overload = full_name.partition('.')
    arguments, kw, seen_default = [], False, False
    for a in _split_top(args_text):
        if a == '*':
            kw = True
            continue
        head, eq, default = a.partition('=') if _top_level_eq(a) else (a, '', None)
        parts = head.strip().rsplit(None, 1)
        if len(parts) != 2:
            raise RuntimeError(f"expected ident but found ')' here:\n{schema}")
        type_ = _Type(parts[0], schema)
        arg = Argument(parts[1], type_, default.strip() if eq else None, kw)
        if arg.has_default_value:
            seen_default = True
        elif seen_default and not kw:
            raise RuntimeError(
                "Non-default positional argument follows default argument. Parameter "
                f"{arg.name} in {schema}")
        arguments.append(arg)
    returns, printed = _parse_returns(rest[2:], schema)
    return FunctionSchema(name, overload, arguments, returns, printed)


def _top_level_eq(a):
    depth = 0
    for ch in a:
        if ch in '([':
            depth += 1
        elif ch in ')]':
            depth -= 1
        elif ch == '=' and depth == 0:
            return True
    return False


# ---- binding a call to a schema --------------------------------------------------------------

_PY_TYPE_OK = {
    'int': lambda v: isinstance(v, int) and not isinstance(v, bool),
    'SymInt': lambda v: isinstance(v, int) and not isinstance(v, bool),
    'float': lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    'SymFloat': lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    'bool': lambda v: isinstance(v, bool),
    'str': lambda v: isinstance(v, str),
    'Scalar': lambda v: isinstance(v, (int, float, complex, bool)),
    'ScalarType': lambda v: isinstance(v, _dtype_cls),
    'Device': lambda v: isinstance(v, (str, _device, int)),
    'Tensor': lambda v: isinstance(v, Tensor),
}


def _type_name(type_):
    """The type as torch's argument-cast messages name it."""
    base = {'SymInt': 'int', 'SymFloat': 'float', 'Scalar': 'number',
            'ScalarType': 'int', 'Layout': 'int', 'MemoryFormat': 'int'}.get(type_.base,
                                                                             type_.base)
    out = base
    for suf in type_.suffix:
        out = f'Optional[{out}]' if suf == '?' else f'List[{out}]'
    return out


def value_ok(type_, v):
    suffix = list(type_.suffix)
    return _ok(type_.base, suffix, v)


def _ok(base, suffix, v):
    if suffix:
        last = suffix[-1]
        if last == '?':
            return v is None or _ok(base, suffix[:-1], v)
        if isinstance(v, (list, tuple)):
            return all(_ok(base, suffix[:-1], x) for x in v)
        # an int list accepts one int (int[2] stride=1)
        return base in ('int', 'SymInt') and _ok(base, suffix[:-1], v) and last != '[]'
    check = _PY_TYPE_OK.get(base)
    return True if check is None else check(v)


def bind(schema, qualname, args, kwargs):
    """Match a call to the schema: {name: value} for every argument (defaults filled), or
    RuntimeError with torch's message."""
    decl = f'Declaration: {schema}'
    positional = [a for a in schema.arguments if not a.kwarg_only]
    if len(args) > len(positional):
        raise RuntimeError(
            f"{qualname}() expected at most {len(positional)} argument(s) but received "
            f"{len(args)} argument(s). {decl}")
    values = {}
    for i, (a, v) in enumerate(zip(positional, args)):
        _check(schema, qualname, a, v, i)
        values[a.name] = v
    names = {a.name for a in schema.arguments}
    for k, v in kwargs.items():
        if k not in names:
            raise RuntimeError(f"Unknown keyword argument '{k}' for operator '{qualname}'. "
                               f"Schema: {schema}")
        if k in values:
            raise RuntimeError(f"{qualname}() got multiple values for argument '{k}'. {decl}")
        a = next(a for a in schema.arguments if a.name == k)
        _check(schema, qualname, a, v, None)
        values[k] = v
    for a in schema.arguments:
        if a.name not in values:
            if not a.has_default_value:
                raise RuntimeError(f"{qualname}() is missing value for argument '{a.name}'. "
                                   f"{decl}")
            d = a.default_value
            values[a.name] = list(d) if isinstance(d, list) else d
    return values


def _check(schema, qualname, a, v, pos):
    if value_ok(a._type, v):
        return
    where = f"Position: {pos}\n" if pos is not None else ''
    raise RuntimeError(
        f"{qualname}() Expected a value of type '{_type_name(a._type)}' for argument "
        f"'{a.name}' but instead found type '{type(v).__name__}'.\n{where}Value: {v!r}\n"
        f"Declaration: {schema}\nCast error details: Unable to cast {v} to {a._type.base}")


def python_args(schema, values):
    """The (args, kwargs) a Python kernel receives: positional arguments up to the last one
    that differs from its default, keyword-only ones that differ from theirs (torch's
    boxed-to-Python conversion)."""
    positional = [a for a in schema.arguments if not a.kwarg_only]
    args = [values[a.name] for a in positional]
    while positional and positional[-1].has_default_value and \
            _is_default(args[-1], positional[-1]):
        positional.pop()
        args.pop()
    kwargs = {a.name: values[a.name] for a in schema.arguments
              if a.kwarg_only and not (a.has_default_value and
                                       _is_default(values[a.name], a))}
    return tuple(args), kwargs


def _is_default(v, a):
    d = a.default_value
    if isinstance(v, Tensor) or isinstance(d, Tensor):
        return v is d
    try:
        return bool(v == d) and type(v) is type(d) or (v is None and d is None)
    except Exception:
        return False
