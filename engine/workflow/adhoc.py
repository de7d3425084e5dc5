"""Ad-hoc actions: a workbook's ``actions:`` expanded to their base action in the engine.

An ad-hoc action fixes some input of a ``base`` action: its ``base-input`` is
evaluated with the ad-hoc action's own input as ``$``, and its ``output`` (when given)
is evaluated with the base action's result as ``$``. Bases may be ad-hoc actions too;
the executor only ever sees the innermost, real action.
"""

from __future__ import annotations

from typing import Any

from engine.expressions import evaluate
from engine.workflow.errors import WorkflowError
from schemas.definitions import AdHocAction

#: Longer chains than this are taken for a cycle.
MAX_DEPTH = 10


def _chain(name: str, actions: dict[str, AdHocAction]) -> list[AdHocAction]:
    chain: list[AdHocAction] = []
    while name in actions:
        if len(chain) >= MAX_DEPTH:
            raise WorkflowError(f"ad-hoc action '{name}' nests deeper than {MAX_DEPTH} levels")
        chain.append(actions[name])
        name = actions[name].base
    return chain


def expand(name: str, given: dict[str, Any], actions: dict[str, AdHocAction]) -> tuple[str, Any]:
    """The real action and its input for a call of ``name`` with ``given``."""
    current: Any = given
    for adhoc in _chain(name, actions):
        declared = {p.name for p in adhoc.input or []}
        unexpected = sorted(k for k in current if declared and k not in declared)
        missing = [p.name for p in adhoc.input or [] if not p.has_default and p.name not in current]
        if unexpected or missing:
            raise WorkflowError(
                f"Invalid input [action={adhoc.name}, missing={missing}, unexpected={unexpected}]"
            )
        context = {p.name: p.default for p in adhoc.input or [] if p.has_default} | current
        current = evaluate(adhoc.base_input or {}, context)
        name = adhoc.base
    return name, current


def shape_output(name: str | None, result: Any, actions: dict[str, AdHocAction]) -> Any:
    """The ad-hoc action's ``output`` applied to the base action's ``result``."""
    if name is None:
        return result
    for adhoc in reversed(_chain(name, actions)):
        if adhoc.output is not None:
            result = evaluate(adhoc.output, result)
    return result


def referenced(names: list[str], actions: dict[str, AdHocAction]) -> dict[str, AdHocAction]:
    """The ad-hoc actions ``names`` use, directly or through their bases."""
    found: dict[str, AdHocAction] = {}
    for name in names:
        for adhoc in _chain(name, actions):
            found[adhoc.name] = adhoc
    return found
