"""TRANSITIONAL: the old string-keyed table of gradient formulas, now empty.

Every op declares its gradient beside its forward (``@derivative`` in ``ember/_ops/<family>.py``;
the catalogue is docs/derivatives.md). ``_record('name', ...)`` still looks a string up here
(``graph._node_class``) until that path is removed.
"""

DERIVATIVES = {}
