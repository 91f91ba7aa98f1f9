"""The authorization server as this server sees it: its metadata (RFC 8414, or OpenID discovery) and its
signing keys (the JWKS), cached, refreshed when a token names a key id not seen yet (key rotation).

One `Issuer` per server: the access-token verifier and the key page's own sign-in share it, and with it one
HTTP client (opened on first use, closed by the lifespan).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio
import httpx2
import jwt

log = logging.getLogger(__name__)

# Asymmetric algorithms only: the keys come from a public JWKS, so an HMAC "key" would be public knowledge
# (the algorithm-confusion attack), and "none" is no signature at all.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
KEYS_MAX_AGE = 3600.0  # seconds: the JWKS is read again after this, rotation or not
UNKNOWN_KID_COOLDOWN = 30.0  # seconds between refreshes caused by unknown key ids (no refresh storm)
METADATA_PATHS = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")


class IssuerUnavailable(Exception):
    """The authorization server's metadata or keys could not be read."""


class Issuer:
    """An authorization server's metadata and signing keys, read once and cached."""

    def __init__(self, issuer: str, *, timeout: float = 10.0) -> None:
        self.issuer = issuer
        self._timeout = timeout
        self._http: httpx2.AsyncClient | None = None
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._keys_read_at = -KEYS_MAX_AGE
        self._lock = anyio.Lock()

    @property
    def http(self) -> httpx2.AsyncClient:
        if self._http is None:
            self._http = httpx2.AsyncClient(timeout=self._timeout, follow_redirects=False)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def metadata(self) -> dict[str, Any]:
        """The authorization server's metadata; its `issuer` must be exactly the configured one (RFC 8414 §3.3)."""
        if self._metadata is not None:
            return self._metadata
        for path in METADATA_PATHS:
            candidates = [self.issuer + path]
            base, _, rest = self.issuer.partition("://")
            host, slash, tenant = rest.partition("/")
            if slash:  # RFC 8414 §3.1: an issuer with a path puts the well-known part before it
                candidates.insert(0, f"{base}://{host}{path}/{tenant}")
            for url in candidates:
                document = await self._get_json(url)
                if document is not None and document.get("issuer") == self.issuer:
                    self._metadata = document
                    return document
        raise IssuerUnavailable(f"no authorization server metadata for {self.issuer}")

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        """The signing key with this key id (refreshing the JWKS once when the id is new), or None."""
        async with self._lock:
            now = time.monotonic()
            stale = now - self._keys_read_at > KEYS_MAX_AGE
            unknown = kid not in self._keys and now - self._keys_read_at > UNKNOWN_KID_COOLDOWN
            if stale or unknown:
                await self._read_keys()
            if kid is None and len(self._keys) == 1:  # a JWKS of one key may leave kid out
                return next(iter(self._keys.values()))
            return self._keys.get(kid)

    async def _read_keys(self) -> None:
        jwks_uri = (await self.metadata()).get("jwks_uri")
        document = await self._get_json(str(jwks_uri)) if jwks_uri else None
        if document is None:
            raise IssuerUnavailable(f"the signing keys of {self.issuer} could not be read")
        keys: dict[str | None, jwt.PyJWK] = {}
        for entry in document.get("keys", []):
            if entry.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK.from_dict(entry)
            except jwt.PyJWTError:  # a key type or curve this library cannot use: skip it, keep the others
                continue
            keys[key.key_id] = key
        self._keys, self._keys_read_at = keys, time.monotonic()

    async def _get_json(self, url: str) -> dict[str, Any] | None:
        try:
            response = await self.http.get(url, headers={"Accept": "application/json"})
        except httpx2.HTTPError as exc:
            log.warning("reading %s failed: %s", url, type(exc).__name__)
            return None
        if response.status_code != 200:
            return None
        try:
            document = response.json()
        except ValueError:
            return None
        return document if isinstance(document, dict) else None
