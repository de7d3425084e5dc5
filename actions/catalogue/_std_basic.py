"""The small standard actions: std.noop, std.async_noop, std.echo, std.fail, std.sleep."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from pydantic import Field

from actions.catalogue._errors import ActionFailed
from actions.catalogue._model import Action, ActionContext, ActionInput, NoInput


class NoopAction(Action[NoInput]):
    """Do nothing and return null; useful for testing and joins."""

    name = "std.noop"
    input_model = NoInput

    async def run(self, params: NoInput, ctx: ActionContext) -> Any:
        """Return None."""
        return None


class AsyncNoopAction(NoopAction):
    """Do nothing; the result is posted later through the API, as with any async action."""

    name = "std.async_noop"
    is_async = True


class EchoInput(ActionInput):
    """Inputs of std.echo."""

    output: Any
    delay: float = Field(default=0, ge=0)


class EchoAction(Action[EchoInput]):
    """Return ``output`` unchanged, after ``delay`` seconds; a stub for designing workflows."""

    name = "std.echo"
    input_model = EchoInput

    async def run(self, params: EchoInput, ctx: ActionContext) -> Any:
        """Wait ``delay`` seconds, then return ``output``."""
        if params.delay:
            await asyncio.sleep(params.delay)
        return params.output


class FailInput(ActionInput):
    """Inputs of std.fail."""

    error_data: Any = None


class FailAction(Action[FailInput]):
    """Always fail; with ``error_data``, that data becomes the task's error result."""

    name = "std.fail"
    input_model = FailInput

    async def run(self, params: FailInput, ctx: ActionContext) -> Any:
        """Raise ``ActionFailed``, carrying ``error_data`` when given."""
        if params.error_data:
            data = params.error_data
            message = data if isinstance(data, str) else json.dumps(data, default=str)
            raise ActionFailed(message, data=data)
        raise ActionFailed("Fail action expected exception.")


class SleepInput(ActionInput):
    """Inputs of std.sleep."""

    seconds: float = Field(default=1, ge=0)


class SleepAction(Action[SleepInput]):
    """Sleep for ``seconds`` and return null."""

    name = "std.sleep"
    input_model = SleepInput

    async def run(self, params: SleepInput, ctx: ActionContext) -> Any:
        """Sleep, then return None."""
        await asyncio.sleep(params.seconds)
        return None
