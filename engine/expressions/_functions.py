"""Mistral's expression functions, shared by YAQL and Jinja2.

One :class:`MistralFunctions` is bound per evaluation to the runtime and the data context;
the YAQL and Jinja2 adapters only translate arguments to and from their own types.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import yaml

from engine.expressions._runtime import ExpressionRuntime

__all__ = [
    "FUNCTION_NAMES",
    "MissingRuntime",
    "MistralFunctions",
    "RuntimeFailure",
    "to_plain",
]

# The names Mistral registers (entry points ``mistral.expression.functions``).
FUNCTION_NAMES = (
    "env",
    "execution",
    "executions",
    "global",
    "json_dump",
    "json_parse",
    "json_pp",
    "task",
    "tasks",
    "uuid",
    "yaml_dump",
    "yaml_parse",
)

_T = TypeVar("_T")


class MissingRuntime(LookupError):
    """A function needing workflow state was called with no runtime given."""


class RuntimeFailure(Exception):
    """Carries an exception raised by the runtime, so evaluation re-raises it unchanged."""

    def __init__(self, original: Exception) -> None:
        super().__init__(str(original))
        self.original = original


def to_plain(value: Any) -> Any:
    """``value`` with mappings as dicts and other collections as lists (JSON-like).

    YAQL hands functions frozen dicts and tuples; dumps and the runtime want plain data.
    """
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {to_plain(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [to_plain(item) for item in value]
    return value


class MistralFunctions:
    """Mistral's functions, bound to one evaluation's runtime and data context."""

    __slots__ = ("_data", "_runtime")

    def __init__(self, runtime: ExpressionRuntime | None, data: Any) -> None:
        self._runtime = runtime
        self._data = data

    def _call(self, function: str, method: Callable[[ExpressionRuntime], _T]) -> _T:
        if self._runtime is None:
            raise MissingRuntime(
                f"function {function}() needs the workflow's state, "
                "and no expression runtime was given"
            )
        try:
            return method(self._runtime)
        except Exception as error:
            raise RuntimeFailure(error) from error

    def task(self, task_name: str | None = None) -> dict[str, Any] | None:
        """``task(name=None)``: a task dict; the current task without a name."""
        return self._call("task", lambda rt: rt.task(task_name or None))

    def tasks(
        self,
        workflow_execution_id: str | None = None,
        recursive: bool = False,
        state: str | None = None,
        flat: bool = False,
    ) -> list[dict[str, Any]]:
        """``tasks(workflow_execution_id, recursive, state, flat)``: task dicts."""
        return self._call(
            "tasks",
            lambda rt: rt.tasks(
                workflow_execution_id=workflow_execution_id,
                recursive=bool(recursive),
                state=state,
                flat=bool(flat),
            ),
        )

    def execution(self) -> dict[str, Any]:
        """``execution()``: the current workflow execution dict."""
        return self._call("execution", lambda rt: rt.execution())

    def executions(
        self,
        id: str | None = None,
        root_execution_id: str | None = None,
        state: str | None = None,
        from_time: str | None = None,
        to_time: str | None = None,
    ) -> list[dict[str, Any]]:
        """``executions(id, root_execution_id, state, from_time, to_time)``."""
        return self._call(
            "executions",
            lambda rt: rt.executions(
                id=id,
                root_execution_id=root_execution_id,
                state=state,
                from_time=from_time,
                to_time=to_time,
            ),
        )

    def env(self) -> dict[str, Any]:
        """``env()``: the execution's environment."""
        return self._call("env", lambda rt: rt.env())

    def global_(self, var_name: str) -> Any:
        """``global(name)``: a global variable of the execution."""
        return self._call("global", lambda rt: rt.global_var(var_name))

    def uuid(self) -> str:
        """``uuid()``: a new random UUID string."""
        return str(uuid.uuid4())

    def json_parse(self, data: str) -> Any:
        """``json_parse(text)``: the value a JSON text holds."""
        return json.loads(data)

    def json_dump(self, data: Any) -> str:
        """``json_dump(value)``: JSON text, indented by 4 as Mistral does."""
        return json.dumps(to_plain(data), indent=4)

    def json_pp(self, data: Any = None) -> str:
        """``json_pp(value=$)``: Mistral's deprecated pretty printer (the context by default)."""
        text = json.dumps(to_plain(data or self._data), indent=4)
        return text.replace("\\n", "\n").replace(" \n", "\n")

    def yaml_parse(self, data: str) -> Any:
        """``yaml_parse(text)``: the value a YAML text holds (safe loader)."""
        return yaml.safe_load(data)

    def yaml_dump(self, data: Any) -> str:
        """``yaml_dump(value)``: block-style YAML text (safe dumper)."""
        return yaml.safe_dump(to_plain(data), default_flow_style=False)

    def function(self, name: str) -> Callable[..., Any]:
        """The function expressions call ``name`` (one of ``FUNCTION_NAMES``)."""
        method: Callable[..., Any] = getattr(self, "global_" if name == "global" else name)
        return method
