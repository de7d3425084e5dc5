"""Rule policies: dedupe, rate limit, cooldown, one running execution per key, cancel-on.

``PolicyGate.admit`` takes a batch's events, evaluates the rules on them, applies the
policies with their state in MongoDB (``rule_state``, keyed ``project/rule/policy/key``)
and returns the commands to apply; every evaluation leaves an ``EvaluationRecord``
saying why the rule fired or not.

Replayed events (``replayid`` set) keep dedupe, cooldown and rate-limit state of their
own, scoped by replay id: the live originals never suppress them and they never use up
live traffic's budget. Concurrency is shared with live traffic (it guards a resource).
"""

from __future__ import annotations

from engine.policies._decide import Decision, Keys, policy_keys
from engine.policies._errors import PolicyConflict, PolicyError
from engine.policies._gate import Admission, PolicyGate, ended_execution
from engine.policies._state import State, StateStore, state_id

__all__ = [
    "Admission",
    "Decision",
    "Keys",
    "PolicyConflict",
    "PolicyError",
    "PolicyGate",
    "State",
    "StateStore",
    "ended_execution",
    "policy_keys",
    "state_id",
]
