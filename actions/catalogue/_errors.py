"""The catalogue's exception hierarchy: every error names what to fix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class CatalogueError(Exception):
    """Base of every error raised by the action catalogue."""


class UnknownAction(CatalogueError, LookupError):
    """No action of that name is registered."""

    def __init__(self, name: str, known: Sequence[str] = ()) -> None:
        self.name = name
        self.known = list(known)
        hint = f" Did you mean: {', '.join(self.known)}?" if self.known else ""
        super().__init__(f"Unknown action '{name}'.{hint}")


class DuplicateAction(CatalogueError):
    """An action of that name is already registered."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"An action named '{name}' is already registered")


class InvalidActionDefinition(CatalogueError):
    """An object offered as an action (e.g. by an entry point) is not a usable action."""


@dataclass(frozen=True, slots=True)
class InputIssue:
    """One problem with an action's input: where, what was expected, what was given."""

    path: str
    expected: str
    got: Any
    message: str

    def __str__(self) -> str:
        got = repr(self.got)
        if len(got) > 80:
            got = got[:77] + "..."
        return f"'{self.path}': {self.message} (expected {self.expected}, got {got})"


class InvalidActionInput(CatalogueError, ValueError):
    """The input given to an action does not match its signature."""

    def __init__(self, action: str, issues: Sequence[InputIssue]) -> None:
        self.action = action
        self.issues = list(issues)
        details = "; ".join(str(issue) for issue in self.issues)
        super().__init__(f"Invalid input for action '{action}': {details}")


class ActionFailed(CatalogueError):
    """Raised by an action to fail with a readable message and optional error data.

    ``data`` is Mistral's structured error result (what ``task().result`` shows on
    error, e.g. the HTTP response of a failed ``std.http``); ``message`` is the line
    a person reads.
    """

    def __init__(self, message: str, data: Any = None) -> None:
        self.message = message
        self.data = data
        super().__init__(message)


class RefusedAddress(ActionFailed):
    """A network action refused to connect to a forbidden address."""
