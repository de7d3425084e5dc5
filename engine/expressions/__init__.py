"""YAQL (``<% %>``) and Jinja2 (``{{ }}``) expressions with OpenStack Mistral's semantics.

A string that is exactly one expression evaluates to the expression's value; a string
mixing text and expressions is interpolated. YAQL sees the data context as ``$``; Jinja2 as
``_`` and as top-level names. Mistral's functions (``task()``, ``tasks()``,
``execution()``, ``executions()``, ``env()``, ``global()``, ``uuid()``, ``json_parse()``,
``json_dump()``, ``json_pp()``, ``yaml_parse()``, ``yaml_dump()``) are there in both; those
needing workflow state call the :class:`ExpressionRuntime` the engine passes in.

The module-level functions use a shared :class:`ExpressionEvaluator` built from
:func:`configure`'s settings (defaults until it is called).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.expressions._errors import (
    ExpressionError,
    ExpressionLimitError,
    ExpressionSyntaxError,
)
from engine.expressions._evaluator import ExpressionEvaluator
from engine.expressions._functions import FUNCTION_NAMES
from engine.expressions._runtime import ExpressionRuntime
from engine.expressions._settings import ExpressionSettings

__all__ = [
    "FUNCTION_NAMES",
    "ExpressionError",
    "ExpressionEvaluator",
    "ExpressionLimitError",
    "ExpressionRuntime",
    "ExpressionSettings",
    "ExpressionSyntaxError",
    "configure",
    "default_evaluator",
    "evaluate",
    "has_expressions",
    "validate_expressions",
]

_default: ExpressionEvaluator | None = None


def configure(settings: ExpressionSettings) -> ExpressionEvaluator:
    """Replace the shared evaluator with one using ``settings`` (its caches start empty)."""
    global _default
    _default = ExpressionEvaluator(settings)
    return _default


def default_evaluator() -> ExpressionEvaluator:
    """The shared evaluator the module-level functions use, built on first use."""
    global _default
    if _default is None:
        _default = ExpressionEvaluator()
    return _default


def evaluate(
    value: Any,
    context: Mapping[str, Any],
    runtime: ExpressionRuntime | None = None,
) -> Any:
    """Every expression in ``value`` (a string, or dicts and lists) evaluated against
    ``context``; see :meth:`ExpressionEvaluator.evaluate`."""
    return default_evaluator().evaluate(value, context, runtime)


def has_expressions(value: Any) -> bool:
    """Whether ``value`` holds any YAQL or Jinja2 expression (nothing is parsed)."""
    return default_evaluator().has_expressions(value)


def validate_expressions(value: Any) -> list[str]:
    """Syntax errors of the expressions in ``value``, each quoting its expression."""
    return default_evaluator().validate_expressions(value)
