"""std.email: send a message through an SMTP server, with Mistral's inputs."""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from typing import Any, Self

import aiosmtplib
from pydantic import field_validator, model_validator

from actions.catalogue._errors import ActionFailed
from actions.catalogue._model import Action, ActionContext, ActionInput

_SMTP_PORT = 25
_SMTPS_PORT = 465


class EmailInput(ActionInput):
    """Inputs of std.email: Mistral's, in its order, then how to encrypt the connection.

    Address lists also accept one string. ``use_ssl`` speaks TLS from the first byte
    (SMTPS, port 465 by default); ``use_starttls`` upgrades a plain connection. When
    neither is given, STARTTLS is used exactly when ``smtp_password`` is, as in Mistral.
    """

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
    use_ssl: bool = False
    use_starttls: bool | None = None

    @model_validator(mode="after")
    def _one_way_to_encrypt(self) -> Self:
        if self.use_ssl and self.use_starttls:
            raise ValueError("use_ssl and use_starttls exclude each other: choose one")
        if self.smtp_password is not None and self.use_starttls is False and not self.use_ssl:
            raise ValueError(
                "smtp_password would cross the network unencrypted with use_starttls: false; "
                "drop use_starttls or set use_ssl: true"
            )
        return self

    @property
    def starttls(self) -> bool:
        """Whether to upgrade the connection with STARTTLS before anything else."""
        if self.use_starttls is not None:
            return self.use_starttls
        return self.smtp_password is not None and not self.use_ssl

    @field_validator("to_addrs", "reply_to", "cc_addrs", "bcc_addrs", mode="before")
    @classmethod
    def _one_address_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


def parse_smtp_server(server: str, default_port: int = _SMTP_PORT) -> tuple[str, int]:
    """Split ``host:port`` (or ``[v6]:port``, or a bare host on ``default_port``)."""
    host, port = server.strip(), ""
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port = rest.removeprefix(":")
    elif host.count(":") == 1:
        host, port = host.split(":")
    if not host:
        raise ActionFailed(f"smtp_server {server!r} names no host; expected 'host:port'")
    if not port:
        return host, default_port
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


def _describe(exc: aiosmtplib.SMTPException | OSError, host: str, port: int) -> str:
    """The SMTP reply, the certificate problem, or why the server was not reached."""
    untrusted = next(
        (e for e in (exc, exc.__cause__) if isinstance(e, ssl.SSLCertVerificationError)), None
    )
    if untrusted is not None:
        return f"certificate verify failed for {host}:{port}: {untrusted.verify_message}"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}"
    if isinstance(exc, aiosmtplib.SMTPException):
        return str(exc) or type(exc).__name__
    return f"cannot reach {host}:{port}: {exc}"


class EmailAction(Action[EmailInput]):
    """Send an email; with ``smtp_password``, log in as ``from_addr`` first (as Mistral).

    The connection is encrypted with STARTTLS when a password is given, or as
    ``use_ssl`` (SMTPS) and ``use_starttls`` ask; the server's certificate is always
    verified. A refusal fails the action with the server's SMTP reply.
    """

    name = "std.email"
    input_model = EmailInput

    async def run(self, params: EmailInput, ctx: ActionContext) -> Any:
        """Send the message to every To, Cc and Bcc recipient; return None."""
        host, port = parse_smtp_server(
            params.smtp_server, _SMTPS_PORT if params.use_ssl else _SMTP_PORT
        )
        settings = ctx.settings
        client = aiosmtplib.SMTP(
            hostname=host,
            port=port,
            timeout=settings.connect_timeout_s,
            use_tls=params.use_ssl,
            # False, never None: None would let aiosmtplib decide from the server's offer.
            start_tls=params.starttls,
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
        except (aiosmtplib.SMTPException, OSError) as exc:
            message = f"Failed to send an email message: {_describe(exc, host, port)}"
            raise ActionFailed(message) from exc
        return None
