"""std.email against a real local SMTP server (aiosmtpd), with and without STARTTLS."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from actions.catalogue import ActionCatalogue, ActionContext, ActionSettings


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


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class _Server:
    inbox: _Inbox
    address: str
    ca_file: str | None = None


async def _start(**smtp_options: Any) -> tuple[_Server, asyncio.Server]:
    inbox = _Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(inbox, hostname="127.0.0.1", **smtp_options), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    return _Server(inbox, f"127.0.0.1:{port}"), server


@pytest.fixture
async def plain_server() -> AsyncIterator[_Server]:
    info, server = await _start()
    yield info
    server.close()


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[_Server]:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    info, server = await _start(
        tls_context=context,
        require_starttls=True,
        auth_require_tls=True,
        authenticator=_authenticate,
    )
    info.ca_file = str(cert)
    yield info
    server.close()


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
    assert out.error is not None and out.error.startswith("Failed to send an email message")


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
