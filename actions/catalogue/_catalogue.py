"""The catalogue: which actions exist, how they are listed, and how one is run safely."""

from __future__ import annotations

import asyncio
import difflib
import inspect
import logging
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Final

from pydantic import BaseModel, ValidationError

from actions.catalogue._errors import (
    ActionFailed,
    DuplicateAction,
    InputIssue,
    InvalidActionDefinition,
    InvalidActionInput,
    UnknownAction,
)
from actions.catalogue._model import Action, ActionContext, ActionInfo, ActionOutcome
from actions.catalogue._std_basic import (
    AsyncNoopAction,
    EchoAction,
    FailAction,
    NoopAction,
    SleepAction,
)
from actions.catalogue._std_email import EmailAction
from actions.catalogue._std_http import HttpAction, MistralHttpAction
from actions.catalogue._std_kafka import KafkaAction
from actions.catalogue._std_ssh import SshAction
from schemas.masking import MASK, is_secret_key, mask_secrets

logger = logging.getLogger(__name__)

#: The entry-point group third-party packages use to publish actions.
ENTRY_POINT_GROUP: Final = "squall.actions"


def builtin_actions() -> list[Action[Any]]:
    """A fresh instance of every standard action."""
    return [
        NoopAction(),
        AsyncNoopAction(),
        EchoAction(),
        FailAction(),
        SleepAction(),
        HttpAction(),
        MistralHttpAction(),
        EmailAction(),
        SshAction(),
        KafkaAction(),
    ]


class ActionCatalogue:
    """Registered actions by name; runs them and turns every failure into an outcome."""

    def __init__(self, actions: Iterable[Action[Any]] = ()) -> None:
        self._actions: dict[str, Action[Any]] = {}
        #: Entry points that could not be loaded, with the reason (shown by diagnostics).
        self.load_errors: dict[str, str] = {}
        for action in actions:
            self.register(action)

    @classmethod
    def default(cls) -> ActionCatalogue:
        """The standard and OpenStack actions plus those published under ``squall.actions``."""
        # Imported here: the OpenStack package builds on this one.
        from actions.openstack import openstack_actions

        catalogue = cls([*builtin_actions(), *openstack_actions()])
        catalogue.load_entry_points()
        return catalogue

    def register(self, action: Action[Any], *, name: str | None = None) -> None:
        """Add ``action`` under ``name`` (default: its own name).

        Raises:
            InvalidActionDefinition: the object lacks a name, input model or run.
            DuplicateAction: that name is taken.
        """
        _check_definition(action)
        key = name or action.name
        if key in self._actions:
            raise DuplicateAction(key)
        self._actions[key] = action

    def load_entry_points(self, entries: Iterable[EntryPoint] | None = None) -> None:
        """Register actions from entry points (default: the ``squall.actions`` group).

        A broken plugin is logged and recorded in ``load_errors`` rather than
        stopping the others from loading.
        """
        for entry in entries if entries is not None else entry_points(group=ENTRY_POINT_GROUP):
            try:
                self.register_entry_point(entry)
            except Exception as exc:
                self.load_errors[entry.name] = f"{type(exc).__name__}: {exc}"
                logger.warning(
                    "Skipping action entry point %s (%s): %s", entry.name, entry.value, exc
                )

    def register_entry_point(self, entry: EntryPoint) -> None:
        """Load one entry point (an ``Action`` subclass or instance) under its name."""
        loaded = entry.load()
        action = loaded() if isinstance(loaded, type) else loaded
        if not isinstance(action, Action):
            raise InvalidActionDefinition(
                f"entry point {entry.name} ({entry.value}) is {type(action).__name__}, "
                "expected an Action subclass or instance"
            )
        if not getattr(action, "name", None):
            action.name = entry.name
        self.register(action, name=entry.name)

    def get(self, name: str) -> Action[Any]:
        """The action registered as ``name``; raises ``UnknownAction`` otherwise."""
        try:
            return self._actions[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._actions, n=3)
            raise UnknownAction(name, close) from None

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def list(self) -> list[ActionInfo]:
        """Every action's listing entry, sorted by name."""
        return [self._actions[name].info(name) for name in sorted(self._actions)]

    def validate_input(self, name: str, input: Mapping[str, Any]) -> BaseModel:
        """Check ``input`` against the action's signature, as the engine may before running.

        Raises:
            UnknownAction: no such action.
            InvalidActionInput: a field is missing, unexpected or of the wrong type.
        """
        model: type[BaseModel] = self.get(name).input_model
        try:
            return model.model_validate(dict(input))
        except ValidationError as exc:
            raise InvalidActionInput(name, _issues(model, exc)) from None
        except Exception as exc:
            # A plugin's own validator may raise anything; still name the action.
            issue = InputIssue(
                path="input",
                expected="valid input",
                got=mask_secrets(dict(input)),
                message=str(exc),
            )
            raise InvalidActionInput(name, [issue]) from exc

    async def run(
        self,
        name: str,
        input: Mapping[str, Any],
        ctx: ActionContext,
        timeout_s: float | None = None,
    ) -> ActionOutcome:
        """Run an action once; never raises for a failure of the action itself.

        Returns SUCCESS with the output, ERROR with a specific message (unknown
        action, invalid input, timeout, or the action's own error), or, for an async
        action that started, ``ActionOutcome.started()``.
        """
        try:
            action = self.get(name)
            params = self.validate_input(name, input)
        except (UnknownAction, InvalidActionInput) as exc:
            return ActionOutcome.failure(str(exc))
        try:
            async with asyncio.timeout(timeout_s):
                output = await action.run(params, ctx)
        except TimeoutError:
            return ActionOutcome.failure(_timeout_message(name, timeout_s))
        except ActionFailed as exc:
            return ActionOutcome.failure(exc.message, exc.data)
        except Exception as exc:
            logger.warning("Action %s raised %s", name, type(exc).__name__, exc_info=True)
            return ActionOutcome.failure(f"Action '{name}' failed: {type(exc).__name__}: {exc}")
        if action.is_async:
            return ActionOutcome.started()
        return ActionOutcome.success(output)


def _timeout_message(name: str, timeout_s: float | None) -> str:
    if timeout_s is None:
        return f"Action '{name}' timed out"
    return f"Action '{name}' timed out after {timeout_s:g} s"


def _check_definition(action: object) -> None:
    if not isinstance(action, Action):
        raise InvalidActionDefinition(f"{action!r} is not an Action")
    name = getattr(action, "name", None)
    if not isinstance(name, str) or not name:
        raise InvalidActionDefinition(f"{type(action).__name__} has no name")
    model = inspect.getattr_static(action, "input_model", None)
    if isinstance(model, property):
        # Built on first use (generated actions); checked when it is built.
        return
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise InvalidActionDefinition(
            f"action {name} has no input_model (expected a pydantic model class)"
        )


def _issues(model: type[BaseModel], exc: ValidationError) -> list[InputIssue]:
    issues = []
    for err in exc.errors():
        path = ".".join(str(part) for part in err["loc"]) or "input"
        field = model.model_fields.get(str(err["loc"][0])) if err["loc"] else None
        if field is None and err["loc"]:
            field = next((f for f in model.model_fields.values() if f.alias == err["loc"][0]), None)
        if err["type"] == "extra_forbidden":
            expected = f"one of: {', '.join(_input_names(model))}"
        else:
            expected = _type_name(field.annotation) if field is not None else "a valid value"
        if err["type"] == "missing":
            got: Any = "nothing"
        elif any(isinstance(part, str) and is_secret_key(part) for part in err["loc"]):
            got = MASK
        else:
            got = mask_secrets(err.get("input"))
        issues.append(InputIssue(path=path, expected=expected, got=got, message=err["msg"]))
    return issues


def _input_names(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _type_name(annotation: Any) -> str:
    if annotation is Any or annotation is None:
        return "any value"
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        return annotation.__name__
    return str(annotation).replace("typing.", "")
