"""Whatever YAML arrives, the loaders answer with a DefinitionError or a model, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.definitions import DefinitionError, load_actions, load_definitions, load_workflows

KEYWORDS = [
    "version",
    "name",
    "workflows",
    "actions",
    "rules",
    "timers",
    "hooks",
    "tasks",
    "type",
    "input",
    "output",
    "action",
    "workflow",
    "on-success",
    "on-error",
    "on-complete",
    "join",
    "with-items",
    "retry",
    "count",
    "delay",
    "publish",
    "next",
    "requires",
    "task-defaults",
    "cron",
    "interval",
    "date",
    "timezone",
    "pattern",
    "policy",
    "base",
    "fail",
    "noop",
    "2.0",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**20),
    st.floats(allow_nan=True),
    st.sampled_from(KEYWORDS),
    st.text(max_size=12),
    st.just("<% $.x %>"),
    st.just("x in <% $.xs %>"),
)
keys = st.one_of(st.sampled_from(KEYWORDS), st.text(min_size=1, max_size=8))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=40,
)
LOADERS: list[Callable[[str, str], Any]] = [load_definitions, load_workflows, load_actions]


def check(text: str) -> None:
    for load in LOADERS:
        try:
            load(text, "fuzz.yaml")
        except DefinitionError as exc:
            assert exc.issues
            assert all(i.line >= 1 and i.column >= 1 and i.file == "fuzz.yaml" for i in exc.issues)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_documents_only_raise_definition_error(doc: Any) -> None:
    check(yaml.safe_dump(doc))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(keys, documents, max_size=4), st.dictionaries(keys, documents, max_size=4))
def test_random_workbooks_only_raise_definition_error(
    tasks: dict[str, Any], extra: dict[str, Any]
) -> None:
    doc = {"version": "2.0", "name": "wb", "workflows": {"wf": {"tasks": tasks, **extra}}}
    check(yaml.safe_dump(doc))
    check(yaml.safe_dump({"version": "2.0", "wf": {"tasks": tasks}}))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_random_text_only_raises_definition_error(text: str) -> None:
    check(text)
