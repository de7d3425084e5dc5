"""Write the JSON Schema files in ``schemas/jsonschema/``; ``--check`` fails if they are stale.

Editors use ``definitions.json`` to validate definitions files as they are typed;
the message schemas document what flows on each topic.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.actions import ActionRequest, ActionResult
from schemas.bus import DeadLetter
from schemas.commands import CommandMessage
from schemas.definitions import definitions_json_schema
from schemas.events import CloudEvent
from schemas.executions import ExecutionDoc

OUT = Path(__file__).parent / "jsonschema"


def _model(model: type[BaseModel]) -> Callable[[], dict[str, Any]]:
    return lambda: model.model_json_schema(by_alias=True)


SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "cloudevent.json": _model(CloudEvent),
    "command.json": _model(CommandMessage),
    "action-request.json": _model(ActionRequest),
    "action-result.json": _model(ActionResult),
    "dead-letter.json": _model(DeadLetter),
    "execution.json": _model(ExecutionDoc),
    "definitions.json": definitions_json_schema,
}


def render() -> dict[str, str]:
    """Every schema file's name and text."""
    return {
        name: json.dumps(build(), indent=2, sort_keys=True) + "\n"
        for name, build in SCHEMAS.items()
    }


def main(argv: list[str] | None = None) -> int:
    """Write the files, or with ``--check`` report those that differ from the models."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a file is stale")
    args = parser.parse_args(argv)
    stale = []
    for name, text in render().items():
        path = OUT / name
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(name)
        else:
            OUT.mkdir(exist_ok=True)
            path.write_text(text)
    if stale:
        print(
            "stale JSON Schema files: " + ", ".join(stale) + "\nrun: python -m schemas.generate",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
