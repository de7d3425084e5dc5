"""`squall dev`: load the examples and tell the user how to try them."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from schemas.definitions import DefinitionError, load_definitions
from schemas.definitions.hooks import Hook
from squall.services import Services
from squall.settings import Settings

log = logging.getLogger(__name__)

SAMPLE_ALERT = (
    '{"version":"4","status":"firing","receiver":"squall","groupKey":"{}:{alertname=\\"HighCPU\\"}",'
    '"groupLabels":{"alertname":"HighCPU"},"commonLabels":{"alertname":"HighCPU"},'
    '"commonAnnotations":{},"externalURL":"http://alertmanager:9093","truncatedAlerts":0,'
    '"alerts":[{"status":"firing","labels":{"alertname":"HighCPU","cluster":"web",'
    '"severity":"critical"},"annotations":{"summary":"CPU above 90%"},'
    '"startsAt":"2026-11-22T10:00:00Z","endsAt":"0001-01-01T00:00:00Z",'
    '"generatorURL":"http://prometheus:9090/graph","fingerprint":"c0ffee1234567890"}]}'
)


def _read(folder: Path) -> list[tuple[Path, str]]:
    if not folder.is_dir():
        log.warning("no examples folder at %s; nothing loaded", folder)
        return []
    return [(path, path.read_text()) for path in sorted(folder.glob("*.yaml"))]


async def load_examples(services: Services, folder: Path) -> list[Hook]:
    """Apply every ``*.yaml`` in ``folder``; return the hooks they define."""
    hooks: list[Hook] = []
    for path, text in await asyncio.to_thread(_read, folder):
        try:
            definitions = load_definitions(text, str(path))
        except DefinitionError as exc:
            log.error("example %s is invalid:\n%s", path, exc)
            continue
        await services.definitions_store.apply(definitions, "default")
        hooks += definitions.hooks.values()
    await services.definitions.refresh()
    return hooks


def announce(settings: Settings, hooks: list[Hook]) -> None:
    """Print the URLs and a ready-to-paste curl for the first example hook."""
    base = f"http://{settings.http_host}:{settings.http_port}"
    lines = [
        "",
        "Squall is running (embedded Kafka and MongoDB; no authentication: development only).",
        f"  API:      {base}/v1",
        f"  Mistral:  {base}/v2",
        f"  health:   {base}/healthz",
    ]
    for hook in hooks:
        lines.append(f"  webhook:  {base}/hooks/{hook.name}  (adapter: {hook.adapter})")
    alert_hooks = [h for h in hooks if h.adapter == "alertmanager" and h.auth == "token"]
    if alert_hooks:
        hook = alert_hooks[0]
        secret = hook.secret.get_secret_value()
        lines += [
            "",
            "Try it: send an Alertmanager alert, then look at the execution it started:",
            f"  curl -s -X POST '{base}/hooks/{hook.name}?token={secret}' \\",
            "       -H 'Content-Type: application/json' \\",
            f"       -d '{SAMPLE_ALERT}'",
            f"  curl -s {base}/v1/events/<event_id from the answer>",
            f"  curl -s {base}/v1/executions/<execution id from the event>",
        ]
    print("\n".join(lines), flush=True)
