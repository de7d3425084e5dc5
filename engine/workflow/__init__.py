"""Workflow state machines: pure functions of an execution document and a command."""

from engine.workflow.run import Effects, WorkflowRun

__all__ = ["Effects", "WorkflowRun"]
