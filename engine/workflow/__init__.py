"""Workflow state machines: pure functions of an execution document and a command."""

from engine.workflow.base import Delay, Effects
from engine.workflow.control import allows
from engine.workflow.run import WorkflowRun
from engine.workflow.with_items import INLINE_RESULTS_MAX, item_result_id

__all__ = ["INLINE_RESULTS_MAX", "Delay", "Effects", "WorkflowRun", "allows", "item_result_id"]
