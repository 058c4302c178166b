"""Anomaly detection: name the forward op whose backward produced NaN."""
from .graph import _Anomaly

__all__ = ['detect_anomaly', 'set_detect_anomaly', 'is_anomaly_enabled']


def is_anomaly_enabled():
    return _Anomaly.enabled


class detect_anomaly:
    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        self.prev = None

    def __enter__(self):
        self.prev = (_Anomaly.enabled, _Anomaly.check_nan)
        _Anomaly.enabled, _Anomaly.check_nan = True, self.check_nan

    def __exit__(self, *exc):
        _Anomaly.enabled, _Anomaly.check_nan = self.prev

    def __call__(self, fn):
        def wrapper(*a, **k):
            with detect_anomaly(self.check_nan):
                return fn(*a, **k)
        return wrapper


class set_detect_anomaly:
    def __init__(self, mode, check_nan=True):
        self.prev = (_Anomaly.enabled, _Anomaly.check_nan)
        _Anomaly.enabled, _Anomaly.check_nan = bool(mode), check_nan

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _Anomaly.enabled, _Anomaly.check_nan = self.prev
