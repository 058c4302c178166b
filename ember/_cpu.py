"""What the CPU offers, where torch's own results depend on it (fbgemm's int8 products)."""
_FLAGS = []


def flags():
    """The CPU's feature flags (Linux /proc/cpuinfo; empty where it cannot be read)."""
    if not _FLAGS:
        found = frozenset()
        try:
            with open('/proc/cpuinfo') as f:
                for line in f:
                    if line.startswith('flags'):
                        found = frozenset(line.split(':', 1)[1].split())
                        break
        except OSError:
            pass
        _FLAGS.append(found)
    return _FLAGS[0]
