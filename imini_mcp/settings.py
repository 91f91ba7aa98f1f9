"""Configuration from the environment (IMINI_*) and an optional `.env` file, validated once at start.

Precedence, highest first: what the caller passes (the CLI's flags), `IMINI_<NAME>` environment variables
(the name in any case), `IMINI_<NAME>` lines of `.env` in the working directory, the defaults. Read here
rather than with pydantic-settings, which costs ~15 ms of every start for what these few lines do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from platformdirs import user_data_path, user_videos_path
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from imini_mcp.request import DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS

DEFAULT_BASE_URL = "https://openapi.imini.ai/imini/router"
ENV_PREFIX = "imini_"  # matched in any case
ENV_FILE = ".env"


def _http_url(value: str) -> str:
    if value.startswith(("https://", "http://")):
        return value.rstrip("/")
    shown = value if len(value) <= 120 else value[:119] + "…"
    if "://" not in value:  # e.g. api.imini.ai/imini/router: a host and path without the scheme
        raise PydanticCustomError(
            "url_scheme",
            "{url} has no scheme. Fix: write it with https:// in front: {fixed}",
            {"url": repr(shown), "fixed": "https://" + shown.lstrip("/")},
        )
    raise PydanticCustomError(
        "url_scheme",
        "{url} must start with https:// (or http:// for a local test server). Fix: e.g. {default}",
        {"url": repr(shown), "default": DEFAULT_BASE_URL},
    )


def _database_url(value: object) -> object:
    # "" (an empty IMINI_DATABASE_URL) means none; the value itself is never put into the message.
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if text is None or text == "":
        return None
    if not isinstance(text, str) or not text.startswith(("postgresql://", "postgres://")):
        raise ValueError("must be a PostgreSQL URL: postgresql://user:password@host:5432/database")
    return value


SECRET_KEY_HINT = 'make one with: python -c "import secrets; print(secrets.token_hex(32))"'


def _secret_keys(value: object) -> object:
    # "new,old": the first seals, every one unseals (rotation). Keys are never put into the message.
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError("must be text: one secret, or several separated by commas")
    keys = [part.strip() for part in text.split(",") if part.strip()]
    if not keys:
        return None
    if any(len(key) < 32 for key in keys):
        raise ValueError(f"each key must be at least 32 characters of secret randomness ({SECRET_KEY_HINT})")
    if len(set(keys)) != len(keys):
        raise ValueError("the same key is listed twice")
    return SecretStr(",".join(keys))


def _comma_list(value: object) -> object:
    # "a.example.com, b.example.com" in an env var is friendlier than JSON
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CommaList = Annotated[list[str], BeforeValidator(_comma_list)]

DEFAULT_OAUTH_SCOPES = ("video:read", "video:generate")


def _optional_url(value: str | None) -> str | None:
    return None if value is None or value == "" else _http_url(value)


def _scope_list(value: object) -> object:
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    return value


def _two_scopes(value: list[str]) -> list[str]:
    if not 1 <= len(value) <= 2:
        raise ValueError(
            "give one or two scope names: the one that reads tasks, then the one that spends credits"
        )
    return value


def default_output_dir() -> Path:
    return user_videos_path() / "imini-mcp"


def default_allowed_roots() -> list[str]:
    # Clients often start servers in "/": a filesystem root as an allowed folder would allow every file.
    roots = [Path.cwd(), Path.home()]
    return list(dict.fromkeys(str(root) for root in roots if root != Path(root.anchor)))


def default_journal_path() -> Path:
    return user_data_path("imini-mcp", appauthor=False) / "journal.sqlite3"


def _prefixed(variables: dict[str, str | None]) -> dict[str, str]:
    """`IMINI_API_KEY=…` → {"api_key": …}; other names, and names without a value, are left out."""
    return {
        name.lower().removeprefix(ENV_PREFIX): value
        for name, value in variables.items()
        if name.lower().startswith(ENV_PREFIX) and value is not None
    }


def _dotenv(path: str | Path | None) -> dict[str, str]:
    if path is None or not Path(path).is_file():
        return {}
    from dotenv import dotenv_values  # only when there is a file to read

    return _prefixed(dotenv_values(path, encoding="utf-8"))


def unvalidated(given: dict[str, Any]) -> dict[str, Any]:
    """What the settings would be built from (`given` over the environment over `.env`), before validation:
    for acting on a configuration that does not validate (e.g. which transport a client expects)."""
    given = dict(given)
    found = {**_dotenv(given.pop("_env_file", ENV_FILE)), **_prefixed(dict(os.environ))}
    return {**{name: value for name, value in found.items() if name in Settings.model_fields}, **given}


class Settings(BaseModel):
    """Every setting, with its environment variable `IMINI_<NAME>` (see the README's table).

    `Settings(**values)` reads the environment and `.env` for what `values` leaves out;
    `_env_file=None` skips `.env` (tests), `_env_file=path` reads another file.
    """

    # hide_input_in_errors: a rejected value (a database URL, a key) is never echoed in an error.
    model_config = ConfigDict(extra="ignore", validate_default=True, hide_input_in_errors=True)

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, data: Any) -> Any:
        return unvalidated(data) if isinstance(data, dict) else data

    api_key: SecretStr | None = Field(
        None,
        description="Your imini API key (https://imini.ai/api-keys). Not needed for dry runs or --simulate.",
    )
    base_url: Annotated[str, AfterValidator(_http_url)] = Field(
        DEFAULT_BASE_URL, description="imini's API base URL; paths like /v1/videos/generate are appended."
    )
    connect_timeout: float = Field(10.0, gt=0, le=120, description="Seconds to open a connection to imini.")
    read_timeout: float = Field(60.0, gt=0, le=600, description="Seconds to wait for one imini answer.")
    simulate: bool = Field(
        False, description="Run against the built-in simulated imini (no key, no credits, fake videos)."
    )
    simulate_seconds: float = Field(
        20.0, gt=0, le=3600, description="How long a simulated task takes from submit to succeeded."
    )
    default_wait_seconds: float = Field(
        DEFAULT_WAIT_SECONDS,
        ge=0,
        le=3600,
        description="How long generate_video/get_task wait for a result when the call does not say (progress is "
        f"sent meanwhile). {DEFAULT_WAIT_SECONDS:g} s fits clients that cut tool calls off at 60 s.",
    )
    max_wait_seconds: float = Field(
        MAX_WAIT_SECONDS,
        ge=0,
        le=3600,
        description="The longest a call waits for a result: a longer wait_seconds is cut to it, and the answer says "
        "so (Claude Desktop stops tool calls at about 4 minutes).",
    )
    journal_path: Path = Field(
        default_factory=default_journal_path,
        description="SQLite task journal (every submitted task, so none is ever lost).",
    )
    database_url: Annotated[SecretStr | None, BeforeValidator(_database_url)] = Field(
        None,
        description="PostgreSQL task store shared by several replicas, postgresql://user:password@host:5432/db "
        "(pip install 'imini-mcp[postgres]'); unset: the SQLite journal.",
    )
    log_level: str = Field("INFO", description="Python log level for stderr logging.")

    # --- files in and out ---
    output_mode: Literal["url", "file", "both"] = Field(
        "url", description="What a finished task gives: imini's URLs, downloaded files, or both."
    )
    output_dir: Path = Field(default_factory=default_output_dir, description="Where downloaded videos go.")
    local_files: bool | None = Field(
        None,
        description="Read local image paths (as reference images). Default: on for stdio, off for HTTP, where a "
        "path would name a file on the server.",
    )
    allowed_roots: CommaList = Field(
        default_factory=default_allowed_roots,
        description="Folders local images may be read from (comma-separated). Default: working directory, home.",
    )
    input_root: Path = Field(
        default_factory=Path.cwd, description="Relative image paths are relative to this."
    )

    def reads_local_files(self) -> bool:
        return self.local_files if self.local_files is not None else self.transport == "stdio"

    # --- remote deployment (streamable HTTP) ---
    transport: Literal["stdio", "streamable-http"] = Field(
        "stdio", description="How clients connect: stdio or streamable-http."
    )
    host: str = Field("127.0.0.1", description="HTTP: address to listen on.")
    port: int = Field(8000, ge=0, le=65535, description="HTTP: port to listen on.")
    mcp_auth_token: SecretStr | None = Field(
        None, description="HTTP: bearer token every request must present; required to listen beyond loopback."
    )
    per_user_keys: bool = Field(
        False,
        description="HTTP: each request carries its own imini key in X-Imini-Api-Key; tasks are partitioned per key.",
    )
    allowed_hosts: CommaList = Field(
        default_factory=list, description="HTTP: extra Host header values to accept (e.g. mcp.example.com)."
    )
    allowed_origins: CommaList = Field(
        default_factory=list,
        description="HTTP: extra Origin header values to accept (e.g. https://app.example.com).",
    )
    max_body_bytes: int = Field(
        60 * 1024 * 1024,
        ge=1024,
        description="HTTP: largest request body accepted (4 inline 10 MB images fit).",
    )

    # --- a fleet: several replicas behind a load balancer, one PostgreSQL store ---
    secret_key: Annotated[SecretStr | None, BeforeValidator(_secret_keys)] = Field(
        None,
        description="One secret shared by every replica (at least 32 characters; for rotation several, "
        "comma-separated, the newest first): it seals the MCP request state, so any replica accepts what "
        "another issued. Required in fleet mode (IMINI_DATABASE_URL with streamable-http).",
    )
    shared_output_dir: bool = Field(
        False,
        description="Fleet mode: IMINI_OUTPUT_DIR is one folder every replica shares (the same volume at the "
        "same path). Without it, fleet mode refuses output_mode file/both.",
    )
    poll_lease_seconds: float = Field(
        10.0,
        ge=1,
        le=300,
        description="How long a server's claim to poll a task lasts unless renewed (every third of it); a "
        "stopped server's tasks are taken over by another after about this long.",
    )

    # --- hosted for many people: an OAuth 2.1 resource server (docs/hosting.md) ---
    oauth_issuer: Annotated[str | None, AfterValidator(_optional_url)] = Field(
        None,
        description="HTTP: the OAuth authorization server people sign in at (its issuer URL; metadata "
        "discovered per RFC 8414 / OpenID discovery). Set: OAuth mode, each person's own tasks and imini key.",
    )
    resource_url: Annotated[str | None, AfterValidator(_optional_url)] = Field(
        None,
        description="OAuth mode: this server's public URL of the MCP endpoint, e.g. https://mcp.example.com/mcp "
        "(the access tokens' audience, RFC 8707).",
    )
    oauth_scopes: Annotated[list[str], BeforeValidator(_scope_list), AfterValidator(_two_scopes)] = Field(
        default_factory=lambda: list(DEFAULT_OAUTH_SCOPES),
        description="OAuth mode: the scope that reads tasks, then the scope that spends credits "
        "(space- or comma-separated; one name: the same scope for both).",
    )
    oauth_introspection_url: Annotated[str | None, AfterValidator(_optional_url)] = Field(
        None,
        description="OAuth mode, opaque access tokens: the RFC 7662 introspection endpoint (JWT access tokens "
        "are verified against the issuer's JWKS without it).",
    )
    oauth_introspection_client_id: str | None = Field(
        None,
        description="OAuth mode: the client id this server authenticates to the introspection endpoint with "
        "(default: IMINI_OAUTH_CLIENT_ID).",
    )
    oauth_introspection_client_secret: SecretStr | None = Field(
        None, description="OAuth mode: its secret (default: IMINI_OAUTH_CLIENT_SECRET)."
    )
    oauth_client_id: str | None = Field(
        None,
        description="OAuth mode: the client the key-connection page signs people in as (unset: it registers "
        "itself where the authorization server allows dynamic registration).",
    )
    oauth_client_secret: SecretStr | None = Field(None, description="OAuth mode: that client's secret.")
    oauth_clock_skew_seconds: float = Field(
        60.0,
        ge=0,
        le=600,
        description="OAuth mode: tolerance for exp / nbf / iat against this server's clock.",
    )

    def oauth_mode(self) -> bool:
        """A resource server for many people: each request's access token says whose call it is. Served over
        streamable HTTP only (stdio is one person's own process: the OAuth settings are ignored there)."""
        return self.oauth_issuer is not None and self.transport == "streamable-http"

    def read_scope(self) -> str:
        return self.oauth_scopes[0]

    def generate_scope(self) -> str:
        return self.oauth_scopes[-1]

    def introspection_credentials(self) -> tuple[str, str] | None:
        """(client id, secret) for the introspection endpoint, or None (then it is called without)."""
        client_id = self.oauth_introspection_client_id or self.oauth_client_id
        secret = self.oauth_introspection_client_secret or self.oauth_client_secret
        if client_id is None or secret is None:
            return None
        return client_id, secret.get_secret_value()

    def fleet_mode(self) -> bool:
        """Several replicas may serve the same clients: a PostgreSQL store (IMINI_DATABASE_URL) served over
        streamable HTTP. stdio is one client's own process, and an SQLite journal one host's, so neither is."""
        return self.database_url is not None and self.transport == "streamable-http"

    def secret_keys(self) -> list[str]:
        """IMINI_SECRET_KEY's keys, the sealing one first; [] when unset."""
        return self.secret_key.get_secret_value().split(",") if self.secret_key else []

    def api_key_value(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key else None

    def database_url_value(self) -> str | None:
        return self.database_url.get_secret_value() if self.database_url else None
