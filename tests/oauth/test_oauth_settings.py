"""OAuth mode's settings: the names deployments rely on, and the combinations the server refuses to start with."""

from __future__ import annotations

from typing import Any

import pytest

from imini_mcp.imini import ConfigurationError
from imini_mcp.mcp.http import check_exposure, check_oauth
from imini_mcp.settings import Settings

SECRET = "a-server-secret-of-at-least-32-characters"


def settings(**values: Any) -> Settings:
    base = {
        "transport": "streamable-http",
        "oauth_issuer": "https://login.example.com",
        "resource_url": "https://mcp.example.com/mcp",
        "secret_key": SECRET,
    }
    return Settings(_env_file=None, **(base | values))  # type: ignore[call-arg]


def test_the_documented_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "IMINI_OAUTH_ISSUER": "https://login.example.com/tenant",
        "IMINI_RESOURCE_URL": "https://mcp.example.com/mcp",
        "IMINI_OAUTH_SCOPES": "imini.read, imini.spend",
        "IMINI_OAUTH_INTROSPECTION_URL": "https://login.example.com/tenant/introspect",
        "IMINI_OAUTH_CLIENT_ID": "imini-web",
        "IMINI_OAUTH_CLIENT_SECRET": "web-secret",
        "IMINI_TRANSPORT": "streamable-http",
    }.items():
        monkeypatch.setenv(name, value)
    loaded = Settings(_env_file=None)  # type: ignore[call-arg]
    assert loaded.oauth_mode()
    assert (loaded.read_scope(), loaded.generate_scope()) == ("imini.read", "imini.spend")
    assert loaded.introspection_credentials() == ("imini-web", "web-secret")  # the client's, unless its own
    assert loaded.oauth_issuer == "https://login.example.com/tenant"


def test_one_scope_serves_for_both_and_stdio_ignores_oauth() -> None:
    one = settings(oauth_scopes="mcp")
    assert (one.read_scope(), one.generate_scope()) == ("mcp", "mcp")
    assert not settings(transport="stdio").oauth_mode()
    with pytest.raises(ValueError, match="one or two scope names"):
        settings(oauth_scopes="a b c")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param({"resource_url": None}, "IMINI_RESOURCE_URL", id="no resource URL"),
        pytest.param({"secret_key": None}, "IMINI_SECRET_KEY", id="no server secret"),
        pytest.param({"mcp_auth_token": "t" * 40}, "one mode", id="with a shared bearer token"),
        pytest.param({"per_user_keys": True}, "one mode", id="with per-user key headers"),
    ],
)
def test_oauth_mode_refuses_to_start_half_configured(values: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        check_oauth(settings(**values))
    assert expected in str(raised.value) + (raised.value.next_step or "")


def test_oauth_mode_may_listen_beyond_loopback() -> None:
    check_oauth(settings())
    check_exposure(settings(host="0.0.0.0"))
