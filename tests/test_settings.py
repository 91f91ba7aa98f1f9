"""Settings come from what the caller passes, then IMINI_* variables, then `.env`, then the defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from imini_mcp.settings import DEFAULT_BASE_URL, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [n for n in os.environ if n.lower().startswith("imini_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # `.env` is read from the working directory


def test_a_variable_sets_its_field_whatever_the_case_of_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMINI_READ_TIMEOUT", "12.5")
    monkeypatch.setenv("imini_simulate", "true")
    settings = Settings()
    assert settings.read_timeout == 12.5
    assert settings.simulate is True


def test_a_value_passed_in_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMINI_PORT", "9000")
    assert Settings(port=8123).port == 8123
    assert "port" in Settings().model_fields_set  # read from the environment counts as set


def test_the_env_file_fills_in_below_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "IMINI_API_KEY=from-file\nIMINI_HOST=0.0.0.0\nOTHER_TOOL_SETTING=ignored\nIMINI_PORT\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("IMINI_HOST", "127.0.0.2")
    settings = Settings()
    assert settings.api_key_value() == "from-file"
    assert settings.host == "127.0.0.2"
    assert settings.port == 8000  # a name without a value is no value
    assert Settings(_env_file=None).api_key is None  # type: ignore[call-arg]


def test_lists_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMINI_ALLOWED_HOSTS", "mcp.example.com, other.example.com,,")
    assert Settings().allowed_hosts == ["mcp.example.com", "other.example.com"]


def test_unset_means_the_defaults() -> None:
    settings = Settings()
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.transport == "stdio"
    assert settings.model_fields_set == set()


def test_a_bad_variable_is_refused_naming_its_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMINI_BASE_URL", "openapi.imini.ai")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert caught.value.errors()[0]["loc"] == ("base_url",)


def test_a_database_url_is_a_secret_and_must_be_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    """IMINI_DATABASE_URL: empty means none, another scheme is refused, and the value is never echoed."""
    monkeypatch.setenv("IMINI_DATABASE_URL", "postgresql://me:pw-x9z@db:5432/imini")
    settings = Settings()
    assert settings.database_url_value() == "postgresql://me:pw-x9z@db:5432/imini"
    assert "pw-x9z" not in repr(settings)
    monkeypatch.setenv("IMINI_DATABASE_URL", "")
    assert Settings().database_url is None
    with pytest.raises(ValidationError) as info:
        Settings(database_url="mysql://me:pw-x9z@db/imini")
    assert "pw-x9z" not in str(info.value)
    assert "must be a PostgreSQL URL" in str(info.value)


def test_the_cli_flag_sets_the_database_url() -> None:
    from imini_mcp.cli import parse_args

    assert parse_args(["--database-url", "postgresql://db/imini"]).database_url == "postgresql://db/imini"


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (
            "api.imini.ai/imini/router",
            "'api.imini.ai/imini/router' has no scheme. Fix: write it with https:// in front: "
            "https://api.imini.ai/imini/router",
        ),
        (
            "ftp://openapi.imini.ai",
            "'ftp://openapi.imini.ai' must start with https:// (or http:// for a local test server). Fix: e.g. "
            f"{DEFAULT_BASE_URL}",
        ),
    ],
)
def test_a_base_url_without_https_is_refused_with_the_fix(given: str, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(base_url=given)
    [error] = caught.value.errors()
    assert (error["loc"], error["msg"]) == (("base_url",), says)
