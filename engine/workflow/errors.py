"""The workflow state machine's errors: each becomes a task's or execution's state_info."""

from __future__ import annotations


class WorkflowError(ValueError):
    """A task cannot run as written (bad with-items lists, ad-hoc action input, …).

    The message says what was expected and what was found, as Mistral words it.
    """
