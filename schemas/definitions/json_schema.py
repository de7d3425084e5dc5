"""The JSON Schema of definitions files, for editors validating YAML as it is typed."""

from __future__ import annotations

from typing import Any

from schemas.definitions.files import DefinitionsFile


def definitions_json_schema() -> dict[str, Any]:
    """The JSON Schema (by YAML keyword) of a definitions file or Mistral workbook.

    Names come from mapping keys, so ``name`` is never required inside an entry; the
    workbook's own ``name`` stays required. Expressions are only checked for their
    ``<% %>`` / ``{{ }}`` delimiters.
    """
    schema = DefinitionsFile.model_json_schema(by_alias=True, mode="validation")
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    for definition in defs.values():
        required = definition.get("required")
        if required and "name" in required:
            definition["required"] = [r for r in required if r != "name"]
            if not definition["required"]:
                del definition["required"]
    schema["title"] = "Squall definitions file"
    return schema
