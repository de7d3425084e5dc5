"""One typed settings object, read once from ``SQUALL_*`` variables and an optional TOML file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from triggers.kafka_sources.config import KafkaSource

ENV_PREFIX = "SQUALL_"


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
    action_timeout_s: float | None = Field(
        default=None, gt=0, description="timeout of an action whose task sets none"
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

    def action_limits(self) -> dict[str, int]:
        """``action_concurrency`` as a mapping from action name to its limit."""
        return parse_action_limits(self.action_concurrency)

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
    limits: dict[str, int] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        name, sep, count = entry.rpartition("=")
        if not sep or not name.strip() or not count.strip().isdigit() or int(count) < 1:
            raise ValueError(f"expected `action.name=N` with N >= 1, got {entry!r}")
        limits[name.strip()] = int(count)
    return limits


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
