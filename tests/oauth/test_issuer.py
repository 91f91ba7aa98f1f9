"""The issuer's metadata and keys: discovered per RFC 8414 (issuer with a path too), cached, and read again when a
token names a key id not seen yet (rotation), at most every 30 s."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from imini_mcp.mcp.oauth import Issuer, OAuthVerifier
from imini_mcp.mcp.oauth import issuer as issuer_module

pytestmark = pytest.mark.anyio
ISSUER = "https://login.example.com/tenant"
RESOURCE = "https://mcp.example.com/mcp"


class FakeServer:
    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.requests: list[str] = []

    def add_key(self, kid: str) -> rsa.RSAPrivateKey:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self.keys[kid]

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request.url.path)
        if request.url.path.startswith("/.well-known/"):  # whatever is asked, it says it is ISSUER
            return httpx2.Response(200, json={"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"})
        if request.url.path == "/tenant/jwks":
            keys = [
                json.loads(RSAAlgorithm.to_jwk(k.public_key())) | {"kid": kid, "use": "sig"}
                for kid, k in self.keys.items()
            ]
            return httpx2.Response(200, json={"keys": keys})
        return httpx2.Response(404)


def token(key: rsa.RSAPrivateKey, kid: str, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": RESOURCE, "sub": "alice", "exp": now + 60, "scope": "video:read"} | claims
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid, "typ": "at+jwt"})


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeServer, OAuthVerifier]:
    server = FakeServer()
    issuer = Issuer(ISSUER)
    issuer._http = httpx2.AsyncClient(transport=httpx2.MockTransport(server.handle))
    return server, OAuthVerifier(issuer, RESOURCE)


async def test_a_rotated_key_is_picked_up_on_its_first_token(
    world: tuple[FakeServer, OAuthVerifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, verifier = world
    first = server.add_key("k1")
    assert await verifier.verify_token(token(first, "k1")) is not None
    assert server.requests == ["/.well-known/oauth-authorization-server/tenant", "/tenant/jwks"]
    assert await verifier.verify_token(token(first, "k1")) is not None  # cached: no request
    assert len(server.requests) == 2

    second = server.add_key("k2")  # the issuer rotates
    assert await verifier.verify_token(token(second, "k2")) is None  # within the cooldown: not read again
    monkeypatch.setattr(issuer_module, "UNKNOWN_KID_COOLDOWN", 0.0)
    verified = await verifier.verify_token(token(second, "k2"))
    assert verified is not None
    assert verified.subject == "alice"
    assert verified.scopes == ["video:read"]
    assert server.requests[-1] == "/tenant/jwks"
    await verifier.issuer.aclose()


async def test_metadata_naming_another_issuer_is_not_trusted(world: tuple[FakeServer, OAuthVerifier]) -> None:
    server, verifier = world
    key = server.add_key("k1")
    other = "https://login.example.com/other"
    configured = Issuer(other)  # its metadata answers with issuer ISSUER (RFC 8414 §3.3: refuse it)
    configured._http = verifier.issuer.http
    assert await OAuthVerifier(configured, RESOURCE).verify_token(token(key, "k1", iss=other)) is None
    assert "/tenant/jwks" not in server.requests  # its keys were never trusted
    await verifier.issuer.aclose()
