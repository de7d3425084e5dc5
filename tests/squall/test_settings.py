"""Settings: read once from SQUALL_* variables and an optional TOML file."""

from __future__ import annotations

from pathlib import Path

import pytest

from squall.settings import SettingsError, load_settings


def test_environment_variables_configure_squall(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQUALL_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("SQUALL_HTTP_PORT", "9000")
    monkeypatch.setenv("SQUALL_TOPIC_PREFIX", "prod.")
    settings = load_settings()
    assert settings.kafka_bootstrap == "kafka:9092"
    assert settings.http_port == 9000
    assert settings.topic_prefix == "prod."


def test_a_wrong_value_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQUALL_HTTP_PORT", "eighty")
    with pytest.raises(SettingsError, match="SQUALL_HTTP_PORT"):
        load_settings()


def test_an_unknown_log_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQUALL_LOG_LEVEL", "CHATTY")
    with pytest.raises(SettingsError, match="SQUALL_LOG_LEVEL"):
        load_settings()


def test_a_bad_mongo_uri_is_refused_without_echoing_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SQUALL_MONGO_URI", "postgres://admin:hunter2@db:5432")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "SQUALL_MONGO_URI" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_toml_file_is_read_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "squall.toml"
    config.write_text('http_port = 7000\ntopic_prefix = "file."\n')
    monkeypatch.setenv("SQUALL_CONFIG", str(config))
    monkeypatch.setenv("SQUALL_TOPIC_PREFIX", "env.")
    settings = load_settings()
    assert settings.http_port == 7000
    assert settings.topic_prefix == "env."


def test_a_missing_config_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SQUALL_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(SettingsError, match="SQUALL_CONFIG"):
        load_settings()


def test_an_unknown_key_in_the_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "squall.toml"
    config.write_text("htp_port = 1\n")
    monkeypatch.setenv("SQUALL_CONFIG", str(config))
    with pytest.raises(SettingsError, match="SQUALL_HTP_PORT"):
        load_settings()
