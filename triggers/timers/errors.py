"""The timers package's one exception."""

from __future__ import annotations


class TimerError(ValueError):
    """A timer that cannot be scheduled, naming the field, the reason and the offending value."""

    def __init__(self, field: str, reason: str, got: object = None) -> None:
        message = f"{field}: {reason}" if got is None else f"{field}: {reason}, got {got!r}"
        super().__init__(message)
        self.field = field
        self.reason = reason
        self.got = got
