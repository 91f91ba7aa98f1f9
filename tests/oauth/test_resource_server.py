"""imini-mcp as an OAuth 2.1 resource server, against a real authorization server on loopback: the RFC 9728
document, the 401 challenge, and a table of bad tokens, each with its exact status and WWW-Authenticate."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.oauth.conftest import Served
from tests.oauth.harness import AuthServer, access_token, authorization_server, tampered, token_response

pytestmark = pytest.mark.anyio

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def submit_call(dry_run: bool) -> dict[str, Any]:
    arguments = {"prompt": "a kite", "dry_run": dry_run}
    return {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "generate_video", "arguments": arguments},
    }


def unauthorized(served: Served) -> str:
    return (
        'Bearer error="invalid_token", error_description="Authentication required", '
        f'resource_metadata="{served.base}/.well-known/oauth-protected-resource/mcp", '
        'scope="video:read video:generate"'
    )


def part(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any]) -> str:
    return f"{part({'alg': 'none', 'typ': 'at+jwt', 'kid': 'test-rs256'})}.{part(claims)}."


async def test_protected_resource_metadata_lists_the_issuer_and_both_scopes(
    oauth_server: Any, auth_server: AuthServer
) -> None:
    async with oauth_server() as served, httpx2.AsyncClient() as http:
        document = await http.get(f"{served.base}/.well-known/oauth-protected-resource/mcp")
        challenged = await http.post(f"{served.base}/mcp", json=INIT, headers=MCP_HEADERS)
        health = await http.get(f"{served.base}/healthz")
    assert document.status_code == 200
    assert document.json() == {
        "resource": served.resource,
        "authorization_servers": [auth_server.issuer],
        "scopes_supported": ["video:read", "video:generate"],
        "bearer_methods_supported": ["header"],
        "resource_name": "imini video",
    }
    assert challenged.status_code == 401
    assert challenged.headers["www-authenticate"] == unauthorized(served)
    assert health.status_code == 200  # no token for load balancers


Forge = Callable[[AuthServer, str], Awaitable[str | None]]


async def _none(server: AuthServer, resource: str) -> str | None:
    return None


async def _malformed(server: AuthServer, resource: str) -> str | None:
    return "not.a-token.at-all"


async def _opaque_without_introspection(server: AuthServer, resource: str) -> str | None:
    return "opaque-token-nobody-can-check"


async def _expired(server: AuthServer, resource: str) -> str | None:
    now = int(time.time())
    return server.sign(server.claims(resource, iat=now - 4000, exp=now - 3600))


async def _not_yet_valid(server: AuthServer, resource: str) -> str | None:
    return server.sign(server.claims(resource, nbf=int(time.time()) + 3600))


async def _wrong_issuer(server: AuthServer, resource: str) -> str | None:
    return server.sign(server.claims(resource, iss="http://127.0.0.1:1"))


async def _wrong_audience(server: AuthServer, resource: str) -> str | None:
    return await access_token(server, "http://127.0.0.1:2/mcp")  # a real token, for another resource


async def _unsigned(server: AuthServer, resource: str) -> str | None:
    return unsigned(server.claims(resource))


async def _unknown_key(server: AuthServer, resource: str) -> str | None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return server.sign(server.claims(resource), key=other, headers={"kid": "someone-elses"})


async def _foreign_key_known_kid(server: AuthServer, resource: str) -> str | None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return server.sign(server.claims(resource), key=other)


async def _hmac_with_public_key(server: AuthServer, resource: str) -> str | None:
    """The algorithm-confusion attack: HS256 "signed" with the issuer's public key as the shared secret."""
    public = server.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = (
        f"{part({'alg': 'HS256', 'typ': 'at+jwt', 'kid': 'test-rs256'})}.{part(server.claims(resource))}"
    )
    mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


async def _tampered(server: AuthServer, resource: str) -> str | None:
    return tampered(await access_token(server, resource), sub="bob")


async def _no_subject(server: AuthServer, resource: str) -> str | None:
    return server.sign(server.claims(resource, sub=None))


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(_none, id="no token"),
        pytest.param(_malformed, id="malformed"),
        pytest.param(_opaque_without_introspection, id="opaque, no introspection configured"),
        pytest.param(_expired, id="expired"),
        pytest.param(_not_yet_valid, id="not yet valid (nbf)"),
        pytest.param(_wrong_issuer, id="wrong issuer"),
        pytest.param(_wrong_audience, id="wrong audience (a real token for another resource)"),
        pytest.param(_unsigned, id="unsigned (alg none)"),
        pytest.param(_unknown_key, id="signed with an unknown key"),
        pytest.param(_foreign_key_known_kid, id="another key under the issuer's kid"),
        pytest.param(_hmac_with_public_key, id="HS256 with the public key as secret"),
        pytest.param(_tampered, id="tampered payload"),
        pytest.param(_no_subject, id="no subject"),
    ],
)
async def test_bad_tokens_get_401_with_the_challenge(
    oauth_server: Any, auth_server: AuthServer, forge: Forge
) -> None:
    async with oauth_server() as served, httpx2.AsyncClient() as http:
        token = await forge(auth_server, served.resource)
        auth = {} if token is None else {"Authorization": f"Bearer {token}"}
        response = await http.post(f"{served.base}/mcp", json=INIT, headers=MCP_HEADERS | auth)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == unauthorized(served)
    assert response.json()["error"] == "invalid_token"


async def test_a_real_token_is_accepted_and_own_tokens_within_the_skew_too(
    oauth_server: Any, auth_server: AuthServer
) -> None:
    async with oauth_server() as served, httpx2.AsyncClient() as http:
        real = await access_token(auth_server, served.resource)
        now = int(time.time())
        late = auth_server.sign(auth_server.claims(served.resource, exp=now - 20, iat=now - 600))
        answers = [
            await http.post(
                f"{served.base}/mcp", json=INIT, headers=MCP_HEADERS | {"Authorization": f"Bearer {t}"}
            )
            for t in (real, late)
        ]
    assert [a.status_code for a in answers] == [200, 200]


async def test_scopes_per_tool_403_names_what_is_needed(oauth_server: Any, auth_server: AuthServer) -> None:
    async with oauth_server() as served, httpx2.AsyncClient() as http:
        metadata = f"{served.base}/.well-known/oauth-protected-resource/mcp"
        read_only = await access_token(auth_server, served.resource, scope="video:read")
        headers = MCP_HEADERS | {"Authorization": f"Bearer {read_only}"}
        submit = await http.post(f"{served.base}/mcp", json=submit_call(dry_run=False), headers=headers)
        dry_run = await http.post(f"{served.base}/mcp", json=submit_call(dry_run=True), headers=headers)
        no_read = auth_server.sign(auth_server.claims(served.resource, scope="video:generate"))
        nothing = await http.post(
            f"{served.base}/mcp", json=INIT, headers=MCP_HEADERS | {"Authorization": f"Bearer {no_read}"}
        )
    assert submit.status_code == 403
    assert submit.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", error_description="Spending imini credits needs the scope '
        f'video:generate", scope="video:read video:generate", resource_metadata="{metadata}"'
    )
    assert submit.json()["error"] == "insufficient_scope"
    assert dry_run.status_code != 403  # a dry run spends nothing: the read scope is enough
    assert nothing.status_code == 403
    assert nothing.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", error_description="Using this server needs the scope video:read", '
        f'scope="video:read", resource_metadata="{metadata}"'
    )


async def test_opaque_tokens_are_introspected_and_revocation_is_seen(
    oauth_server: Any, tmp_path: Any
) -> None:
    with authorization_server(tmp_path, ACCESS_TOKEN_FORMAT="opaque") as opaque_as:
        async with (
            oauth_server(
                issuer=opaque_as,
                oauth_introspection_url=f"{opaque_as.issuer}/token/introspection",
                oauth_client_id="imini-rs",
                oauth_client_secret="rs-secret",
            ) as served,
            httpx2.AsyncClient() as http,
        ):
            issued = await token_response(opaque_as, served.resource)
            token = issued["access_token"]
            assert token.count(".") != 2  # opaque indeed
            headers = MCP_HEADERS | {"Authorization": f"Bearer {token}"}
            before = await http.post(f"{served.base}/mcp", json=INIT, headers=headers)
            revoked = await http.post(
                f"{opaque_as.issuer}/token/revocation",
                data={"token": token, "token_type_hint": "access_token", "client_id": issued["client_id"]},
            )
            after = await http.post(f"{served.base}/mcp", json=INIT, headers=headers)
    assert before.status_code == 200
    assert revoked.status_code == 200
    assert after.status_code == 401
    assert after.headers["www-authenticate"] == unauthorized(served)
