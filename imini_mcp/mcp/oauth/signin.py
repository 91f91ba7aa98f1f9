"""The key page's own sign-in: an OpenID Connect authorization code flow with PKCE at the same authorization
server the connector signs in at (so the browser usually passes straight through), as a confidential client.

The client is IMINI_OAUTH_CLIENT_ID / IMINI_OAUTH_CLIENT_SECRET, or, without them, one the page registers
itself (RFC 7591) where the server allows it, kept in the task store so every replica uses the same one. The
answer is trusted only after the checks: `state` is a single-use entry, `iss` is the issuer (RFC 9207), and the
ID token is signed by the issuer's keys, for this client, with the nonce this sign-in sent.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx2
import jwt

from imini_mcp.app import KeyVault
from imini_mcp.mcp.oauth.issuer import ALGORITHMS, Issuer
from imini_mcp.settings import Settings

CALLBACK_PATH = "/connect/callback"
LOGIN_TTL = 600.0  # seconds from leaving for the authorization server to coming back
REGISTERED_TTL = 10 * 365 * 24 * 3600.0  # a registered client is kept (its entry is only ever read)


class SignInFailed(Exception):
    """The sign-in's answer is not to be trusted (the message says why, for the page)."""


@dataclass(frozen=True)
class Person:
    issuer: str
    subject: str


def public_origin(settings: Settings) -> str:
    """scheme://host[:port] of IMINI_RESOURCE_URL: where the key page is served."""
    assert settings.resource_url is not None
    scheme, _, rest = settings.resource_url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


class SignIn:
    """Starts sign-ins (`begin`) and finishes them (`finish`), with state kept in the vault."""

    def __init__(self, settings: Settings, issuer: Issuer, vault: KeyVault) -> None:
        self.settings = settings
        self.issuer = issuer
        self.vault = vault
        self.redirect_uri = public_origin(settings) + CALLBACK_PATH

    async def begin(self, link_id: str) -> str:
        """A new sign-in for the key link `link_id`: the authorization URL to send the browser to."""
        client_id, client_secret = await self._client()
        state, nonce, verifier = (
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(48),
        )
        entry = {"link": link_id, "nonce": nonce, "verifier": verifier, "client": [client_id, client_secret]}
        await self.vault.put_entry("login", state, entry, LOGIN_TTL)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        endpoint = (await self.issuer.metadata())["authorization_endpoint"]
        return f"{endpoint}?{urlencode(query)}"

    async def finish(self, params: dict[str, str]) -> tuple[Person, str]:
        """The signed-in person and the key link their sign-in was for."""
        login = await self.vault.use_entry("login", params.get("state", ""))
        if login is None:
            raise SignInFailed("This sign-in has expired or was already used.")
        metadata = await self.issuer.metadata()
        returned_iss = params.get("iss")
        if returned_iss is not None and returned_iss != self.issuer.issuer:
            raise SignInFailed("The sign-in came back from another server.")
        if returned_iss is None and metadata.get("authorization_response_iss_parameter_supported"):
            raise SignInFailed("The sign-in came back without naming its server.")
        if "code" not in params:
            raise SignInFailed(f"The sign-in did not complete ({params.get('error', 'no code')}).")
        client_id, client_secret = login["client"]
        tokens = await self._exchange(metadata, params["code"], login["verifier"], client_id, client_secret)
        claims = await self._id_token(str(tokens.get("id_token", "")), client_id)
        if claims.get("nonce") != login["nonce"]:
            raise SignInFailed("The sign-in answer was not for this sign-in.")
        return Person(self.issuer.issuer, str(claims["sub"])), str(login["link"])

    async def _exchange(
        self, metadata: dict[str, Any], code: str, verifier: str, client_id: str, secret: str | None
    ) -> dict[str, Any]:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        form["code_verifier"] = verifier
        try:
            if secret is None:
                response = await self.issuer.http.post(
                    metadata["token_endpoint"], data=form | {"client_id": client_id}
                )
            else:
                auth = httpx2.BasicAuth(client_id, secret)
                response = await self.issuer.http.post(metadata["token_endpoint"], data=form, auth=auth)
            answer = response.json()
        except (httpx2.HTTPError, ValueError) as exc:
            raise SignInFailed("The sign-in server could not be reached; try again.") from exc
        if response.status_code != 200 or not isinstance(answer, dict):
            raise SignInFailed("The sign-in server refused to complete the sign-in.")
        return answer

    async def _id_token(self, token: str, client_id: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            algorithm = header.get("alg")
            key = await self.issuer.key(header.get("kid")) if algorithm in ALGORITHMS else None
            if key is None:
                raise SignInFailed("The sign-in answer is not signed by the sign-in server.")
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[str(algorithm)],
                audience=client_id,
                issuer=self.issuer.issuer,
                leeway=self.settings.oauth_clock_skew_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise SignInFailed("The sign-in answer did not check out.") from exc
        return claims

    async def _client(self) -> tuple[str, str | None]:
        """The page's client: configured, or registered once (RFC 7591) and shared through the store."""
        if self.settings.oauth_client_id is not None:
            secret = self.settings.oauth_client_secret
            return self.settings.oauth_client_id, secret.get_secret_value() if secret else None
        registered = await self.vault.entry("client", self.redirect_uri)
        if registered is None:
            registered = await self._register()
            await self.vault.put_entry("client", self.redirect_uri, registered, REGISTERED_TTL)
        return str(registered["client_id"]), registered.get("client_secret")

    async def _register(self) -> dict[str, Any]:
        endpoint = (await self.issuer.metadata()).get("registration_endpoint")
        if not endpoint:
            raise SignInFailed(
                "This server has no sign-in client: its operator must set IMINI_OAUTH_CLIENT_ID and "
                "IMINI_OAUTH_CLIENT_SECRET (the authorization server does not allow registration)."
            )
        metadata = {
            "client_name": "imini-mcp key page",
            "redirect_uris": [self.redirect_uri],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
            "application_type": "web",
        }
        try:
            response = await self.issuer.http.post(str(endpoint), json=metadata)
            answer = response.json()
        except (httpx2.HTTPError, ValueError) as exc:
            raise SignInFailed("The sign-in server could not be reached; try again.") from exc
        if response.status_code not in (200, 201) or "client_id" not in answer:
            raise SignInFailed("The sign-in server refused to register this server's key page.")
        return {"client_id": answer["client_id"], "client_secret": answer.get("client_secret")}
