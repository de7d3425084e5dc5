"""The one exception family of webhook handling, each error mapped to an HTTP status."""

from __future__ import annotations


class WebhookError(Exception):
    """A delivery refused, with the HTTP status to answer and what the sender must fix.

    Args:
        status: the HTTP status of the answer (400, 401, 413 or 415).
        message: one precise sentence: which field, what was expected, what came.
        field: the payload field, attribute or header at fault, when there is one.
    """

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


class InvalidPayload(WebhookError):
    """The body (or a header carrying event attributes) is not what the adapter expects."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(400, message, field)


class Unauthorized(WebhookError):
    """The secret is missing or wrong. The message never repeats what was sent."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(401, message, field)


class UnsupportedMediaType(WebhookError):
    """The Content-Type is not one the hook's adapter reads."""

    def __init__(self, message: str) -> None:
        super().__init__(415, message, "Content-Type")
