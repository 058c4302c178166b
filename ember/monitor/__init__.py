"""torch.monitor: counters aggregated over windows and logged as events to registered
handlers (torch's C++ monitor, in Python)."""
import datetime
import enum

__all__ = ['Aggregation', 'Stat', 'Event', 'EventHandlerHandle', 'data_value_t', 'log_event',
           'register_event_handler', 'unregister_event_handler', 'TensorboardEventHandler',
           'STAT_EVENT']

STAT_EVENT = 'torch.monitor.Stat'


class Aggregation(enum.IntEnum):
    """How a Stat summarises the values of a window."""
    VALUE = 0
    MEAN = 2
    COUNT = 3
    SUM = 4
    MAX = 5
    MIN = 6

    def __repr__(self):
        return f'<Aggregation.{self.name}: {self.value}>'


data_value_t = (str, float, int, bool)   # the value types an Event's data may hold


class Event:
    """A named, timestamped record of values handed to every registered handler."""

    def __init__(self, name, timestamp, data):
        self.name = name
        self.timestamp = timestamp
        # torch stores bools as doubles
        self.data = {k: float(v) if isinstance(v, bool) else v for k, v in data.items()}


class EventHandlerHandle:
    """What register_event_handler returns, to unregister the handler with."""

    def __init__(self, handler):
        self._handler = handler


_HANDLERS = []


def register_event_handler(callback):
    """Call `callback(event)` for every event logged from now on."""
    h = EventHandlerHandle(callback)
    _HANDLERS.append(h)
    return h


def unregister_event_handler(handler):
    if handler in _HANDLERS:
        _HANDLERS.remove(handler)


def log_event(event):
    """Hand `event` to every registered handler."""
    for h in list(_HANDLERS):
        h._handler(event)


class Stat:
    """Values added one by one, summarised per window (a duration, or max_samples values):
    when a window closes its aggregates are logged as a STAT_EVENT and get() returns them."""

    def __init__(self, name, aggregations, window_size, max_samples=2 ** 63 - 1):
        if not isinstance(window_size, datetime.timedelta):
            raise TypeError("__init__(): incompatible constructor arguments. The following "
                            "argument types are supported:\n    1. torch._C._monitor.Stat(name: "
                            "str, aggregations: collections.abc.Sequence[torch._C._monitor."
                            "Aggregation], window_size: datetime.timedelta, max_samples: "
                            "typing.SupportsInt | typing.SupportsIndex = 9223372036854775807)\n")
        self.name = name
        self._aggs = [Aggregation(a) for a in aggregations]
        self._window = window_size
        self._max = max_samples
        self._values = []
        self._start = datetime.datetime.now()
        self._last = {a: 0.0 for a in self._summarised()}

    def _summarised(self):
        return sorted({a for a in self._aggs if a is not Aggregation.VALUE}, reverse=True)

    @property
    def count(self):
        return len(self._values)

    def add(self, v):
        self._values.append(float(v))
        if len(self._values) >= self._max or \
                datetime.datetime.now() - self._start >= self._window:
            self._close()

    def _close(self):
        v = self._values
        n = len(v)
        got = {Aggregation.MEAN: sum(v) / n if n else 0.0, Aggregation.COUNT: float(n),
               Aggregation.SUM: float(sum(v)), Aggregation.MAX: max(v) if n else 0.0,
               Aggregation.MIN: min(v) if n else 0.0}
        self._last = {a: got[a] for a in self._summarised()}
        self._values = []
        self._start = datetime.datetime.now()
        log_event(Event(STAT_EVENT, datetime.datetime.now(),
                        {f'{self.name}.{a.name.lower()}': x for a, x in self._last.items()}))

    def get(self):
        """The aggregates of the last closed window (zeros before the first)."""
        return dict(self._last)


class TensorboardEventHandler:
    """An event handler writing each event's values as scalars to a SummaryWriter."""

    def __init__(self, writer):
        self._writer = writer

    def __call__(self, event):
        for k, v in event.data.items():
            self._writer.add_scalar(k, v, walltime=event.timestamp.timestamp())
