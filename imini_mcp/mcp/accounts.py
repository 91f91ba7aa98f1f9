"""Whose call this is: the one place tools, the task resource and MCP Tasks turn a request into an `Account`.

Single-user mode (stdio, or HTTP with one key): the configured key, store owner "". Per-user HTTP mode:
the key in the request's X-Imini-Api-Key header, used for that request only and never stored; the store
partition is a hash of it. OAuth mode: the verified access token's issuer + subject is the owner, and only
that owner's own task ids exist for them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from mcp.server.auth.middleware.auth_context import get_access_token

from imini_mcp.app import Account
from imini_mcp.imini import ConfigurationError, IminiClient
from imini_mcp.mcp.oauth import token_owner
from imini_mcp.mcp.state import AppState

USER_KEY_HEADER = "x-imini-api-key"


def no_key() -> ConfigurationError:
    """OAuth mode: what a call that needs imini says to a person with no key connected."""
    return ConfigurationError(
        "No imini API key is connected for you yet",
        next_step='Call imini_key with {"action": "connect"} and open the page it gives to connect your imini '
        "key (generate_video asks for it by itself), then try again.",
    )


def owner_for_key(api_key: str) -> str:
    """The store partition of one imini key: a hash, so the key itself is never stored."""
    return "user:" + hashlib.sha256(b"imini-mcp owner\0" + api_key.encode()).hexdigest()[:32]


async def account_for_request(state: AppState, headers: Mapping[str, str]) -> Account:
    """Whose call this is. Per-user HTTP mode: the key in the request header, used for this request only."""
    if state.settings.oauth_mode():
        return await oauth_account(state)
    if not state.settings.per_user_keys:
        return state.account
    api_key = headers.get(USER_KEY_HEADER, "").strip()
    if not api_key:
        raise ConfigurationError(
            "This server runs in per-user mode and the request carried no imini API key",
            next_step="Configure your MCP client to send your key in the X-Imini-Api-Key header.",
        )
    client = IminiClient(state.http, base_url=state.base_url, api_key=api_key, policy=state.retry)
    return Account(owner=owner_for_key(api_key), client=client)


async def oauth_account(state: AppState) -> Account:
    """OAuth mode: the person the request's verified access token names (the SDK's auth context)."""
    token = get_access_token()
    if token is None:  # the SDK lets no unauthenticated request through to a handler; defence in depth
        raise ConfigurationError(
            "This server signs people in with OAuth and the request carried no verified access token",
            next_step="Reconnect the connector so that it signs you in again.",
        )
    owner, client = token_owner(token), state.account.client  # the server's shared key, if it has one
    key = await state.vault.key_for(owner) if state.vault is not None else None
    if key is not None or not client.has_key:
        client = IminiClient(
            state.http, base_url=state.base_url, api_key=key, policy=state.retry, no_key=no_key
        )
    return Account(owner=owner, client=client, journal_only=True)
