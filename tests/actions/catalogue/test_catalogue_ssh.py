"""std.ssh against a real local asyncssh server, with password and key authentication."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from actions.catalogue import ActionCatalogue, ActionContext, ActionOutcome, ActionSettings

USER, PASSWORD = "ops", "correct horse"


class _Auth(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return (username, password) == (USER, PASSWORD)


async def _fake_shell(process: asyncssh.SSHServerProcess[str]) -> None:
    """Runs 'echo WORDS' and 'fail'; enough to see output and exit statuses."""
    command = process.command or ""
    if command.startswith("echo "):
        process.stdout.write(command.removeprefix("echo ") + "\n")
        process.exit(0)
    else:
        process.stderr.write("disk full on /var\n")
        process.exit(3)


@dataclass
class _Peer:
    port: int
    client_key: asyncssh.SSHKey
    host_key: asyncssh.SSHKey


@pytest.fixture(scope="module")
async def peer() -> AsyncIterator[_Peer]:
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())
    server = await asyncssh.create_server(
        _Auth,
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        authorized_client_keys=authorized,
        process_factory=_fake_shell,
    )
    yield _Peer(server.get_port(), client_key, host_key)
    server.close()
    await server.wait_closed()


@pytest.fixture(scope="module")
def catalogue() -> ActionCatalogue:
    return ActionCatalogue.default()


async def _ssh(
    catalogue: ActionCatalogue, peer: _Peer, settings: ActionSettings | None = None, **inputs: Any
) -> ActionOutcome:
    base = {"host": "127.0.0.1", "port": peer.port, "username": USER, "cmd": "echo hi"}
    ctx = ActionContext(settings=settings or ActionSettings())
    return await catalogue.run("std.ssh", {**base, **inputs}, ctx, timeout_s=20)


async def test_password_auth_returns_stdout(catalogue: ActionCatalogue, peer: _Peer) -> None:
    out = await _ssh(catalogue, peer, password=PASSWORD, cmd="echo disk ok")
    assert out == ActionOutcome.success("disk ok\n")


async def test_wrong_password_is_an_error(catalogue: ActionCatalogue, peer: _Peer) -> None:
    out = await _ssh(catalogue, peer, password="nope")
    assert out.state == "ERROR"
    assert out.error is not None
    assert out.error.startswith(
        "Failed to execute ssh cmd 'echo hi' on 127.0.0.1: authentication failed as ops"
    )


async def test_inline_private_key(catalogue: ActionCatalogue, peer: _Peer) -> None:
    pem = peer.client_key.export_private_key().decode()
    out = await _ssh(catalogue, peer, private_key=pem)
    assert out.output == "hi\n"


async def test_key_file_in_key_dir_with_passphrase(
    catalogue: ActionCatalogue, peer: _Peer, tmp_path: Path
) -> None:
    # As in Mistral, the password input unlocks an encrypted key.
    peer.client_key.write_private_key(tmp_path / "id_ops", passphrase="unlock-me")
    settings = ActionSettings(ssh_key_dir=str(tmp_path))
    out = await _ssh(catalogue, peer, settings, private_key_filename="id_ops", password="unlock-me")
    assert out.output == "hi\n", out.error


async def test_key_file_outside_key_dir_is_refused(
    catalogue: ActionCatalogue, peer: _Peer, tmp_path: Path
) -> None:
    settings = ActionSettings(ssh_key_dir=str(tmp_path / "keys"))
    out = await _ssh(catalogue, peer, settings, private_key_filename="../../etc/shadow")
    assert out.error is not None and "outside the SSH key directory" in out.error


async def test_non_zero_exit_is_an_error_with_stderr(
    catalogue: ActionCatalogue, peer: _Peer
) -> None:
    out = await _ssh(catalogue, peer, password=PASSWORD, cmd="fail")
    assert out.state == "ERROR"
    assert out.error is not None
    assert "exit status 3" in out.error and "disk full on /var" in out.error
    assert out.output == {
        "host": "127.0.0.1",
        "exit_status": 3,
        "stdout": "",
        "stderr": "disk full on /var\n",
    }


async def test_several_hosts_give_a_list(catalogue: ActionCatalogue, peer: _Peer) -> None:
    out = await _ssh(catalogue, peer, password=PASSWORD, host=["127.0.0.1", "localhost"])
    assert out.output == ["hi\n", "hi\n"]


async def test_known_hosts_are_checked_when_configured(
    catalogue: ActionCatalogue, peer: _Peer, tmp_path: Path
) -> None:
    entry = f"[127.0.0.1]:{peer.port} " + peer.host_key.export_public_key().decode()
    good = tmp_path / "known_hosts"
    good.write_text(entry)
    out = await _ssh(catalogue, peer, ActionSettings(ssh_known_hosts=str(good)), password=PASSWORD)
    assert out.output == "hi\n", out.error

    stranger = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    bad = tmp_path / "other_known_hosts"
    bad.write_text(f"[127.0.0.1]:{peer.port} {stranger}")
    out = await _ssh(catalogue, peer, ActionSettings(ssh_known_hosts=str(bad)), password=PASSWORD)
    assert out.state == "ERROR"
    assert out.error is not None
    assert out.error.startswith(
        "Failed to execute ssh cmd 'echo hi' on 127.0.0.1: host key not verifiable"
    )
