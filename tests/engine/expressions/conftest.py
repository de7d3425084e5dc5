"""Fixtures for the expression tests: a fake runtime and a fresh evaluator."""

from __future__ import annotations

import pytest
from expressions_fakes import FakeRuntime

from engine.expressions import ExpressionEvaluator


@pytest.fixture
def runtime() -> FakeRuntime:
    """A fresh fake runtime whose current task is ``create_vm``."""
    return FakeRuntime()


@pytest.fixture
def evaluator() -> ExpressionEvaluator:
    """An evaluator with default settings and empty caches."""
    return ExpressionEvaluator()
