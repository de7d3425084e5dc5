"""A per-evaluation deadline, checked from the YAQL and Jinja2 interpreters' hooks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["DeadlineExceeded", "QuotaExceeded", "check_deadline", "deadline"]

# A context variable rather than an attribute of the evaluator: the Jinja2 environment and
# the YAQL root context are shared, and an evaluation may nest inside another (a runtime
# call that itself evaluates), each with its own deadline.
_deadline: ContextVar[float | None] = ContextVar("squall_expression_deadline", default=None)


class DeadlineExceeded(Exception):
    """The running expression is past its time limit."""


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Run the block with a deadline ``seconds`` from now (``None``: no deadline)."""
    token = _deadline.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def check_deadline() -> None:
    """Raise :class:`DeadlineExceeded` when the current evaluation has run out of time."""
    limit = _deadline.get()
    if limit is not None and time.monotonic() > limit:
        raise DeadlineExceeded("the expression ran past its time limit")


class QuotaExceeded(Exception):
    """A value would pass the configured size limits."""
