"""SDK return values as plain JSON: resources, generators, munches and scalars."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterator, Mapping
from typing import Any

from openstack import resource


def to_json(value: Any, *, original_names: bool = False) -> Any:
    """Turn what an SDK call returned into JSON-compatible data.

    Resources become their ``to_dict()`` without computed fields (such as the
    ``location`` the SDK adds) or response headers; generators are drained into lists.

    Args:
        value: the SDK's return value.
        original_names: use the API's own attribute names (``OS-EXT-STS:vm_state``),
            as the Python clients Mistral used did, instead of the SDK's.
    """
    if isinstance(value, resource.Resource):
        data = value.to_dict(headers=False, computed=False, original_names=original_names)
        return to_json(data, original_names=original_names)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_json(v, original_names=original_names) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | Iterator):
        return [to_json(item, original_names=original_names) for item in value]
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            return base64.b64encode(value).decode()
    return str(value)
