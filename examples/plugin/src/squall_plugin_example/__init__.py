"""An example Squall action: ``example.greet``."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from actions.catalogue import Action, ActionContext, ActionFailed, ActionInput


class GreetInput(ActionInput):
    """Who to greet, and how."""

    name: str = Field(min_length=1, description="who to greet")
    greeting: str = "Hello"
    excited: bool = False


class GreetAction(Action[GreetInput]):
    """Greet someone; fails for names on the (example) refusal list."""

    name = "example.greet"
    input_model = GreetInput

    async def run(self, params: GreetInput, ctx: ActionContext) -> Any:
        """Return the greeting and the execution it was made for."""
        if params.name.lower() == "nobody":
            raise ActionFailed(f"example.greet: refusing to greet {params.name!r}")
        punctuation = "!" if params.excited else "."
        return {
            "message": f"{params.greeting}, {params.name}{punctuation}",
            "execution_id": ctx.execution_id,
        }
