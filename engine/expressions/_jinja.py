"""Jinja2 evaluation in a sandbox, compiled expressions and templates cached (LRU)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

import jinja2
from jinja2 import meta, nodes
from jinja2.parser import Parser
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from engine.expressions._errors import ExpressionSyntaxError
from engine.expressions._failures import describe, translate
from engine.expressions._functions import FUNCTION_NAMES, MistralFunctions
from engine.expressions._limits import QuotaExceeded, check_deadline
from engine.expressions._settings import UNLIMITED, ExpressionSettings

__all__ = ["JinjaBackend", "JinjaScope"]

LANGUAGE = "Jinja"
# Functions usable as filters too: they take the filtered value as their data.
_DATA_FILTERS = ("json_dump", "json_parse", "json_pp", "yaml_dump", "yaml_parse")
_POINTER_SIZE = 8


class _GuardedRange(Sequence[int]):
    """``range()`` for templates: bounded in length, checking the deadline as it yields."""

    __slots__ = ("_range",)

    def __init__(self, bounds: range) -> None:
        self._range = bounds

    def __iter__(self) -> Iterator[int]:
        for number in self._range:
            check_deadline()
            yield number

    def __len__(self) -> int:
        return len(self._range)

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...
    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        return self._range[index]

    def __contains__(self, item: object) -> bool:
        return item in self._range

    def __repr__(self) -> str:
        return repr(self._range)


class _Sandbox(SandboxedEnvironment):
    """Mistral's sandbox (strict undefined, trimmed blocks) with Squall's limits on top."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, settings: ExpressionSettings) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self._max_items = settings.limit_iterators
        self._quota = settings.memory_quota
        self.globals["range"] = self._range
        plain = MistralFunctions(None, None)
        for name in _DATA_FILTERS:
            self.filters[name] = plain.function(name)

    def _range(self, *args: int) -> _GuardedRange:
        bounds = range(*args)
        if self._max_items != UNLIMITED and len(bounds) > self._max_items:
            raise QuotaExceeded(
                f"range() of {len(bounds)} items is over the limit of {self._max_items}"
            )
        return _GuardedRange(bounds)

    def _estimated_size(self, operator: str, left: Any, right: Any) -> float:
        if operator == "*":
            if isinstance(left, int) and not isinstance(left, bool):
                left, right = right, left
            if isinstance(left, str | bytes | list | tuple) and isinstance(right, int):
                unit = 1 if isinstance(left, str | bytes) else _POINTER_SIZE
                return float(len(left) * unit * max(right, 0))
        elif isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
            return right * math.log2(abs(left)) / 8
        return 0.0

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """``*`` and ``**``, refused when the result would pass the memory quota."""
        check_deadline()
        if self._quota != UNLIMITED:
            size = self._estimated_size(operator, left, right)
            if size > self._quota:
                raise QuotaExceeded(
                    f"the result of {operator!r} would take about {int(size)} bytes, "
                    f"over the quota of {self._quota}"
                )
        return super().call_binop(context, operator, left, right)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Every call from a template, after a deadline check."""
        check_deadline()
        return super().call(context, obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Attribute access from a template, after a deadline check."""
        check_deadline()
        return super().getattr(obj, attribute)


def native(value: Any) -> Any:
    """A Jinja2 result as JSON-like data: undefined fails, other iterables become lists.

    Dicts and lists are copied only where something inside them changes, so a value taken
    straight from the context costs a walk, not a copy.
    """
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises its UndefinedError here.
        return None
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        changed_dict: dict[Any, Any] | None = None
        for key, item in value.items():
            new = native(item)
            if new is not item:
                changed_dict = changed_dict or dict(value)
                changed_dict[key] = new
        return value if changed_dict is None else changed_dict
    if isinstance(value, list):
        changed_list: list[Any] | None = None
        for index, item in enumerate(value):
            new = native(item)
            if new is not item:
                changed_list = changed_list or list(value)
                changed_list[index] = new
        return value if changed_list is None else changed_list
    if isinstance(value, Mapping):
        return {key: native(item) for key, item in value.items()}
    if isinstance(value, tuple | set | frozenset | range | _GuardedRange | Iterator):
        return [native(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A compiled expression or template and the top-level names it reads."""

    run: Callable[..., Any]
    names: frozenset[str]


class JinjaScope:
    """The names one evaluation offers: ``_`` (the data), Mistral's functions, and the
    data's top-level keys. Functions win over data keys, so Mistral workflows keep working.

    Only the names an expression reads are looked up, so a large context costs nothing.
    """

    __slots__ = ("_data", "_functions")

    def __init__(self, data: Any, functions: MistralFunctions) -> None:
        self._data = data
        self._functions = functions

    def variables(self, names: frozenset[str]) -> dict[str, Any]:
        """The values of ``names``; unknown names are left out (so they are undefined)."""
        found: dict[str, Any] = {}
        data = self._data if isinstance(self._data, Mapping) else {}
        for name in names:
            if name == "_":
                found[name] = self._data
            elif name in FUNCTION_NAMES:
                found[name] = self._functions.function(name)
            elif name in data:
                found[name] = data[name]
        return found


class JinjaBackend:
    """Compiles and evaluates Jinja2 expressions (``{{ }}``) and templates (``{% %}``)."""

    def __init__(self, settings: ExpressionSettings) -> None:
        self._env = _Sandbox(settings)
        self.compile_expression = functools.lru_cache(maxsize=settings.cache_size)(
            self._compile_expression
        )
        self.compile_template = functools.lru_cache(maxsize=settings.cache_size)(
            self._compile_template
        )

    def _compile_expression(self, source: str) -> _Compiled:
        try:
            parser = Parser(self._env, source, state="variable")
            tree = nodes.Template([nodes.Output([parser.parse_expression()])], lineno=1)
            tree.set_environment(self._env)
            names = meta.find_undeclared_variables(tree)
            run = self._env.compile_expression(source, undefined_to_none=False)
        except Exception as error:
            raise ExpressionSyntaxError(source, describe(error), language=LANGUAGE) from None
        return _Compiled(run, frozenset(names))

    def _compile_template(self, source: str) -> _Compiled:
        try:
            names = meta.find_undeclared_variables(self._env.parse(source))
            template = self._env.from_string(source)
        except Exception as error:
            raise ExpressionSyntaxError(source, describe(error), language=LANGUAGE) from None
        return _Compiled(template.render, frozenset(names))

    def evaluate_expression(self, text: str, inner: str, scope: JinjaScope) -> Any:
        """The native value of the single expression ``inner`` (``text`` is ``{{ inner }}``)."""
        try:
            compiled = self.compile_expression(inner)
            return native(compiled.run(**scope.variables(compiled.names)))
        except ExpressionSyntaxError as error:
            raise ExpressionSyntaxError(text, error.cause, language=LANGUAGE) from None
        except Exception as error:
            raise translate(
                error, expression=text, language=LANGUAGE, limit_errors=(QuotaExceeded,)
            ) from error

    def render(self, text: str, scope: JinjaScope) -> str:
        """``text`` rendered as a template."""
        try:
            compiled = self.compile_template(text)
            rendered: str = compiled.run(**scope.variables(compiled.names))
        except Exception as error:
            raise translate(
                error, expression=text, language=LANGUAGE, limit_errors=(QuotaExceeded,)
            ) from error
        return rendered

    def syntax_error(self, text: str) -> str | None:
        """Why the template ``text`` does not parse, or ``None`` when it does."""
        try:
            self.compile_template(text)
        except ExpressionSyntaxError as error:
            return error.cause
        return None
