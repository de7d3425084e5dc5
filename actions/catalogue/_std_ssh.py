"""std.ssh: run a command on one or several hosts over SSH, with Mistral's inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncssh
from pydantic import Field

from actions.catalogue._errors import ActionFailed
from actions.catalogue._model import Action, ActionContext, ActionInput, ActionSettings

_EXCERPT_CHARS = 500


class SshInput(ActionInput):
    """Inputs of std.ssh, in Mistral's order, plus ``port``."""

    cmd: str
    host: str | list[str]
    username: str
    password: str = ""
    private_key_filename: str | None = None
    private_key: str | None = None
    port: int = Field(default=22, gt=0, lt=65536)


def _key_path(filename: str, settings: ActionSettings) -> Path:
    """The key file, which must lie inside the configured key directory."""
    key_dir = Path(settings.ssh_key_dir).expanduser().resolve()
    path = (key_dir / filename).resolve()
    if not path.is_relative_to(key_dir):
        raise ActionFailed(
            f"private_key_filename {filename!r} points outside the SSH key directory; "
            "give a file name relative to it"
        )
    return path


def _client_keys(params: SshInput, settings: ActionSettings) -> list[asyncssh.SSHKey] | None:
    """Keys from ``private_key`` / ``private_key_filename``; ``password`` unlocks them."""
    passphrase = params.password or None
    try:
        if params.private_key:
            return [asyncssh.import_private_key(params.private_key, passphrase)]
        if params.private_key_filename:
            path = _key_path(params.private_key_filename, settings)
            return [asyncssh.read_private_key(path, passphrase)]
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError, OSError) as exc:
        raise ActionFailed(f"Cannot load the SSH private key: {exc}") from exc
    return None


def _excerpt(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "..."


class SshAction(Action[SshInput]):
    """Run ``cmd`` over SSH and return its standard output.

    With a list of hosts the result is the list of outputs, in host order. A
    non-zero exit status fails the action with the command's standard error.
    """

    name = "std.ssh"
    input_model = SshInput

    async def run(self, params: SshInput, ctx: ActionContext) -> Any:
        """Run the command on each host in turn; stop at the first failure."""
        keys = _client_keys(params, ctx.settings)
        hosts = params.host if isinstance(params.host, list) else [params.host]
        outputs = [await self._run_on(host, params, keys, ctx.settings) for host in hosts]
        return outputs if isinstance(params.host, list) and len(outputs) > 1 else outputs[0]

    async def _run_on(
        self,
        host: str,
        params: SshInput,
        keys: list[asyncssh.SSHKey] | None,
        settings: ActionSettings,
    ) -> str:
        failure = f"Failed to execute ssh cmd '{params.cmd}' on {host}"
        try:
            async with asyncssh.connect(
                host,
                port=params.port,
                username=params.username,
                password=params.password or None,
                client_keys=keys,
                known_hosts=settings.ssh_known_hosts,
                agent_path=None,
                config=None,
                connect_timeout=settings.connect_timeout_s,
            ) as conn:
                result = await conn.run(params.cmd, check=False)
        except asyncssh.PermissionDenied as exc:
            raise ActionFailed(
                f"{failure}: authentication failed as {params.username}: {exc.reason}"
            ) from exc
        except asyncssh.HostKeyNotVerifiable as exc:
            raise ActionFailed(
                f"{failure}: host key not verifiable against {settings.ssh_known_hosts}: "
                f"{exc.reason}"
            ) from exc
        except (asyncssh.Error, OSError) as exc:
            raise ActionFailed(f"{failure}: {exc}") from exc
        stdout = _as_text(result.stdout)
        stderr = _as_text(result.stderr)
        if result.exit_status != 0:
            raise ActionFailed(
                f"{failure}: exit status {result.exit_status}: {_excerpt(stderr)}",
                data={
                    "host": host,
                    "exit_status": result.exit_status,
                    "stdout": stdout,
                    "stderr": stderr,
                },
            )
        return stdout


def _as_text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value
