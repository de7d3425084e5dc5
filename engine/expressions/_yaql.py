"""YAQL evaluation: one engine and root context, parsed expressions cached (LRU)."""

from __future__ import annotations

# yaql.language.utils uses collections.abc without importing it.
import collections.abc
import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import yaql
from yaql.language import contexts, factory
from yaql.language import exceptions as yaql_exc
from yaql.language import utils as yaql_utils

from engine.expressions._errors import ExpressionSyntaxError
from engine.expressions._failures import describe, translate
from engine.expressions._functions import MistralFunctions, to_plain
from engine.expressions._limits import check_deadline
from engine.expressions._settings import ExpressionSettings

__all__ = ["YaqlBackend"]

LANGUAGE = "YAQL"
# A yaql variable name the lexer cannot produce (it has a space), so expressions cannot
# reach the Python object behind the functions.
_FUNCTIONS_KEY = "$ squall functions"
_LIMIT_ERRORS = (yaql_exc.CollectionTooLargeException, yaql_exc.MemoryQuotaExceededException)


class _LazyData(collections.abc.Mapping[Any, Any]):
    """The data context as YAQL wants it (frozen, hashable), converted key by key on use.

    Mistral converts the whole context for every expression; most expressions read one or
    two keys of a context that may hold every task's published data.
    """

    __slots__ = ("_converted", "_data", "_hash")

    def __init__(self, data: Mapping[Any, Any]) -> None:
        self._data = data
        self._converted: dict[Any, Any] = {}
        self._hash: int | None = None

    def __getitem__(self, key: Any) -> Any:
        try:
            return self._converted[key]
        except KeyError:
            value = yaql_utils.convert_input_data(self._data[key])
            self._converted[key] = value
            return value

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        # The same formula as yaql's FrozenDict, so equal mappings hash alike.
        if self._hash is None:
            self._hash = 0
            for pair in self.items():
                self._hash ^= hash(pair)
        return self._hash

    def __repr__(self) -> str:
        return repr(self._data)


class _GuardedContext(contexts.Context):  # type: ignore[misc]
    """A context that checks the deadline whenever a function is looked up.

    Every YAQL operation, ``$`` and ``.`` included, is a function call resolved through the
    context chain, so this catches runaway loops that iterator limits miss (nested
    ``select``, ``join``).
    """

    def get_functions(self, name: Any, predicate: Any = None, use_convention: bool = False) -> Any:
        check_deadline()
        return super().get_functions(name, predicate, use_convention)

    def create_child_context(self) -> contexts.Context:
        return _GuardedContext(self)


def _functions_of(context: Any) -> MistralFunctions:
    functions: MistralFunctions = context[_FUNCTIONS_KEY]
    return functions


def _adapter(name: str, convert_results: bool) -> Callable[..., Any]:
    """A YAQL function calling ``MistralFunctions.<name>`` with plain arguments."""
    method = getattr(MistralFunctions, "global_" if name == "global" else name)
    params = list(inspect.signature(method).parameters.values())[1:]

    def call(context: Any, *args: Any, **kwargs: Any) -> Any:
        plain_args = [to_plain(a) for a in args]
        plain_kwargs = {k: to_plain(v) for k, v in kwargs.items()}
        result = method(_functions_of(context), *plain_args, **plain_kwargs)
        return yaql_utils.convert_input_data(result) if convert_results else result

    # yaql reads parameter names and defaults from the signature: give it Mistral's.
    context_param = inspect.Parameter("context", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    call.__signature__ = inspect.Signature([context_param, *params])  # type: ignore[attr-defined]
    return call


class YaqlBackend:
    """Parses and evaluates YAQL expressions (the text inside ``<% %>``)."""

    def __init__(self, settings: ExpressionSettings, function_names: tuple[str, ...]) -> None:
        self._settings = settings
        self._engine = factory.YaqlFactory(
            keyword_operator=settings.keyword_operator,
            allow_delegates=settings.allow_delegates,
        ).create(options=settings.yaql_options())
        self._root = yaql.create_context(delegates=settings.allow_delegates)
        for name in function_names:
            self._root.register_function(_adapter(name, settings.convert_input_data), name=name)
        self.parse = functools.lru_cache(maxsize=settings.cache_size)(self._parse)

    def _parse(self, expression: str) -> Any:
        try:
            return self._engine(expression)
        except Exception as error:
            raise ExpressionSyntaxError(expression, describe(error), language=LANGUAGE) from None

    def data_view(self, data: Any) -> Any:
        """``data`` as ``$`` sees it: converted lazily when input conversion is on."""
        if not self._settings.convert_input_data:
            return data
        if isinstance(data, Mapping):
            return _LazyData(data)
        return yaql_utils.convert_input_data(data)

    def evaluate(self, expression: str, data_view: Any, functions: MistralFunctions) -> Any:
        """The value of ``expression`` with ``$`` bound to ``data_view`` (see ``data_view``)."""
        statement = self.parse(expression)
        context = _GuardedContext(self._root)
        context["$"] = data_view
        context[_FUNCTIONS_KEY] = functions
        try:
            result = statement.evaluate(context=context)
            if inspect.isgenerator(result):
                result = list(result)
        except Exception as error:
            raise translate(
                error, expression=expression, language=LANGUAGE, limit_errors=_LIMIT_ERRORS
            ) from error
        return result

    def syntax_error(self, expression: str) -> str | None:
        """Why ``expression`` does not parse, or ``None`` when it does."""
        try:
            self.parse(expression)
        except ExpressionSyntaxError as error:
            return error.cause
        return None
