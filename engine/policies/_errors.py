"""The policy gate's errors."""

from __future__ import annotations


class PolicyError(RuntimeError):
    """Base of the policy gate's errors."""


class PolicyConflict(PolicyError):
    """Another engine changed a rule's policy state this batch also changed; redo the batch."""
