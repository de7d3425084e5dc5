"""Turning whatever an interpreter raised into the package's errors."""

from __future__ import annotations

from engine.expressions._errors import ExpressionError, ExpressionLimitError
from engine.expressions._functions import RuntimeFailure
from engine.expressions._limits import DeadlineExceeded

__all__ = ["describe", "translate"]

_ALWAYS_LIMITS: tuple[type[BaseException], ...] = (DeadlineExceeded, MemoryError, RecursionError)


def describe(error: BaseException) -> str:
    """The cause in words; Python's own exceptions get their type name, which says more."""
    text = str(error)
    if type(error).__module__ == "builtins":
        return f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text or type(error).__name__


def translate(
    error: Exception,
    *,
    expression: str,
    language: str,
    limit_errors: tuple[type[BaseException], ...] = (),
) -> Exception:
    """The exception to raise for ``error`` met while evaluating ``expression``.

    Exceptions from the runtime come back unchanged (see ``ExpressionRuntime``); limits
    become :class:`ExpressionLimitError`; anything else an :class:`ExpressionError`.
    """
    if isinstance(error, RuntimeFailure):
        return error.original
    if isinstance(error, ExpressionError):
        return error
    if isinstance(error, _ALWAYS_LIMITS + limit_errors):
        return ExpressionLimitError(expression, describe(error), language=language)
    return ExpressionError(expression, describe(error), language=language)
