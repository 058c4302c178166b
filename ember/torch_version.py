"""ember.torch_version (torch.torch_version): the version string programs compare against.

``torch.__version__`` is a TorchVersion: a str that also compares as a version against strings,
tuples and ``packaging`` Version objects (``torch.__version__ >= (2, 0)``). ember reports the
version of torch whose behaviour it reproduces, so version gates in programs take the branch they
take on that torch; ember's own release is ``ember.version.ember_version``.
"""
import re

__all__ = ['TorchVersion']

# PEP 440, as far as version gates use it: release, pre, post, dev and local segments
# (compiled at the first comparison: compiling it took a millisecond of every `import ember`)
_PATTERN_TEXT = (
    r'^\s*v?(?P<release>\d+(?:\.\d+)*)'
    r'(?:[-_.]?(?P<pre>a|b|c|rc|alpha|beta|pre|preview)[-_.]?(?P<pre_n>\d*))?'
    r'(?:-(?P<post_n1>\d+)|[-_.]?(?:post|rev|r)[-_.]?(?P<post_n2>\d*))?'
    r'(?:[-_.]?dev[-_.]?(?P<dev_n>\d*))?'
    r'(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$')
_pattern = None
_PRE = {'a': 'a', 'alpha': 'a', 'b': 'b', 'beta': 'b', 'c': 'rc', 'rc': 'rc', 'pre': 'rc',
        'preview': 'rc'}
_LOW, _HIGH = (-1,), (1,)   # sort below / above every (0, ...) segment


def _key(text):
    """A sort key for a version string (PEP 440 order), or None when it is not one."""
    global _pattern
    if _pattern is None:
        _pattern = re.compile(_PATTERN_TEXT, re.IGNORECASE)
    m = _pattern.match(text)
    if m is None:
        return None
    release = [int(p) for p in m['release'].split('.')]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    post_n = m['post_n1'] if m['post_n1'] is not None else m['post_n2']
    has_post, has_dev = post_n is not None, m['dev_n'] is not None
    if m['pre']:
        pre = (0, _PRE[m['pre'].lower()], int(m['pre_n'] or 0))
    else:
        pre = _LOW if has_dev and not has_post else _HIGH   # 1.0.dev0 < 1.0a0 < 1.0
    post = (0, int(post_n or 0)) if has_post else _LOW
    dev = (0, int(m['dev_n'] or 0)) if has_dev else _HIGH
    local = _LOW if not m['local'] else (0, tuple(
        (1, int(p), '') if p.isdigit() else (0, 0, p.lower())
        for p in re.split(r'[-_.]', m['local'])))
    return tuple(release), pre, post, dev, local


def _other_key(other):
    if isinstance(other, str):
        return _key(other)
    if isinstance(other, (tuple, list)):
        return _key('.'.join(str(p) for p in other))
    if type(other).__name__ == 'Version':   # packaging.version.Version
        return _key(str(other))
    return None


class TorchVersion(str):
    """A str that compares as a version with strings, tuples and packaging Versions."""

    __slots__ = ()

    def _compare(self, other, op, str_op):
        mine, theirs = _key(self), _other_key(other)
        if mine is None or theirs is None:
            # not versions ('parrot', 5): plain str comparison, NotImplemented for non-strings
            return str_op(other)
        return {'<': mine < theirs, '<=': mine <= theirs, '>': mine > theirs,
                '>=': mine >= theirs, '==': mine == theirs}[op]

    def __lt__(self, other):
        return self._compare(other, '<', super().__lt__)

    def __le__(self, other):
        return self._compare(other, '<=', super().__le__)

    def __gt__(self, other):
        return self._compare(other, '>', super().__gt__)

    def __ge__(self, other):
        return self._compare(other, '>=', super().__ge__)

    def __eq__(self, other):
        return self._compare(other, '==', super().__eq__)

    # != stays str's, as in torch: '2.13.0+cpu' != '2.13.0' is a string comparison
    __hash__ = str.__hash__


# The torch release whose behaviour ember reproduces (a CPU-only build, as its wheel names it).
__version__ = TorchVersion('2.13.0+cpu')
