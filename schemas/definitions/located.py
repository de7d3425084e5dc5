"""YAML loading that remembers where every key and value was written.

PyYAML's composer keeps a start mark on each node; walking the node tree ourselves
(instead of ``yaml.safe_load``) lets us keep those marks per path, refuse duplicate
keys (which ``safe_load`` silently collapses) and report every problem with its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from schemas.definitions.errors import DefinitionError, Issue

#: A location inside the document: mapping keys and list indices from the root.
Path = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
#: Aliases can make a small text expand enormously ("billion laughs"); cap the nodes.
_MAX_NODES = 200_000


def format_path(path: Path) -> str:
    """Render a path for people: ``('tasks', 't', 'on-success', 1)`` → ``tasks.t.on-success[1]``."""
    text = ""
    for part in path:
        text += _piece(part, first=not text)
    return text


def _piece(part: str | int, *, first: bool) -> str:
    """How ``format_path`` writes one part, ``first`` when nothing was written before."""
    if isinstance(part, int):
        return f"[{part}]"
    return part if first else f".{part}"


@dataclass
class Located:
    """A parsed YAML document plus the marks of its keys and values, by path."""

    filename: str
    data: Any
    key_marks: dict[Path, yaml.Mark] = field(default_factory=dict)
    value_marks: dict[Path, yaml.Mark] = field(default_factory=dict)
    #: Problems that did not stop the parse (duplicate keys, bad tags); the later
    #: duplicate is dropped so the rest of the document can still be checked.
    issues: list[Issue] = field(default_factory=list)

    def issue(self, path: Path, message: str, *, at_key: bool = False) -> Issue:
        """An issue at ``path``: its key's position if ``at_key``, else its value's.

        A path that was never written (a missing keyword, an injected default) is
        reported at its nearest written ancestor.
        """
        line, column = self._position(path, at_key=at_key)
        return Issue(self.filename, line, column, format_path(path), message)

    def place(self, issue: Issue) -> Issue:
        """``issue`` moved to where its path was written in this document.

        For problems found after loading (rule patterns, expression syntax), which
        know only the dotted path: a written scalar gets its value's position; a
        mapping or list, or a path deeper than what was written, gets the key that
        opens it (a block mapping's value starts only at its first key).
        """
        path, exact = self.resolve(issue.path)
        value = self.data
        for part in path:
            value = value[part]
        at_key = not exact or isinstance(value, dict | list)
        line, column = self._position(path, at_key=at_key)
        return replace(issue, line=line, column=column)

    def resolve(self, text: str) -> tuple[Path, bool]:
        """The written path that ``text`` (as ``format_path`` renders it) names, or its
        longest written prefix; and whether it names all of ``text``.

        Keys may themselves hold dots or brackets, so every key that fits is followed
        and the path that accounts for the most of ``text`` wins.
        """
        best: tuple[int, Path] = (0, ())
        pending: list[tuple[int, Path, Any]] = [(0, (), self.data)]
        while pending:
            used, path, value = pending.pop()
            best = max(best, (used, path), key=lambda found: found[0])
            parts: Any = ()
            if isinstance(value, dict):
                parts = value.items()
            elif isinstance(value, list):
                parts = enumerate(value)
            for part, child in parts:
                piece = _piece(part, first=not used)
                end = used + len(piece)
                if text.startswith(piece, used) and (end == len(text) or text[end] in ".["):
                    pending.append((end, (*path, part), child))
        return best[1], best[0] == len(text)

    def _position(self, path: Path, *, at_key: bool) -> tuple[int, int]:
        probe = path
        while probe:
            mark = self.key_marks.get(probe) if at_key else self.value_marks.get(probe)
            mark = mark or self.key_marks.get(probe)
            if mark is not None:
                return mark.line + 1, mark.column + 1
            probe = probe[:-1]
        root = self.value_marks.get(())
        return (root.line + 1, root.column + 1) if root else (1, 1)


class _TooLarge(Exception):
    """Raised inside the walk when the document expands past ``_MAX_NODES``."""


class _Builder:
    """Turns a composed node tree into plain Python data, recording marks and problems."""

    def __init__(self, loader: yaml.SafeLoader, located: Located) -> None:
        self.loader = loader
        self.located = located
        self.issues: list[Issue] = []
        self._active: set[int] = set()
        self._count = 0

    def build(self, node: Node, path: Path) -> Any:
        self._count += 1
        if self._count > _MAX_NODES:
            raise _TooLarge
        self.located.value_marks.setdefault(path, node.start_mark)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if node.tag not in _PLAIN_TAGS:
            self.issues.append(self.located.issue(path, f"unsupported YAML tag {node.tag!r}"))
            return None
        if id(node) in self._active:
            self.issues.append(self.located.issue(path, "an alias refers to itself"))
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            assert isinstance(node, MappingNode)
            return self._mapping(node, path)
        finally:
            self._active.discard(id(node))

    def _scalar(self, node: ScalarNode, path: Path) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            self.issues.append(self.located.issue(path, f"invalid YAML value: {problem}"))
            return None

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        own = {id(key) for key, _ in node.value if key.tag != _MERGE_TAG}
        try:
            self.loader.flatten_mapping(node)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            self.issues.append(self.located.issue(path, f"invalid merge key: {problem}"))
            return {}
        result: dict[str, Any] = {}
        written: set[str] = set()
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            if key is None:
                continue
            child = (*path, key)
            if id(key_node) in own:
                if key in written:
                    mark = key_node.start_mark
                    self.issues.append(
                        Issue(
                            self.located.filename,
                            mark.line + 1,
                            mark.column + 1,
                            format_path(child),
                            f"duplicate key {key!r}",
                        )
                    )
                    continue
                written.add(key)
                self.located.key_marks[child] = key_node.start_mark
            else:
                self.located.key_marks.setdefault(child, key_node.start_mark)
            self.located.value_marks.pop(child, None)
            result[key] = self.build(value_node, child)
        return result

    def _key(self, node: Node, path: Path) -> str | None:
        if not isinstance(node, ScalarNode):
            mark = node.start_mark
            self.issues.append(
                Issue(
                    self.located.filename,
                    mark.line + 1,
                    mark.column + 1,
                    format_path(path),
                    "a mapping key must be a plain scalar, not a list or mapping",
                )
            )
            return None
        # Keys are names: `yes:` or `1:` stay the text the author wrote.
        return str(node.value)


def load_located(text: str, filename: str) -> Located:
    """Parse one YAML document, keeping marks.

    Raises ``DefinitionError`` if the text is not YAML at all; lesser problems are left
    in ``Located.issues`` for the caller to report with its own.
    """
    located = Located(filename, None)
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character
        shown_char = f"U+{char:04X}" if isinstance(char, int) else repr(char)
        message = f"character {shown_char} is not allowed in YAML"
        raise DefinitionError([Issue(filename, line, column, "", message)]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return located
        builder = _Builder(loader, located)
        located.data = builder.build(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise DefinitionError([Issue(filename, line, column, "", problem)]) from None
    except yaml.YAMLError as exc:
        raise DefinitionError([Issue(filename, 1, 1, "", f"invalid YAML: {exc}")]) from None
    except _TooLarge:
        message = f"the document expands to more than {_MAX_NODES} YAML nodes"
        raise DefinitionError([Issue(filename, 1, 1, "", message)]) from None
    except RecursionError:
        raise DefinitionError(
            [Issue(filename, 1, 1, "", "the document nests too deeply")]
        ) from None
    finally:
        loader.dispose()
    located.issues = builder.issues
    return located
