"""How an ad-hoc action (a workbook's ``actions:``) is listed beside the catalogue's."""

from __future__ import annotations

import json

from actions.catalogue._model import ActionInfo
from schemas.definitions import AdHocAction


def adhoc_info(name: str, action: AdHocAction) -> ActionInfo:
    """The listing entry of an ad-hoc action: its own inputs, description and base.

    The signature is Mistral's: required inputs bare, the others ``name=<JSON default>``.
    """
    signature = ", ".join(
        f"{p.name}={json.dumps(p.default, default=str)}" if p.has_default else p.name
        for p in action.input or []
    )
    return ActionInfo(
        name=name, description=action.description or "", input=signature, base=action.base
    )
