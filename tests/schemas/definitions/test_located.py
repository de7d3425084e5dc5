"""Problems known only by their dotted path are placed where that path was written."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from schemas.definitions.errors import Issue
from schemas.definitions.located import Path, format_path, load_located

MARK = "zzmark"
#: Keys with dots and brackets make the dotted path hard to split; spaces force quoting.
KEYS = st.text(alphabet="ab.[]1 -", min_size=1, max_size=4)
LEAVES = st.one_of(st.integers(0, 9), st.sampled_from(["x", "yy", "on", ""]))
TREES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(KEYS, inner, min_size=1, max_size=3),
    ),
    max_leaves=12,
)


def _paths(value: Any, path: Path = ()) -> list[Path]:
    """Every path of ``value``, leaves last in each branch."""
    if isinstance(value, dict):
        return [path, *(p for k, v in value.items() for p in _paths(v, (*path, k)))]
    if isinstance(value, list):
        return [path, *(p for i, v in enumerate(value) for p in _paths(v, (*path, i)))]
    return [path]


def _leaf(value: Any, path: Path) -> bool:
    for part in path:
        value = value[part]
    return not isinstance(value, dict | list)


def _with_mark(value: Any, path: Path) -> Any:
    if not path:
        return MARK
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _with_mark(value[head], rest)}
    return [_with_mark(v, rest) if i == head else v for i, v in enumerate(value)]


@given(
    tree=st.dictionaries(KEYS, TREES, min_size=1, max_size=3),
    choice=st.integers(0, 1000),
    flow=st.booleans(),
    width=st.sampled_from([20, 80]),
)
def test_a_path_is_placed_on_the_scalar_it_names(
    tree: dict[str, Any], choice: int, flow: bool, width: int
) -> None:
    paths = _paths(tree)
    leaves = [p for p in paths if _leaf(tree, p)]
    target = leaves[choice % len(leaves)]
    # {"a.b": 1, "a": {"b": 2}} writes "a.b" twice: no text can tell which is meant.
    assume([format_path(p) for p in paths].count(format_path(target)) == 1)
    text = yaml.safe_dump(_with_mark(tree, target), default_flow_style=flow, width=width)
    located = load_located(text, "f.yaml")
    placed = located.place(Issue("f.yaml", 1, 1, format_path(target), "bad"))
    line = text.splitlines()[placed.line - 1]
    assert line[placed.column - 1 :].startswith(MARK), (text, placed)


def test_flow_and_block_documents_place_a_deep_problem_on_its_line() -> None:
    flow = "{version: '2.0',\n rules: {\n   r: {pattern: {type: x},\n       workflow: w}}}\n"
    block = "version: '2.0'\nrules:\n  r:\n    pattern:\n      type: x\n    workflow: w\n"
    issue = Issue("f.yaml", 1, 1, "rules.r.pattern.type", "expected an array")
    assert load_located(flow, "f.yaml").place(issue).line == 3
    placed = load_located(block, "f.yaml").place(issue)
    assert (placed.line, placed.column) == (5, 13)
    # A problem with the whole rule points at its name, not at its first keyword.
    whole = load_located(block, "f.yaml").place(Issue("f.yaml", 1, 1, "rules.r", "bad"))
    assert (whole.line, whole.column) == (3, 3)


def test_a_path_deeper_than_the_text_is_placed_at_its_last_written_key() -> None:
    text = "rules:\n  on.ping:\n    pattern: {}\n"
    located = load_located(text, "f.yaml")
    assert located.resolve("rules.on.ping.pattern.detail") == (
        ("rules", "on.ping", "pattern"),
        False,
    )
    placed = located.place(Issue("f.yaml", 1, 1, "rules.on.ping.pattern.detail", "bad"))
    assert (placed.line, placed.column) == (3, 5)
    assert located.resolve("workflows.w") == ((), False)
    assert located.resolve("rules.on.pingx") == (("rules",), False)
