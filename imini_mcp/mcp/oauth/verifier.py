"""Access tokens, verified: a JWT against the issuer's signing keys (RFC 9068), or an opaque token through
RFC 7662 introspection. Either way the token must be issued by the configured authorization server, for
this server (its audience is IMINI_RESOURCE_URL, RFC 8707), and valid now (within the clock skew).

`OAuthVerifier` is the SDK's `TokenVerifier`: None means 401. The person is the token's issuer + subject
(`owner_of`), never the client: one person connected from two assistants is one person.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

import httpx2
import jwt
from mcp.server.auth.provider import AccessToken

from imini_mcp.mcp.oauth.issuer import ALGORITHMS, Issuer, IssuerUnavailable

log = logging.getLogger(__name__)

# RFC 9068's access-token type; "JWT" and no typ at all are what many authorization servers still send.
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt", "jwt"})


def owner_of(issuer: str, subject: str) -> str:
    """The store partition of one person: `sub` is unique only per issuer, so both go in (hashed)."""
    digest = hashlib.sha256(f"imini-mcp oidc\0{issuer}\0{subject}".encode()).hexdigest()
    return "oidc:" + digest[:32]


def token_owner(token: AccessToken) -> str:
    """The owner of a token this module verified (it always carries `iss` and `sub`)."""
    claims = token.claims or {}
    assert token.subject is not None, "verified tokens have a subject"
    assert "iss" in claims, "verified tokens have an issuer"
    return owner_of(str(claims["iss"]), token.subject)


def scopes_of(claims: dict[str, Any]) -> list[str]:
    """`scope` (RFC 9068: space-separated) or `scp` (a list, as some servers send it)."""
    scope = claims.get("scope", claims.get("scp", ""))
    if isinstance(scope, list):
        return [str(s) for s in scope]
    return str(scope).split()


def _audiences(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


class OAuthVerifier:
    """Verifies access tokens for `resource`, issued by `issuer` (see the module docstring)."""

    def __init__(
        self,
        issuer: Issuer,
        resource: str,
        *,
        skew: float = 60.0,
        introspection_url: str | None = None,
        introspection_auth: tuple[str, str] | None = None,
    ) -> None:
        self.issuer = issuer
        self.resource = resource
        self.skew = skew
        self.introspection_url = introspection_url
        self.introspection_auth = introspection_auth

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            if token.count(".") == 2:
                claims = await self._jwt_claims(token)
            elif self.introspection_url is not None:
                claims = await self._introspect(token)
            else:
                return None
        except IssuerUnavailable as exc:
            log.warning("access token not verified: %s", exc)
            return None
        if claims is None:
            return None
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or ""),
            scopes=scopes_of(claims),
            # The SDK drops a token past expires_at with no leeway: the skew is counted in here instead.
            expires_at=int(claims["exp"] + self.skew) if isinstance(claims.get("exp"), int | float) else None,
            resource=self.resource,
            subject=str(claims["sub"]),
            claims={**claims, "iss": self.issuer.issuer},
        )

    async def _jwt_claims(self, token: str) -> dict[str, Any] | None:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return None
        algorithm, typ = header.get("alg"), str(header.get("typ", "jwt")).lower()
        if algorithm not in ALGORITHMS or typ not in ACCESS_TOKEN_TYPES:
            return None
        key = await self.issuer.key(header.get("kid"))
        if key is None:  # not among the issuer's keys, even after reading them again
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self.resource,
                issuer=self.issuer.issuer,
                leeway=self.skew,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            log.info("access token refused: %s", type(exc).__name__)
            return None
        return claims

    async def _introspect(self, token: str) -> dict[str, Any] | None:
        """RFC 7662: the authorization server says whether the token is active, and its claims."""
        assert self.introspection_url is not None
        form = {"token": token, "token_type_hint": "access_token"}
        try:
            if self.introspection_auth is None:
                response = await self.issuer.http.post(self.introspection_url, data=form)
            else:
                response = await self.issuer.http.post(
                    self.introspection_url, data=form, auth=httpx2.BasicAuth(*self.introspection_auth)
                )
            claims = response.json() if response.status_code == 200 else None
        except (httpx2.HTTPError, ValueError) as exc:
            raise IssuerUnavailable(f"introspection failed: {type(exc).__name__}") from exc
        if not isinstance(claims, dict) or claims.get("active") is not True:
            return None
        return claims if self._introspected_ok(claims) else None

    def _introspected_ok(self, claims: dict[str, Any]) -> bool:
        now = time.time()
        if claims.get("iss", self.issuer.issuer) != self.issuer.issuer or not claims.get("sub"):
            return False
        if self.resource not in _audiences(claims.get("aud")):
            return False
        expires, not_before = claims.get("exp"), claims.get("nbf")
        if isinstance(expires, int | float) and expires < now - self.skew:
            return False
        return not (isinstance(not_before, int | float) and not_before > now + self.skew)
