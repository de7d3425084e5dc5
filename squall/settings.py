"""One typed settings object, read once from ``SQUALL_*`` variables and an optional TOML file."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from triggers.kafka_sources.config import KafkaSource

ENV_PREFIX = "SQUALL_"
T = TypeVar("T")


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the variable to fix."""


class Settings(BaseSettings):
    """Everything a Squall process can be configured with.

    Environment variables win over the TOML file named by ``SQUALL_CONFIG``; both use
    the field names (``SQUALL_HTTP_PORT`` ↔ ``http_port``).
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    kafka_bootstrap: str | None = Field(
        default=None, description="Kafka bootstrap servers; unset: `squall dev` embeds a broker"
    )
    mongo_uri: str | None = Field(
        default=None, description="MongoDB URI; unset: `squall dev` embeds a server"
    )
    mongo_db: str = Field(default="squall", pattern=r"^[A-Za-z0-9_-]{1,63}$")
    topic_prefix: str = Field(default="squall.", pattern=r"^[A-Za-z0-9._-]{0,100}$")
    topic_partitions: int = Field(default=8, ge=1, le=1024)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8989, ge=0, le=65535)
    data_dir: Path = Field(default=Path(".squall"), description="embedded servers' data")
    kafka_fetch_wait_ms: int = Field(
        default=5, ge=1, le=10_000, description="longest a fetch waits for new messages"
    )
    kafka_session_timeout_ms: int = Field(
        default=10_000,
        ge=1_000,
        le=300_000,
        description="how long a silent consumer keeps its partitions; also the join wait",
    )
    engine_batch_max: int = Field(default=500, ge=1, le=10_000)
    executor_concurrency: int = Field(default=100, ge=1, le=10_000)
    action_heartbeat_s: float = Field(default=2.0, gt=0)
    action_stale_after_s: float = Field(default=10.0, gt=0)
    allow_private_networks: bool = False
    action_concurrency: str = Field(
        default="",
        description="most runs at once per action name in one executor, as "
        "`name=N,...` (e.g. `nova.servers_create=5,std.http=50`)",
    )
    action_timeout_s: float = Field(
        default=3600.0,
        gt=0,
        description="timeout of an action whose task sets none and whose name has none in "
        "`action_timeouts`",
    )
    action_timeouts: str = Field(
        default="",
        description="timeout in seconds per action name, for tasks that set none, as "
        "`name=S,...` (e.g. `std.ssh=600,nova.servers_create=120.5`)",
    )
    large_result_bytes: int = Field(
        default=256 * 1024,
        ge=1,
        description="an action output whose JSON is larger is stored in the `results` "
        "collection and sent by reference",
    )
    openstack_cloud: str | None = Field(
        default=None,
        description="clouds.yaml entry OpenStack actions use when their input names none",
    )
    openstack_threads: int = Field(
        default=32, ge=1, le=1024, description="threads running blocking OpenStack SDK calls"
    )
    public_api_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description="the API's address as the services std.mistral_http calls reach it "
        "(e.g. `https://squall.example.com`); it prefixes their Mistral-Callback-URL, "
        "which stays a bare path when unset",
    )
    smtp_ca_file: str | None = Field(
        default=None,
        description="CA bundle std.email verifies SMTP servers with; unset: the system's",
    )
    ssh_known_hosts: str | None = Field(
        default=None,
        description="known_hosts file std.ssh checks host keys against; unset: host keys "
        "are not checked (as in Mistral) and the executor warns at start",
    )
    ssh_key_dir: str = Field(
        default="~/.ssh", description="directory std.ssh `private_key_filename` is relative to"
    )
    timer_stale_claim_s: float = Field(
        default=30.0, gt=0, description="when another timer process takes over an unfinished fire"
    )
    event_retention_days: int = Field(default=30, ge=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    auth_disabled: bool = Field(
        default=False,
        description="true: the API checks no token (development only; `squall dev` sets "
        "it); otherwise every API request needs a token from `squall token create`",
    )
    max_request_body: int = Field(
        default=4 * 1024 * 1024, ge=1024, description="largest API request body in bytes"
    )
    kafka_sources: list[KafkaSource] = Field(
        default_factory=list,
        description="external topics consumed into the events topic (JSON list or TOML tables)",
    )
    failpoint: str | None = Field(
        default=None,
        pattern=r"^engine-after-write:\d+$",
        description="testing only: `engine-after-write:N` kills the engine (SIGKILL) right "
        "after its Nth state write, before it publishes or commits",
    )

    @field_validator("action_concurrency")
    @classmethod
    def _action_limits(cls, value: str) -> str:
        parse_action_limits(value)
        return value

    @field_validator("smtp_ca_file", "ssh_known_hosts")
    @classmethod
    def _existing_file(cls, value: str | None) -> str | None:
        if value is None:
            return None
        path = Path(value).expanduser()
        if not path.is_file():
            raise ValueError(f"no such file: {value}")
        # Expanded here: the SSH and SMTP libraries open the path as given.
        return str(path)

    def action_limits(self) -> dict[str, int]:
        """``action_concurrency`` as a mapping from action name to its limit."""
        return parse_action_limits(self.action_concurrency)

    @field_validator("action_timeouts")
    @classmethod
    def _action_timeouts(cls, value: str) -> str:
        parse_action_timeouts(value)
        return value

    def action_timeout_by_name(self) -> dict[str, float]:
        """``action_timeouts`` as a mapping from action name to its timeout in seconds."""
        return parse_action_timeouts(self.action_timeouts)

    @field_validator("mongo_uri")
    @classmethod
    def _mongo_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("expected a mongodb:// or mongodb+srv:// URI")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Explicit values, then the environment, then the optional TOML file."""
        config_file = os.environ.get(f"{ENV_PREFIX}CONFIG")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)


def parse_action_limits(spec: str) -> dict[str, int]:
    """Parse ``name=N,name=N``; raises ValueError naming the bad entry."""
    return _parse_per_action(spec, _count, "`action.name=N` with N >= 1")


def parse_action_timeouts(spec: str) -> dict[str, float]:
    """Parse ``name=S,name=S`` (seconds); raises ValueError naming the bad entry."""
    return _parse_per_action(spec, _seconds, "`action.name=S` with S seconds > 0")


def _count(text: str) -> int | None:
    return int(text) if text.isdecimal() and int(text) >= 1 else None


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _parse_per_action(spec: str, convert: Callable[[str], T | None], expected: str) -> dict[str, T]:
    """Parse ``name=value,...`` with ``convert`` (None: a bad value)."""
    values: dict[str, T] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        name, sep, text = entry.rpartition("=")
        value = convert(text.strip()) if sep and name.strip() else None
        if value is None:
            raise ValueError(f"expected {expected}, got {entry!r}")
        values[name.strip()] = value
    return values


def load_settings(**overrides: object) -> Settings:
    """Read the settings once, turning any invalid value into a SettingsError naming it."""
    config_file = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if config_file and not Path(config_file).is_file():
        raise SettingsError(f"{ENV_PREFIX}CONFIG: no such file: {config_file}")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            # A URI may carry a password: never echo it.
            got = "" if field == "mongo_uri" else f" (got {err['input']!r})"
            problems.append(f"{ENV_PREFIX}{field.upper()}: {err['msg']}{got}")
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(problems)) from None
