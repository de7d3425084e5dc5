"""The action catalogue: standard actions with Mistral's names, inputs and results.

``ActionCatalogue.default()`` holds the std.* actions plus third-party actions
published under the ``squall.actions`` entry-point group; ``run`` validates the
input, enforces a timeout and turns every failure into an ``ActionOutcome``.
"""

from __future__ import annotations

from actions.catalogue._adhoc import adhoc_info
from actions.catalogue._catalogue import ENTRY_POINT_GROUP, ActionCatalogue, builtin_actions
from actions.catalogue._errors import (
    ActionFailed,
    CatalogueError,
    DuplicateAction,
    InputIssue,
    InvalidActionDefinition,
    InvalidActionInput,
    RefusedAddress,
    UnknownAction,
)
from actions.catalogue._model import (
    Action,
    ActionContext,
    ActionInfo,
    ActionInput,
    ActionOutcome,
    ActionSettings,
    NoInput,
    SecurityContext,
    input_signature,
)
from schemas.masking import MASK, is_secret_key, mask_secrets

__all__ = [
    "ENTRY_POINT_GROUP",
    "MASK",
    "Action",
    "ActionCatalogue",
    "ActionContext",
    "ActionFailed",
    "ActionInfo",
    "ActionInput",
    "ActionOutcome",
    "ActionSettings",
    "CatalogueError",
    "DuplicateAction",
    "InputIssue",
    "InvalidActionDefinition",
    "InvalidActionInput",
    "NoInput",
    "RefusedAddress",
    "SecurityContext",
    "UnknownAction",
    "adhoc_info",
    "builtin_actions",
    "input_signature",
    "is_secret_key",
    "mask_secrets",
]
