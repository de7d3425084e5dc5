"""Finding expressions in values and evaluating them with Mistral's rules."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from engine.expressions._errors import ExpressionSyntaxError
from engine.expressions._functions import FUNCTION_NAMES, MistralFunctions
from engine.expressions._jinja import LANGUAGE as JINJA
from engine.expressions._jinja import JinjaBackend, JinjaScope
from engine.expressions._limits import deadline
from engine.expressions._runtime import ExpressionRuntime
from engine.expressions._settings import ExpressionSettings
from engine.expressions._yaql import LANGUAGE as YAQL
from engine.expressions._yaql import YaqlBackend

__all__ = ["ExpressionEvaluator"]

# Mistral's detection patterns, kept as they are (no DOTALL): which strings count as
# expressions decides whether a workflow behaves as it did on Mistral.
_YAQL = re.compile(r"<%.*?%>")
_YAQL_SPLIT = re.compile(r"(<%.*?%>)")
_JINJA_EXPRESSION = re.compile(r"{{(.*?)}}")
_JINJA_BLOCK = re.compile(r"{%(.*?)%}")

Kind = Literal["plain", "yaql", "yaql_template", "jinja", "jinja_template"]


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to evaluate one string, worked out once per distinct string."""

    kind: Kind
    # The expression inside the delimiters ("yaql", "jinja"), or for "yaql_template" the
    # string split into literal text (even indexes) and expressions (odd indexes).
    inner: str = ""
    pieces: tuple[str, ...] = ()


_PLAIN = _Plan("plain")


def _might_hold_expression(text: str) -> bool:
    return "{{" in text or "{%" in text or "<%" in text


def _yaql_inner(delimited: str) -> str:
    # Mistral strips delimiter characters, then whitespace.
    return delimited.strip("<%>").strip()


def _make_plan(text: str) -> _Plan:
    # Mistral tries its evaluators in name order, so Jinja2 comes before YAQL.
    first = _JINJA_EXPRESSION.search(text)
    if first is not None or _JINJA_BLOCK.search(text) is not None:
        if first is not None and first.group(0) == text:
            return _Plan("jinja", inner=first.group(1))
        return _Plan("jinja_template")
    found = _YAQL.findall(text)
    if not found:
        return _PLAIN
    if found[0] == text:
        return _Plan("yaql", inner=_yaql_inner(text))
    pieces = _YAQL_SPLIT.split(text)
    pieces[1::2] = [_yaql_inner(piece) for piece in pieces[1::2]]
    return _Plan("yaql_template", pieces=tuple(pieces))


class _Scope:
    """One ``evaluate`` call's data, prepared lazily for whichever language needs it."""

    __slots__ = ("_functions", "_jinja_scope", "_yaql_view", "data", "runtime")

    def __init__(self, data: Any, runtime: ExpressionRuntime | None) -> None:
        self.data = data
        self.runtime = runtime
        self._functions: MistralFunctions | None = None
        self._yaql_view: Any = None
        self._jinja_scope: JinjaScope | None = None

    @property
    def functions(self) -> MistralFunctions:
        if self._functions is None:
            self._functions = MistralFunctions(self.runtime, self.data)
        return self._functions

    def yaql_view(self, backend: YaqlBackend) -> Any:
        if self._yaql_view is None:
            self._yaql_view = backend.data_view(self.data)
        return self._yaql_view

    def jinja_scope(self) -> JinjaScope:
        if self._jinja_scope is None:
            self._jinja_scope = JinjaScope(self.data, self.functions)
        return self._jinja_scope


class ExpressionEvaluator:
    """Evaluates YAQL (``<% %>``) and Jinja2 (``{{ }}``, ``{% %}``) expressions like Mistral.

    Holds the parsed-expression caches; one instance serves any number of evaluations.
    Thread-compatible, not thread-safe: use one per thread.

    Args:
        settings: limits and YAQL options; the defaults suit most deployments.
    """

    def __init__(self, settings: ExpressionSettings | None = None) -> None:
        self.settings = settings or ExpressionSettings()
        self._yaql = YaqlBackend(self.settings, FUNCTION_NAMES)
        self._jinja = JinjaBackend(self.settings)
        self._plan = functools.lru_cache(maxsize=self.settings.cache_size)(_make_plan)

    def _plan_of(self, text: str) -> _Plan:
        return self._plan(text) if _might_hold_expression(text) else _PLAIN

    def evaluate(
        self,
        value: Any,
        context: Mapping[str, Any],
        runtime: ExpressionRuntime | None = None,
    ) -> Any:
        """``value`` with every expression in it evaluated against ``context``.

        A string that is exactly one expression becomes the expression's value (list, dict,
        number...); a string mixing text and expressions becomes a string. Dict values and
        list items are evaluated recursively (dict keys are not, as in Mistral); dicts and
        lists come back as new containers, anything else as it is. Values taken from the
        context may be shared with it, not copied: treat the result as read-only.

        Raises:
            ExpressionError: an expression failed; its message quotes the expression.
            Exception: whatever ``runtime`` raised, unchanged.
        """
        return self._walk(value, _Scope(context, runtime))

    def _walk(self, value: Any, scope: _Scope) -> Any:
        if isinstance(value, str):
            plan = self._plan_of(value)
            return value if plan is _PLAIN else self._run(value, plan, scope)
        if isinstance(value, dict):
            return {key: self._walk(item, scope) for key, item in value.items()}
        if isinstance(value, list):
            return [self._walk(item, scope) for item in value]
        return value

    def _run(self, text: str, plan: _Plan, scope: _Scope) -> Any:
        with deadline(self.settings.timeout):
            if plan.kind == "yaql":
                return self._yaql.evaluate(plan.inner, scope.yaql_view(self._yaql), scope.functions)
            if plan.kind == "jinja":
                return self._jinja.evaluate_expression(text, plan.inner, scope.jinja_scope())
            if plan.kind == "jinja_template":
                return self._jinja.render(text, scope.jinja_scope())
        return self._interpolate(plan.pieces, scope)

    def _interpolate(self, pieces: tuple[str, ...], scope: _Scope) -> str:
        values: dict[str, str] = {}
        for expression in pieces[1::2]:
            if expression not in values:
                with deadline(self.settings.timeout):
                    value = self._yaql.evaluate(
                        expression, scope.yaql_view(self._yaql), scope.functions
                    )
                values[expression] = str(value)
        return "".join(values[piece] if index % 2 else piece for index, piece in enumerate(pieces))

    def has_expressions(self, value: Any) -> bool:
        """Whether ``value`` (a string, or dicts and lists of them) holds any expression."""
        if isinstance(value, str):
            return self._plan_of(value) is not _PLAIN
        if isinstance(value, dict):
            return any(self.has_expressions(item) for item in value.values())
        if isinstance(value, list):
            return any(self.has_expressions(item) for item in value)
        return False

    def validate_expressions(self, value: Any) -> list[str]:
        """Syntax errors of every expression in ``value``, each message quoting it.

        Nothing is evaluated. Like Mistral's validator, a string may not mix YAQL and Jinja2.
        """
        errors: list[str] = []
        self._validate(value, errors)
        return errors

    def _validate(self, value: Any, errors: list[str]) -> None:
        if isinstance(value, dict):
            for item in value.values():
                self._validate(item, errors)
        elif isinstance(value, list):
            for item in value:
                self._validate(item, errors)
        elif isinstance(value, str):
            plan = self._plan_of(value)
            if plan.kind.startswith("jinja"):
                self._validate_jinja(value, errors)
            elif plan is not _PLAIN:
                expressions = (plan.inner,) if plan.kind == "yaql" else plan.pieces[1::2]
                for expression in dict.fromkeys(expressions):
                    cause = self._yaql.syntax_error(expression)
                    if cause is not None:
                        errors.append(str(ExpressionSyntaxError(expression, cause, language=YAQL)))

    def _validate_jinja(self, text: str, errors: list[str]) -> None:
        if _YAQL.search(text):
            errors.append(
                f"Mixed expression types in [{text}]: the line already contains an expression "
                "of type 'jinja'. Mixing expression types in a single line is not allowed."
            )
            return
        cause = self._jinja.syntax_error(text)
        if cause is not None:
            errors.append(str(ExpressionSyntaxError(text, cause, language=JINJA)))

    def cache_info(self) -> dict[str, Any]:
        """Hit and miss counts of each cache: ``plans``, ``yaql``, ``jinja_expressions``,
        ``jinja_templates`` (``functools`` cache-info tuples)."""
        return {
            "plans": self._plan.cache_info(),
            "yaql": self._yaql.parse.cache_info(),
            "jinja_expressions": self._jinja.compile_expression.cache_info(),
            "jinja_templates": self._jinja.compile_template.cache_info(),
        }
