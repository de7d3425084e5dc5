"""The one exception of the definitions language, carrying every problem found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem in a definitions file, located for the person fixing it.

    ``line`` and ``column`` are 1-based; ``path`` is the dotted location in the
    document (``workflows.wf1.tasks.create_vm.retry.count``, list items as ``[2]``).
    """

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {where}{self.message}"


class DefinitionError(ValueError):
    """A definitions document that is not valid; ``issues`` lists every problem found."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues: list[Issue] = sorted(issues, key=lambda i: (i.file, i.line, i.column, i.path))
        super().__init__(self._report())

    def _report(self) -> str:
        count = len(self.issues)
        head = f"{count} problem{'s' if count != 1 else ''} in the definitions:"
        return "\n".join([head, *(f"  {issue}" for issue in self.issues)])
