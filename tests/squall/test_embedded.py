"""The embedded servers: they answer their protocols, keep data, and never outlive us."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import MongoClient

from squall.embedded import EmbeddedServers, embedded_servers

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


async def test_the_broker_speaks_kafka(servers: EmbeddedServers) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait("embedded-check", b"hello")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        "embedded-check",
        bootstrap_servers=servers.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id="embedded-check",
    )
    await consumer.start()
    try:
        message = await consumer.getone()
    finally:
        await consumer.stop()
    assert message.value == b"hello"


def test_database_files_survive_a_restart(tmp_path: Path) -> None:
    with embedded_servers(tmp_path) as first, MongoClient(first.mongo_uri) as client:
        client.squall.kept.insert_one({"_id": "survivor"})
    with embedded_servers(tmp_path) as second, MongoClient(second.mongo_uri) as client:
        assert client.squall.kept.find_one({"_id": "survivor"}) == {"_id": "survivor"}
    assert not any(_alive(pid) for pid in first.pids + second.pids)


def test_no_server_outlives_a_parent_killed_with_sigkill(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from squall.embedded import embedded_servers\n"
        "with embedded_servers(Path(sys.argv[1])) as s:\n"
        "    print(*s.pids, flush=True)\n"
        "    time.sleep(600)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert parent.stdout is not None
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)
