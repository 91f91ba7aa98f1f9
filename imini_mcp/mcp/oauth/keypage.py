"""The page where a signed-in person connects their imini key: served by imini-mcp itself, so the key goes
from the browser to this server and on to imini only, never through the assistant.

A link carries only an opaque, single-use, short-lived id (connect.py makes it for one issuer + subject). The
page signs the browser in at the same authorization server (signin.py) and serves the form only when that
sign-in is the person the link was made for; anyone else gets a refusal and nothing is stored. The key is
checked with imini (one free read) before it is stored, encrypted (app.KeyVault); then the link is used up.

    GET  /connect/imini-key?e=<link>   no page session: off to sign in; else the form (or 403 / 410)
    GET  /connect/callback             the sign-in's answer: a page session (cookie), back to the link
    POST /connect/imini-key            the key (with the form's CSRF token): checked, stored, link used
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from imini_mcp.app import KeyVault, check_key
from imini_mcp.imini import IminiClient, IminiError
from imini_mcp.mcp.oauth.signin import Person, SignIn, SignInFailed
from imini_mcp.mcp.state import AppState

log = logging.getLogger(__name__)

PAGE_PATH = "/connect/imini-key"
COOKIE = "imini_connect"
SESSION_TTL = 900.0  # seconds a page session lasts
MAX_FORM_BYTES = 8192
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'",
}
STYLE = "body{font-family:system-ui,sans-serif;max-width:34em;margin:3em auto;padding:0 1em;line-height:1.5}"
EXPIRED = (
    "This link has expired or was already used. Ask your assistant again: it will give you a new link.",
    410,
)
WRONG_PERSON = (
    "This link was made for a different account than the one you are signed in with. Nothing was stored. "
    "Sign in with the account you use in your assistant, or ask the assistant for a new link.",
    403,
)


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width"><style>{STYLE}</style></head>'
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def message(text: str, status: int) -> HTMLResponse:
    return page("Connect your imini key", f"<p>{escape(text)}</p>", status)


def form(link_id: str, csrf: str, problem: str | None = None, status: int = 200) -> HTMLResponse:
    note = f'<p role="alert"><strong>{escape(problem)}</strong></p>' if problem else ""
    body = (
        f"{note}<p>Paste your imini API key (from https://imini.ai/api-keys). imini-mcp checks it with imini, "
        "then keeps it encrypted and uses it only for your requests to imini. It is never shown to your "
        "assistant.</p>"
        f'<form method="post" action="{PAGE_PATH}"><input type="hidden" name="e" value="{escape(link_id)}">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        '<label>imini API key <input type="password" name="api_key" autocomplete="off" required></label> '
        '<button type="submit">Connect</button></form>'
    )
    return page("Connect your imini key", body, status)


class KeyPage:
    """The three routes; `app()` is the running server's state (set by the lifespan)."""

    def __init__(self, app: Callable[[], AppState | None]) -> None:
        self._app = app

    def _parts(self) -> tuple[AppState, KeyVault, SignIn]:
        state = self._app()
        if state is None or state.vault is None or state.oauth is None:
            raise RuntimeError("the key page serves only in OAuth mode, once the server has started")
        return state, state.vault, SignIn(state.settings, state.oauth.issuer, state.vault)

    async def show(self, request: Request) -> Response:
        _, vault, signin = self._parts()
        link_id = request.query_params.get("e", "")
        link = await vault.entry("link", link_id) if link_id else None
        if link is None:
            return message(*EXPIRED)
        session = await self._session(request, vault)
        if session is None:
            try:
                return RedirectResponse(await signin.begin(link_id), status_code=303, headers=HEADERS)
            except SignInFailed as exc:
                return message(str(exc), 503)
        if not same_person(session, link):
            return message(*WRONG_PERSON)
        return form(link_id, str(session["csrf"]))

    async def callback(self, request: Request) -> Response:
        _, vault, signin = self._parts()
        try:
            person, link_id = await signin.finish(dict(request.query_params))
        except SignInFailed as exc:
            return message(f"{exc} Open the link from your assistant again.", 400)
        session_id = secrets.token_urlsafe(32)
        data = {"iss": person.issuer, "sub": person.subject, "csrf": secrets.token_urlsafe(32)}
        await vault.put_entry("session", session_id, data, SESSION_TTL)
        response = RedirectResponse(f"{PAGE_PATH}?e={link_id}", status_code=303, headers=HEADERS)
        secure = signin.redirect_uri.startswith("https://")
        response.set_cookie(
            COOKIE,
            session_id,
            max_age=int(SESSION_TTL),
            path="/connect",
            secure=secure,
            httponly=True,
            samesite="lax",
        )
        return response

    async def submit(self, request: Request) -> Response:
        state, vault, _ = self._parts()
        fields = await read_form(request)
        link_id, key = fields.get("e", ""), fields.get("api_key", "").strip()
        session = await self._session(request, vault)
        if session is None:
            return message(
                "Your sign-in on this page has expired. Open the link from your assistant again.", 401
            )
        if not hmac.compare_digest(fields.get("csrf", ""), str(session["csrf"])):
            return message("This form is out of date. Open the link from your assistant again.", 400)
        link = await vault.entry("link", link_id)
        if link is None:
            return message(*EXPIRED)
        if not same_person(session, link):
            return message(*WRONG_PERSON)
        if not key:
            return form(link_id, str(session["csrf"]), "Paste your key first.", 400)
        refused = await self._refusal(state, key)
        if refused is not None:
            return form(link_id, str(session["csrf"]), refused, 400)
        if await vault.use_entry("link", link_id) is None:  # another tab was quicker
            return message(*EXPIRED)
        await vault.save_key(str(link["owner"]), key)
        log.info("an imini key was connected (owner %s)", link["owner"])
        body = (
            f"<p>Your imini key ending in <strong>{escape(key[-4:])}</strong> is connected. You can close this "
            "page and go back to your assistant.</p>"
        )
        return page("Connected", body)

    async def _refusal(self, state: AppState, key: str) -> str | None:
        """Why imini would not take this key, or None."""
        client = IminiClient(state.http, base_url=state.base_url, api_key=key, policy=state.retry)
        try:
            await check_key(client)
        except IminiError as exc:
            if exc.status in (401, 403):
                return f"imini refused this key (HTTP {exc.status}). Check it and paste it again."
            return f"The key could not be checked with imini just now ({exc.message}). Try again in a moment."
        return None

    @staticmethod
    async def _session(request: Request, vault: KeyVault) -> dict[str, Any] | None:
        session_id = request.cookies.get(COOKIE)
        return await vault.entry("session", session_id) if session_id else None


def same_person(session: dict[str, Any], link: dict[str, Any]) -> bool:
    return (session.get("iss"), session.get("sub")) == (link.get("iss"), link.get("sub"))


async def read_form(request: Request) -> dict[str, str]:
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        return {}
    async with request.form(max_fields=10) as fields:
        return {name: value for name, value in fields.items() if isinstance(value, str)}


def routes(page: KeyPage) -> list[tuple[str, list[str], Callable[[Request], Awaitable[Response]]]]:
    """(path, methods, handler) for `MCPServer.custom_route`."""
    return [
        (PAGE_PATH, ["GET"], page.show),
        (PAGE_PATH, ["POST"], page.submit),
        ("/connect/callback", ["GET"], page.callback),
    ]


__all__ = ["PAGE_PATH", "KeyPage", "Person", "routes"]
