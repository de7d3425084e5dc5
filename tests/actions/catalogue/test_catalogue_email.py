"""std.email against a real local SMTP server (aiosmtpd): plain, STARTTLS and SMTPS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from actions.catalogue import ActionCatalogue, ActionContext, ActionOutcome, ActionSettings
from actions.catalogue._std_email import EmailAction
from tests.actions.catalogue.certificates import TlsFiles, make_tls_files


@dataclass
class _Inbox:
    """An SMTP handler that keeps what it accepts and refuses nobody@."""

    received: list[Envelope] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 mailbox nobody unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 Message accepted"

    def last_message(self) -> Message:
        content = self.received[-1].content
        assert isinstance(content, bytes)
        return message_from_bytes(content)


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"robot@example.com",
        b"hunter2",
    )
    # handled=False makes aiosmtpd answer a refusal with its 535 reply.
    return AuthResult(success=ok, handled=False)


@dataclass
class _Server:
    inbox: _Inbox
    address: str
    ca_file: str | None = None


@asynccontextmanager
async def _serving(
    tls: TlsFiles | None = None, *, implicit: bool = False, **smtp_options: Any
) -> AsyncIterator[_Server]:
    """An SMTP server on a free port; with ``tls``, over SMTPS (``implicit``) or STARTTLS."""
    inbox = _Inbox()
    if tls is not None and not implicit:
        smtp_options["tls_context"] = tls.server_context()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(inbox, hostname="127.0.0.1", **smtp_options),
        "127.0.0.1",
        0,
        ssl=tls.server_context() if tls is not None and implicit else None,
    )
    port = server.sockets[0].getsockname()[1]
    try:
        yield _Server(inbox, f"127.0.0.1:{port}", str(tls.ca_file) if tls else None)
    finally:
        server.close()


@pytest.fixture
async def plain_server() -> AsyncIterator[_Server]:
    async with _serving() as server:
        yield server


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[_Server]:
    """Requires STARTTLS before mail, and a login over it."""
    tls = make_tls_files(tmp_path)
    options = {"require_starttls": True, "auth_require_tls": True}
    async with _serving(tls, authenticator=_authenticate, **options) as server:
        yield server


@pytest.fixture
async def starttls_server(tmp_path: Path) -> AsyncIterator[_Server]:
    """Requires STARTTLS before mail, and has no login at all (a relay for local hosts)."""
    async with _serving(make_tls_files(tmp_path), require_starttls=True) as server:
        yield server


@pytest.fixture
async def smtps_server(tmp_path: Path) -> AsyncIterator[_Server]:
    """Speaks TLS from the first byte (SMTPS) and takes a login."""
    tls = make_tls_files(tmp_path)
    # aiosmtpd only counts STARTTLS as TLS, so it would hide AUTH on an SMTPS socket.
    options = {"authenticator": _authenticate, "auth_require_tls": False}
    async with _serving(tls, implicit=True, **options) as server:
        yield server


async def _email(server: _Server, ca_file: str | None = None, **inputs: Any) -> ActionOutcome:
    message = {
        "from_addr": "robot@example.com",
        "to_addrs": ["ops@example.com"],
        "smtp_server": server.address,
        "body": "secure",
    }
    ctx = ActionContext(settings=ActionSettings(smtp_ca_file=ca_file))
    return await ActionCatalogue([EmailAction()]).run(
        "std.email", {**message, **inputs}, ctx, timeout_s=10
    )


@pytest.fixture(scope="module")
def catalogue() -> ActionCatalogue:
    return ActionCatalogue.default()


async def test_sends_to_every_recipient_with_headers(
    catalogue: ActionCatalogue, plain_server: _Server
) -> None:
    out = await catalogue.run(
        "std.email",
        {
            "from_addr": "squall@example.com",
            "to_addrs": ["ops@example.com"],
            "cc_addrs": ["lead@example.com"],
            "bcc_addrs": ["audit@example.com"],
            "reply_to": "noreply@example.com",
            "subject": "Scaled out: 2 servers",
            "body": "Cluster web grew by 2.",
            "smtp_server": plain_server.address,
        },
        ActionContext(),
        timeout_s=10,
    )
    assert out.state == "SUCCESS" and out.output is None, out.error
    envelope = plain_server.inbox.received[-1]
    assert envelope.mail_from == "squall@example.com"
    assert sorted(envelope.rcpt_tos) == [
        "audit@example.com",
        "lead@example.com",
        "ops@example.com",
    ]
    message = plain_server.inbox.last_message()
    assert message["Subject"] == "Scaled out: 2 servers"
    assert message["To"] == "ops@example.com" and message["Cc"] == "lead@example.com"
    assert message["Reply-To"] == "noreply@example.com"
    assert "Bcc" not in message
    assert message.get_payload(decode=True).decode().strip() == "Cluster web grew by 2."  # type: ignore[union-attr]


async def test_html_body_becomes_an_alternative(
    catalogue: ActionCatalogue, plain_server: _Server
) -> None:
    out = await catalogue.run(
        "std.email",
        {
            "from_addr": "squall@example.com",
            "to_addrs": "ops@example.com",
            "body": "plain",
            "html_body": "<p>rich</p>",
            "smtp_server": plain_server.address,
        },
        ActionContext(),
    )
    assert out.state == "SUCCESS", out.error
    message = plain_server.inbox.last_message()
    assert message.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in message.get_payload()]  # type: ignore[union-attr]
    assert types == ["text/plain", "text/html"]
    assert message["Subject"] == "<No subject>"


async def test_refused_recipient_reports_the_smtp_reply(
    catalogue: ActionCatalogue, plain_server: _Server
) -> None:
    out = await catalogue.run(
        "std.email",
        {
            "from_addr": "squall@example.com",
            "to_addrs": ["nobody@example.com"],
            "smtp_server": plain_server.address,
        },
        ActionContext(),
    )
    assert out.state == "ERROR"
    assert out.error is not None
    assert out.error.startswith("Failed to send an email message:")
    assert "550" in out.error and "mailbox nobody unavailable" in out.error


async def test_password_uses_starttls_and_logs_in(
    catalogue: ActionCatalogue, tls_server: _Server
) -> None:
    ctx = ActionContext(settings=ActionSettings(smtp_ca_file=tls_server.ca_file))
    out = await catalogue.run(
        "std.email",
        {
            "from_addr": "robot@example.com",
            "to_addrs": ["ops@example.com"],
            "smtp_server": tls_server.address,
            "smtp_password": "hunter2",
            "body": "secure",
        },
        ctx,
        timeout_s=10,
    )
    assert out.state == "SUCCESS", out.error
    assert tls_server.inbox.received[-1].rcpt_tos == ["ops@example.com"]


async def test_wrong_password_reports_the_auth_reply(
    catalogue: ActionCatalogue, tls_server: _Server
) -> None:
    ctx = ActionContext(settings=ActionSettings(smtp_ca_file=tls_server.ca_file))
    out = await catalogue.run(
        "std.email",
        {
            "from_addr": "robot@example.com",
            "to_addrs": ["ops@example.com"],
            "smtp_server": tls_server.address,
            "smtp_password": "wrong",
        },
        ctx,
        timeout_s=10,
    )
    assert out.state == "ERROR"
    assert out.error is not None and "535" in out.error


async def test_untrusted_certificate_is_refused(
    catalogue: ActionCatalogue, tls_server: _Server
) -> None:
    out = await catalogue.run(
        "std.email",
        {
            "from_addr": "robot@example.com",
            "to_addrs": ["ops@example.com"],
            "smtp_server": tls_server.address,
            "smtp_password": "hunter2",
        },
        ActionContext(),
        timeout_s=10,
    )
    assert out.state == "ERROR"
    assert out.error is not None
    assert out.error.startswith("Failed to send an email message: certificate verify failed")
    assert not tls_server.inbox.received


@pytest.mark.parametrize("server", ["127.0.0.1:notaport", ":25", "127.0.0.1:70000"])
async def test_bad_smtp_server_is_explained(catalogue: ActionCatalogue, server: str) -> None:
    out = await catalogue.run(
        "std.email",
        {"from_addr": "a@example.com", "to_addrs": ["b@example.com"], "smtp_server": server},
        ActionContext(),
    )
    assert out.state == "ERROR"
    assert out.error is not None and "smtp_server" in out.error


async def test_unreachable_server(catalogue: ActionCatalogue) -> None:
    out = await catalogue.run(
        "std.email",
        {"from_addr": "a@example.com", "to_addrs": ["b@example.com"], "smtp_server": "127.0.0.1:9"},
        ActionContext(),
        timeout_s=10,
    )
    assert out.state == "ERROR"
    assert out.error is not None and out.error.startswith("Failed to send an email message")


async def test_use_ssl_speaks_tls_from_the_first_byte_and_logs_in(smtps_server: _Server) -> None:
    out = await _email(smtps_server, smtps_server.ca_file, use_ssl=True, smtp_password="hunter2")
    assert out.state == "SUCCESS", out.error
    assert smtps_server.inbox.received[-1].rcpt_tos == ["ops@example.com"]
    refused = await _email(smtps_server, smtps_server.ca_file, use_ssl=True, smtp_password="x")
    assert refused.error is not None and "535" in refused.error


async def test_use_ssl_without_a_password_sends_without_login(smtps_server: _Server) -> None:
    out = await _email(smtps_server, smtps_server.ca_file, use_ssl=True)
    assert out.state == "SUCCESS", out.error
    assert smtps_server.inbox.received[-1].mail_from == "robot@example.com"


async def test_use_ssl_refuses_an_untrusted_certificate(smtps_server: _Server) -> None:
    out = await _email(smtps_server, use_ssl=True, smtp_password="hunter2")
    assert out.state == "ERROR"
    assert out.error is not None
    assert out.error.startswith("Failed to send an email message: certificate verify failed")
    assert not smtps_server.inbox.received


async def test_use_ssl_without_a_port_goes_to_465() -> None:
    server = _Server(_Inbox(), "127.0.0.1")
    out = await _email(server, use_ssl=True)
    assert out.error is not None and "127.0.0.1 on port 465" in out.error


async def test_a_plain_client_cannot_talk_to_smtps(smtps_server: _Server) -> None:
    out = await _email(smtps_server, smtps_server.ca_file)
    assert out.state == "ERROR"
    assert not smtps_server.inbox.received


async def test_use_starttls_encrypts_without_a_login(starttls_server: _Server) -> None:
    out = await _email(starttls_server, starttls_server.ca_file, use_starttls=True)
    assert out.state == "SUCCESS", out.error
    assert starttls_server.inbox.received[-1].rcpt_tos == ["ops@example.com"]


async def test_without_use_starttls_no_login_means_no_tls_as_in_mistral(
    starttls_server: _Server,
) -> None:
    out = await _email(starttls_server, starttls_server.ca_file)
    assert out.state == "ERROR"
    assert out.error is not None and "530" in out.error and "STARTTLS" in out.error


async def test_use_starttls_refuses_an_untrusted_certificate(starttls_server: _Server) -> None:
    out = await _email(starttls_server, use_starttls=True)
    assert out.error is not None
    assert out.error.startswith("Failed to send an email message: certificate verify failed")


@pytest.mark.parametrize(
    ("inputs", "problem"),
    [
        ({"use_ssl": True, "use_starttls": True}, "exclude each other"),
        ({"use_starttls": False, "smtp_password": "hunter2"}, "unencrypted"),
    ],
)
async def test_contradictory_tls_inputs_are_refused(
    plain_server: _Server, inputs: dict[str, Any], problem: str
) -> None:
    out = await _email(plain_server, **inputs)
    assert out.state == "ERROR"
    assert out.error is not None and "Invalid input" in out.error and problem in out.error
    assert not plain_server.inbox.received
