"""Definitions: Mistral v2 workbooks, workflows and ad-hoc actions plus Squall hooks,
rules and timers, parsed from YAML and validated with the line of every problem.
"""

from schemas.definitions.actions import AdHocAction
from schemas.definitions.calls import parse_action_call
from schemas.definitions.errors import DefinitionError, Issue
from schemas.definitions.files import DefinitionsFile, Workbook
from schemas.definitions.hooks import Hook
from schemas.definitions.inputs import InputParam, input_defaults
from schemas.definitions.json_schema import definitions_json_schema
from schemas.definitions.loader import load_actions, load_definitions, load_workbook, load_workflows
from schemas.definitions.rules import Concurrency, Cooldown, Dedupe, RateLimit, Rule, RulePolicy
from schemas.definitions.tasks import RetryPolicy, Task, TaskDefaults, WithItem
from schemas.definitions.timers import Misfire, Timer, TimerEvent
from schemas.definitions.transitions import ENGINE_COMMANDS, OnClause, Transition
from schemas.definitions.values import is_expression
from schemas.definitions.workflows import Workflow

__all__ = [
    "ENGINE_COMMANDS",
    "AdHocAction",
    "Concurrency",
    "Cooldown",
    "Dedupe",
    "DefinitionError",
    "DefinitionsFile",
    "Hook",
    "InputParam",
    "Issue",
    "Misfire",
    "OnClause",
    "RateLimit",
    "RetryPolicy",
    "Rule",
    "RulePolicy",
    "Task",
    "TaskDefaults",
    "Timer",
    "TimerEvent",
    "Transition",
    "WithItem",
    "Workbook",
    "Workflow",
    "definitions_json_schema",
    "input_defaults",
    "is_expression",
    "load_actions",
    "load_definitions",
    "load_workbook",
    "load_workflows",
    "parse_action_call",
]
