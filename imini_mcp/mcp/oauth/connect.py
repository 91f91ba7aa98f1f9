"""Asking a signed-in person for their imini key, when a call needs one and none is on file: a link to the key
page (keypage.py), made for this issuer + subject, single-use and valid for 10 minutes.

Where the client declares URL-mode elicitation the link is an elicitation: 2026-07-28 returns it as an input
request (the client retries the call with the answer), 2025-11-25 pushes `elicitation/create` on the session
and goes on once the key has arrived (then `notifications/elicitation/complete`). Any other client gets a tool
error carrying the same link (safe to show: the page signs the person in and accepts only them). The key itself
never passes through here.
"""

from __future__ import annotations

import secrets

import anyio
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import Context
from mcp_types import ElicitRequest, ElicitRequestURLParams, ElicitResult, InputRequiredResult
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from imini_mcp.app import Account
from imini_mcp.imini import ConfigurationError, IminiClient
from imini_mcp.mcp.oauth.keypage import PAGE_PATH
from imini_mcp.mcp.oauth.signin import public_origin
from imini_mcp.mcp.oauth.verifier import token_owner
from imini_mcp.mcp.state import AppState

LINK_TTL = 600.0  # seconds a key link stays valid
WAIT_FOR_KEY = 20.0  # seconds a call waits for the key once the person agreed to open the page
KEY_POLL = 0.25  # seconds between looks for it meanwhile
INPUT_KEY = "imini_key"  # the input request's key in a 2026-07-28 InputRequiredResult
MESSAGE = (
    "Connect your imini API key to imini video. The page signs you in, checks the key with imini and keeps it "
    "encrypted; the key goes to imini only, never through this conversation."
)


async def key_link(state: AppState) -> str:
    """A new link to the key page for the person of this request."""
    token = get_access_token()
    assert token is not None, "an authenticated request"
    assert state.vault is not None, "OAuth mode"
    claims = token.claims or {}
    link_id = state.vault.new_id()
    person = {"owner": token_owner(token), "iss": claims.get("iss"), "sub": token.subject}
    await state.vault.purge()  # used and expired links, sign-ins and sessions go as new ones come
    await state.vault.put_entry("link", link_id, person, LINK_TTL)
    return f"{public_origin(state.settings)}{PAGE_PATH}?e={link_id}"


def needs_key(url: str) -> ConfigurationError:
    return ConfigurationError(
        "No imini API key is connected for you yet",
        next_step=f"Open {url} to connect your imini key (the link works once, for 10 minutes), then call "
        "generate_video again.",
    )


def declined() -> ConfigurationError:
    return ConfigurationError(
        "Connecting an imini key was declined: nothing was submitted",
        next_step="Call generate_video again when you want to connect your key (a dry run needs none).",
    )


async def with_key(ctx: Context, state: AppState, account: Account) -> Account | InputRequiredResult:
    """`account` when it can pay (OAuth mode: the person's own key, or the server's shared one); otherwise what
    asks the person for their key (see the module docstring). Raises a tool error when it cannot ask."""
    if account.client.has_key or state.vault is None:
        return account
    capabilities = ctx.client_capabilities
    url_mode = bool(capabilities and capabilities.elicitation and capabilities.elicitation.url)
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        answer = (ctx.input_responses or {}).get(INPUT_KEY)
        if isinstance(answer, ElicitResult):
            return await _after_answer(state, account, answer.action)
        if not url_mode:
            raise needs_key(await key_link(state))
        ask = ElicitRequest(params=ElicitRequestURLParams(message=MESSAGE, url=await key_link(state)))
        return InputRequiredResult(input_requests={INPUT_KEY: ask}, request_state="awaiting-imini-key")
    url = await key_link(state)
    if not url_mode:
        raise needs_key(url)
    elicitation_id = secrets.token_urlsafe(16)
    answer_url = await ctx.elicit_url(MESSAGE, url, elicitation_id)
    found = await _after_answer(state, account, answer_url.action)
    await ctx.request_context.session.send_elicit_complete(elicitation_id)
    return found


async def _after_answer(state: AppState, account: Account, action: str) -> Account:
    """The person answered the elicitation: accepted means they opened the page, not that they finished."""
    if action != "accept":
        raise declined()
    assert state.vault is not None
    for _ in range(int(WAIT_FOR_KEY / KEY_POLL)):  # the page's POST may land on any replica: the store tells
        key = await state.vault.key_for(account.owner)
        if key is not None:
            client = IminiClient(state.http, base_url=state.base_url, api_key=key, policy=state.retry)
            return Account(owner=account.owner, client=client, journal_only=account.journal_only)
        await anyio.sleep(KEY_POLL)
    raise needs_key(await key_link(state))


__all__ = ["INPUT_KEY", "key_link", "with_key"]
