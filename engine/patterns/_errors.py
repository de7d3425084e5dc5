"""The one exception type of the pattern package."""

from __future__ import annotations


class PatternError(ValueError):
    """An event pattern that does not follow EventBridge's pattern syntax.

    Attributes:
        path: where in the pattern the problem is, e.g. ``data.labels.severity[1].numeric``
            (empty for the pattern as a whole).
        reason: what was expected there, and what was found.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path or '<pattern>'}: {reason}")
        self.path = path
        self.reason = reason
