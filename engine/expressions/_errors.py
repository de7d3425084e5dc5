"""The expression package's exception hierarchy."""

from __future__ import annotations

__all__ = [
    "ExpressionError",
    "ExpressionLimitError",
    "ExpressionSyntaxError",
]


class ExpressionError(Exception):
    """An expression could not be evaluated (or validated).

    The message follows Mistral's wording, ``Can not evaluate YAQL expression
    [expression=..., error=...]``, without Mistral's ``data=`` part: contexts can be large
    and hold secrets.

    Attributes:
        expression: the expression text as written (inner text for YAQL, the whole
            string for a Jinja2 template).
        cause: what went wrong, in words.
        language: ``"YAQL"`` or ``"Jinja"``.
    """

    def __init__(self, expression: str, cause: str, *, language: str = "YAQL") -> None:
        self.expression = expression
        self.cause = cause
        self.language = language
        super().__init__(self._message())

    def _message(self) -> str:
        return (
            f"Can not evaluate {self.language} expression "
            f"[expression={self.expression}, error={self.cause}]"
        )


class ExpressionSyntaxError(ExpressionError):
    """The expression does not parse: fix its grammar."""

    def _message(self) -> str:
        return (
            f"Syntax error in {self.language} expression "
            f"[expression={self.expression}, error={self.cause}]"
        )


class ExpressionLimitError(ExpressionError):
    """The expression ran past a configured limit (iterations, memory or time)."""
