"""``python -m ember ...``: the same as the ``ember`` command."""
import sys

if __name__ == '__main__':
    from ember._cli import main
    sys.exit(main())
