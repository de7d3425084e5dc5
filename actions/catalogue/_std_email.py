"""std.email: send a message through an SMTP server, with Mistral's inputs."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import aiosmtplib
from pydantic import field_validator

from actions.catalogue._errors import ActionFailed
from actions.catalogue._model import Action, ActionContext, ActionInput

_SMTP_PORT = 25


class EmailInput(ActionInput):
    """Inputs of std.email, in Mistral's order; address lists also accept one string."""

    from_addr: str
    to_addrs: list[str]
    smtp_server: str
    reply_to: list[str] | None = None
    cc_addrs: list[str] | None = None
    bcc_addrs: list[str] | None = None
    smtp_password: str | None = None
    subject: str | None = None
    body: str | None = None
    html_body: str | None = None

    @field_validator("to_addrs", "reply_to", "cc_addrs", "bcc_addrs", mode="before")
    @classmethod
    def _one_address_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


def parse_smtp_server(server: str) -> tuple[str, int]:
    """Split ``host:port`` (or ``[v6]:port``, or a bare host on port 25)."""
    host, port = server.strip(), ""
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port = rest.removeprefix(":")
    elif host.count(":") == 1:
        host, port = host.split(":")
    if not host:
        raise ActionFailed(f"smtp_server {server!r} names no host; expected 'host:port'")
    if not port:
        return host, _SMTP_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ActionFailed(f"smtp_server {server!r} has an invalid port; expected 'host:port'")
    return host, int(port)


def build_message(params: EmailInput) -> EmailMessage:
    """The MIME message: plain text, plus an HTML alternative when ``html_body`` is set."""
    message = EmailMessage()
    message["Subject"] = params.subject or "<No subject>"
    message["From"] = params.from_addr
    message["To"] = ", ".join(params.to_addrs)
    if params.cc_addrs:
        message["Cc"] = ", ".join(params.cc_addrs)
    if params.reply_to:
        message["Reply-To"] = ", ".join(params.reply_to)
    message.set_content(params.body or "<No body>")
    if params.html_body:
        message.add_alternative(params.html_body, subtype="html")
    return message


def _describe(exc: aiosmtplib.SMTPException) -> str:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}"
    return str(exc) or type(exc).__name__


class EmailAction(Action[EmailInput]):
    """Send an email; with ``smtp_password``, upgrade to TLS (STARTTLS) and log in first.

    The login user is ``from_addr``, as in Mistral. A refusal fails the action with
    the server's SMTP reply.
    """

    name = "std.email"
    input_model = EmailInput

    async def run(self, params: EmailInput, ctx: ActionContext) -> Any:
        """Send the message to every To, Cc and Bcc recipient; return None."""
        host, port = parse_smtp_server(params.smtp_server)
        settings = ctx.settings
        login = params.smtp_password is not None
        client = aiosmtplib.SMTP(
            hostname=host,
            port=port,
            timeout=settings.connect_timeout_s,
            start_tls=login,
            cert_bundle=settings.smtp_ca_file,
        )
        recipients = [*(params.cc_addrs or []), *(params.bcc_addrs or []), *params.to_addrs]
        try:
            async with client:
                if params.smtp_password is not None:
                    await client.login(params.from_addr, params.smtp_password)
                await client.send_message(
                    build_message(params), sender=params.from_addr, recipients=recipients
                )
        except aiosmtplib.SMTPException as exc:
            raise ActionFailed(f"Failed to send an email message: {_describe(exc)}") from exc
        except OSError as exc:
            raise ActionFailed(
                f"Failed to send an email message: cannot reach {host}:{port}: {exc}"
            ) from exc
        return None
