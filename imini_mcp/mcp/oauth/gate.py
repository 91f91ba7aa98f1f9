"""Scopes per tool, at the HTTP edge: a `tools/call` that spends credits needs the generate scope, everything
else the read scope (which the SDK already requires of every request). A token without what its call needs
gets `403 insufficient_scope` naming the scopes, so the client can ask the person for more (step-up); the
SDK's own 401/403 get the `scope=` parameter it leaves out (the MCP authorization spec's SHOULD).

Pure ASGI, so SSE responses stream through untouched. Installed as the innermost middleware, after the SDK's
authentication has put the verified token in `scope["user"]`.
"""

from __future__ import annotations

import json
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imini_mcp.settings import Settings

SPENDING_TOOLS = frozenset({"generate_video"})  # a dry run of these spends nothing: read scope only


def needed_scopes(settings: Settings, rpc: Any) -> list[str]:
    """The scopes one JSON-RPC message needs (a list of messages: all of theirs)."""
    read, generate = settings.read_scope(), settings.generate_scope()
    messages = rpc if isinstance(rpc, list) else [rpc]
    needed = [read]
    for message in messages:
        if not isinstance(message, dict) or message.get("method") != "tools/call":
            continue
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        arguments = params.get("arguments")
        arguments = arguments if isinstance(arguments, dict) else {}
        if str(params.get("name")) in SPENDING_TOOLS and arguments.get("dry_run") is not True:
            needed.append(generate)
    return list(dict.fromkeys(needed))


def challenge(error: str, description: str, scopes: list[str], metadata_url: str) -> bytes:
    return (
        f'Bearer error="{error}", error_description="{description}", '
        f'scope="{" ".join(scopes)}", resource_metadata="{metadata_url}"'
    ).encode()


class ScopeGate:
    """See the module docstring. `metadata_url`: this server's RFC 9728 document."""

    def __init__(self, app: ASGIApp, settings: Settings, metadata_url: str, path: str = "/mcp") -> None:
        self.app = app
        self.settings = settings
        self.metadata_url = metadata_url
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        user = scope.get("user")
        if scope["method"] == "POST" and isinstance(user, AuthenticatedUser):
            body = await self._read_body(receive, send)
            if body is None:
                return
            try:
                rpc = json.loads(body) if body else None
            except ValueError:
                rpc = None  # the SDK answers a parse error itself
            needed = needed_scopes(self.settings, rpc)
            missing = [s for s in needed if s not in user.scopes]
            if missing:
                await self._forbid(send, needed, missing)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, self._with_scope(send))

    def _with_scope(self, send: Send) -> Send:
        """The SDK's 401/403 challenge, with every scope a connector needs (asked for up front)."""
        all_scopes = list(dict.fromkeys(self.settings.oauth_scopes))

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (401, 403):
                headers = []
                for name, value in message.get("headers", []):
                    if name.lower() == b"www-authenticate" and b"scope=" not in value:
                        value += f', scope="{" ".join(all_scopes)}"'.encode()
                    headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        return sending

    async def _read_body(self, receive: Receive, send: Send) -> bytes | None:
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.settings.max_body_bytes:
                await _respond(send, 413, [], b'{"error": "request body too large"}')
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _forbid(self, send: Send, needed: list[str], missing: list[str]) -> None:
        purpose = (
            "Spending imini credits" if self.settings.generate_scope() in missing else "Using this server"
        )
        description = f"{purpose} needs the scope {' '.join(missing)}"
        body = json.dumps({"error": "insufficient_scope", "error_description": description}).encode()
        header = challenge("insufficient_scope", description, needed, self.metadata_url)
        await _respond(send, 403, [(b"www-authenticate", header)], body)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # the original: http.disconnect when the client goes away

    return replay


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": start + headers})
    await send({"type": "http.response.body", "body": body})
