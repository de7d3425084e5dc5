"""`squall validate`: offline checks with the line and column of every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from squall.cli import main

VALID = """\
version: '2.0'
name: ops
workflows:
  w:
    tasks:
      a:
        action: std.noop
rules:
  r:
    pattern: {type: [ping]}
    workflow: w
"""
#: A rule pattern's problem is found after loading: it must still get its line.
FLOW = """\
{version: '2.0', name: ops,
 workflows: {w: {tasks: {a: {action: std.noop}}}},
 rules: {
   r: {pattern: {type: x}, workflow: w}
 }}
"""
BLOCK = """\
version: '2.0'
name: ops
workflows:
  w:
    tasks:
      a:
        action: std.noop
rules:
  r:
    pattern:
      type: x
    workflow: w
    condition: <% $.a and %>
"""
UNKNOWN_KEYWORD = """\
{version: '2.0', name: ops,
 workflows: {w: {tasks: {a: {action: std.noop}}}},
 rules: {
   r: {pattern: {type: [x]}, workflow: w, bogus: 1}}}
"""


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_valid_file_is_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "ok.yaml", VALID)
    assert main(["validate", path]) == 0
    assert capsys.readouterr().out == f"{path}: OK\n"


def test_a_pattern_problem_in_a_flow_mapping_is_reported_on_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "flow.yaml", FLOW)
    assert main(["validate", path]) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{path}:4:24: rules.r.pattern.type: expected an array of matchers")


def test_block_style_problems_point_at_the_value_or_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "block.yaml", BLOCK)
    assert main(["validate", path]) == 1
    out = capsys.readouterr().out
    assert f"{path}:11:13: rules.r.pattern.type: expected an array" in out
    # Expression problems know only their rule: the rule's name is the place.
    assert f"{path}:9:3: rules.r: Syntax error in YAQL expression" in out


def test_every_file_is_checked_and_one_bad_file_fails_them_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(tmp_path, "good.yaml", VALID)
    bad = _write(tmp_path, "bad.yaml", UNKNOWN_KEYWORD)
    missing = str(tmp_path / "missing.yaml")
    assert main(["validate", good, bad, missing]) == 1
    captured = capsys.readouterr()
    assert f"{good}: OK" in captured.out
    assert f"{bad}:4:43: rules.r.bogus: unknown keyword 'bogus'" in captured.out
    assert captured.err == f"{missing}: cannot read: No such file or directory\n"
