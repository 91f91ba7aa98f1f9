"""Serving imini-mcp over streamable HTTP: bearer auth, DNS-rebinding protection, a body limit, /healthz,
stateless legacy sessions and fleet-mode checks (any replica serves any request), and a graceful shutdown
that hands waiting callers their task ids instead of cutting them off."""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Callable

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from imini_mcp.imini import ConfigurationError
from imini_mcp.mcp.oauth import install
from imini_mcp.settings import SECRET_KEY_HINT, Settings

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/healthz"})  # health checks carry no credentials
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    if host in ("localhost", "::1", "[::1]"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """Refuse to serve beyond this machine without a token: anyone who can reach it could spend credits."""
    if not is_loopback(settings.host) and settings.mcp_auth_token is None and not settings.oauth_mode():
        raise ConfigurationError(
            f"Refusing to listen on {settings.host} without authentication",
            next_step="Set IMINI_MCP_AUTH_TOKEN to a long random string (clients send it as "
            "'Authorization: Bearer <token>'), or IMINI_OAUTH_ISSUER (OAuth sign-in), or listen on 127.0.0.1.",
        )


def check_oauth(settings: Settings) -> None:
    """OAuth mode (IMINI_OAUTH_ISSUER) needs its resource URL and a server secret, and replaces the other
    ways of saying whose call it is."""
    if not settings.oauth_mode():
        return
    problem, fix = None, ""
    if settings.resource_url is None:
        problem = "without IMINI_RESOURCE_URL"
        fix = "Set IMINI_RESOURCE_URL to this server's public MCP URL, e.g. https://mcp.example.com/mcp."
    elif settings.mcp_auth_token is not None or settings.per_user_keys:
        problem = "with IMINI_MCP_AUTH_TOKEN or IMINI_PER_USER_KEYS as well"
        fix = "Use one mode: unset those two (OAuth sign-in says whose call it is), or unset IMINI_OAUTH_ISSUER."
    elif not settings.secret_keys():
        problem = "without IMINI_SECRET_KEY"
        fix = f"Set IMINI_SECRET_KEY: it encrypts the stored imini keys and signs the key page's sessions ({SECRET_KEY_HINT})."
    if problem is not None:
        raise ConfigurationError(
            f"Refusing to start in OAuth mode (IMINI_OAUTH_ISSUER) {problem}", next_step=fix
        )


def check_fleet(settings: Settings) -> None:
    """Fleet mode (`Settings.fleet_mode`: IMINI_DATABASE_URL over streamable HTTP) needs what replicas share:
    one secret for the SDK's request state, and, to save files, one output folder."""
    if not settings.fleet_mode():
        return
    if not settings.secret_keys():
        raise ConfigurationError(
            "Refusing to start as a fleet replica (IMINI_DATABASE_URL with the streamable-http transport) "
            "without IMINI_SECRET_KEY",
            next_step="Set IMINI_SECRET_KEY to one secret shared by every replica, at least 32 characters "
            f"({SECRET_KEY_HINT}); for rotation list several, comma-separated, the newest first.",
        )
    if settings.output_mode != "url" and not settings.shared_output_dir:
        raise ConfigurationError(
            f"Refusing to start as a fleet replica with IMINI_OUTPUT_MODE={settings.output_mode}: files would "
            f"be saved in {settings.output_dir} on one replica only",
            next_step="Mount one folder on every replica at the same path, point IMINI_OUTPUT_DIR at it and "
            "set IMINI_SHARED_OUTPUT_DIR=true; or set IMINI_OUTPUT_MODE=url.",
        )


class BearerAuth:
    """Pure ASGI (safe with SSE streaming): every request but PUBLIC_PATHS needs the bearer token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in PUBLIC_PATHS:
            header = dict(scope["headers"]).get(b"authorization", b"")
            scheme, _, value = header.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(value.strip(), self.token):
                body = (
                    b'{"error": "unauthorized", "hint": "send Authorization: Bearer <IMINI_MCP_AUTH_TOKEN>"}'
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b'Bearer realm="imini-mcp"'),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """DNS-rebinding protection: loopback names always, plus the configured public names."""
    hosts = [*LOOPBACK_HOSTS, *(f"{h}:*" for h in LOOPBACK_HOSTS), *settings.allowed_hosts]
    origins = [f"http://{h}:*" for h in LOOPBACK_HOSTS] + [f"http://{h}" for h in LOOPBACK_HOSTS]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=origins + settings.allowed_origins,
    )


def build_http_app(server: MCPServer, settings: Settings) -> ASGIApp:
    # In a fleet, stateless_http: a 2025-11-25 client's requests may reach any replica (no session lives in
    # one process's memory); imini-mcp makes no server-to-client requests, the only thing that would need one.
    # A single server keeps legacy sessions: their GET stream and per-session cancellation work as specified.
    # 2026-07-28 requests have no sessions in any case.
    app = server.streamable_http_app(
        stateless_http=settings.fleet_mode(),
        transport_security=transport_security(settings),
        max_request_body_size=settings.max_body_bytes,
        host=settings.host,
    )
    if settings.mcp_auth_token is not None:
        app.add_middleware(BearerAuth, token=settings.mcp_auth_token.get_secret_value())
    if server.settings.auth is not None:  # OAuth mode (mcp/oauth/)
        install(app, server.settings.auth, settings)
    return app


class _GracefulServer(uvicorn.Server):
    """On SIGTERM/SIGINT, first release waiting tool calls (they return their task ids), then stop."""

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_stop = on_stop

    def handle_exit(self, sig: int, frame: object) -> None:
        self._on_stop()
        super().handle_exit(sig, frame)  # type: ignore[arg-type]


async def serve_http(server: MCPServer, settings: Settings, on_stop: Callable[[], None]) -> None:
    check_exposure(settings)
    check_fleet(settings)
    check_oauth(settings)
    config = uvicorn.Config(
        build_http_app(server, settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=15,
        lifespan="on",
    )
    log.info("imini-mcp listening on http://%s:%d/mcp", settings.host, settings.port)
    await _GracefulServer(config, on_stop).serve()
