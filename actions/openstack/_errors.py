"""OpenStack failures turned into specific action errors: status, fault and request id."""

from __future__ import annotations

from typing import Any

from keystoneauth1 import exceptions as ksa_exc
from openstack import exceptions as sdk_exc

from actions.catalogue import ActionFailed

#: Longest fault message kept in an error, so one bad response cannot flood a result.
MAX_DETAIL_CHARS = 500


class OpenStackActionFailed(ActionFailed):
    """An OpenStack call failed; ``data`` holds the HTTP status, fault and request id."""


class CloudNotConfigured(OpenStackActionFailed):
    """No credentials were found for the cloud an action asked for."""


def translate(action: str, exc: BaseException) -> OpenStackActionFailed:
    """Turn an exception raised by openstacksdk or keystoneauth into a readable failure.

    Args:
        action: the action's name, to start the message with.
        exc: what the SDK raised.
    """
    if isinstance(exc, sdk_exc.ConfigException):
        return CloudNotConfigured(
            f"{action}: OpenStack credentials not found: {exc}. Name a cloud of clouds.yaml "
            "in the input 'cloud' or the environment's 'openstack_cloud', set OS_CLOUD, "
            "or set the OS_* variables.",
            {"error": "config", "message": str(exc)},
        )
    status, detail, request_id = _http_parts(exc)
    if status is not None:
        message = f"{action}: HTTP {status}: {detail}"
        if request_id:
            message += f" (request {request_id})"
        return OpenStackActionFailed(
            message, {"status": status, "message": detail, "request_id": request_id}
        )
    kind = type(exc).__name__
    return OpenStackActionFailed(
        f"{action}: {kind}: {_cut(str(exc))}", {"error": kind, "message": _cut(str(exc))}
    )


def _http_parts(exc: BaseException) -> tuple[int | None, str, str | None]:
    if isinstance(exc, sdk_exc.HttpException) and exc.status_code is not None:
        detail = exc.details or exc.message or ""
        return exc.status_code, _cut(_fault_text(detail, exc.message)), exc.request_id
    if isinstance(exc, ksa_exc.HttpError):
        return exc.http_status, _cut(exc.details or exc.message or ""), exc.request_id
    return None, "", None


def _fault_text(detail: Any, fallback: str) -> str:
    text = str(detail).strip()
    return text or fallback


def _cut(text: str) -> str:
    if len(text) <= MAX_DETAIL_CHARS:
        return text
    return text[: MAX_DETAIL_CHARS - 3] + "..."
