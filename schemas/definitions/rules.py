"""Squall rules: on matching events, start a workflow or run an action, under policies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, PositiveFloat, PositiveInt, model_validator
from pydantic_core import PydanticCustomError

from schemas.definitions.calls import parse_action_call
from schemas.definitions.correlation import Correlation
from schemas.definitions.values import Name, NonEmptyDict, Spec


class Dedupe(Spec):
    """Drop an event whose ``key`` was seen in the last ``window`` seconds."""

    key: Name
    window: PositiveFloat


class RateLimit(Spec):
    """At most ``count`` starts per ``per`` seconds, per ``key`` (one bucket if unset)."""

    count: PositiveInt
    per: PositiveFloat
    key: Name | None = None


class Cooldown(Spec):
    """After a start, ignore matches with the same ``key`` for ``seconds``."""

    seconds: PositiveFloat
    key: Name | None = None


class Concurrency(Spec):
    """At most one running execution per ``key``; ``mode`` says what a new match does.

    ``queue`` waits for the running one, ``skip`` drops the new one, ``replace`` cancels
    the running one and starts the new one, ``cancel`` cancels the running one only.
    """

    key: Name
    mode: Literal["queue", "skip", "replace", "cancel"] = "queue"


class RulePolicy(Spec):
    """The policies of a rule. ``cancel-on`` is an event pattern: a matching event
    cancels the running execution whose ``concurrency.key`` it evaluates to.
    """

    dedupe: Dedupe | None = None
    rate_limit: RateLimit | None = Field(default=None, alias="rate-limit")
    cooldown: Cooldown | None = None
    concurrency: Concurrency | None = None
    cancel_on: NonEmptyDict | None = Field(default=None, alias="cancel-on")

    @model_validator(mode="after")
    def _cancel_needs_key(self) -> RulePolicy:
        if self.cancel_on is not None and self.concurrency is None:
            raise PydanticCustomError(
                "cancel_on", "'cancel-on' needs 'concurrency' to say which execution (its key)"
            )
        return self


class Rule(Spec):
    """``rules.<name>``: what it waits for, either one event ``pattern`` (EventBridge
    syntax, checked by the matcher) or several correlated ones (``correlate``); an
    optional ``condition`` expression; and exactly one target, ``workflow`` or ``action``.

    An ``action`` may carry inline parameters (``action: std.echo output=hi``); they are
    merged into ``input``.
    """

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["pattern"]}, {"required": ["correlate"]}]}
    )

    name: Name
    description: str | None = None
    enabled: bool = True
    pattern: NonEmptyDict | None = None
    correlate: Correlation | None = None
    condition: Name | None = None
    workflow: Name | None = None
    action: Name | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    policy: RulePolicy = Field(default_factory=RulePolicy)

    @model_validator(mode="before")
    @classmethod
    def _one_target(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        targets = _exactly_one(data, "workflow", "action")
        _exactly_one(data, "pattern", "correlate")
        if targets == ["action"] and isinstance(data["action"], str):
            try:
                name, params = parse_action_call(data["action"])
            except ValueError as exc:
                raise PydanticCustomError("call", "invalid action: {r}", {"r": str(exc)}) from None
            given = data.get("input") or {}
            if params and isinstance(given, dict):
                data = {**data, "input": {**given, **params}}
            data = {**data, "action": name}
        return data

    def event_patterns(self) -> dict[str, dict[str, Any]]:
        """Every event pattern of the rule by its path below the rule (``pattern``, or
        ``correlate.patterns.<name>``)."""
        if self.correlate is None:
            return {"pattern": self.pattern or {}}
        return {f"correlate.patterns.{n}": p for n, p in self.correlate.patterns.items()}


def _exactly_one(data: dict[str, Any], first: str, second: str) -> list[str]:
    """The one of two exclusive keywords that ``data`` sets (as a list).

    Raises:
        PydanticCustomError: neither or both are set.
    """
    given = [k for k in (first, second) if data.get(k) is not None]
    if len(given) != 1:
        raise PydanticCustomError(
            "exactly_one",
            "expected exactly one of '{first}' or '{second}', got {got}",
            {"first": first, "second": second, "got": ", ".join(given) or "none"},
        )
    return given
