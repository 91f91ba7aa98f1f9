"""What the simulator answers besides success: the error envelope, fault answers, and streamed bodies."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import anyio
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from imini_mcp.simulator.config import MODEL, Fault, SimulatedConnectionReset

_DEFAULT_CODES = {
    400: "INVALID_PARAMETER",
    401: "UNAUTHORIZED",
    402: "INSUFFICIENT_CREDITS",
    403: "FORBIDDEN",
    404: "TASK_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    502: "UPSTREAM_ERROR",
    503: "UPSTREAM_ERROR",
    504: "UPSTREAM_ERROR",
}
_DEFAULT_MESSAGES = {
    400: "Invalid request parameters",
    401: "Authentication failed: API key missing, invalid or revoked",
    402: "Insufficient credits: balance cannot cover this call",
    403: "Forbidden: insufficient permission or quota exhausted",
    404: "Task does not exist or has expired",
    429: "Rate limit exceeded for this account",
    500: "Internal platform error, please retry later",
    502: "Upstream model service error",
    503: "Upstream model service unavailable",
    504: "Upstream model service timed out",
}

_PROXY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z, like ``2026-04-11T07:17:39.146Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def request_id() -> str:
    """A fresh ``request_id`` for a poll answer or an error envelope."""
    return f"req_{uuid.uuid4().hex[:24]}"


def _default_code(status: int) -> str:
    if status in _DEFAULT_CODES:
        return _DEFAULT_CODES[status]
    return "UPSTREAM_ERROR" if status >= 502 else "INTERNAL_ERROR" if status >= 500 else "REQUEST_ERROR"


def error_response(
    status: int, code: str | None = None, message: str | None = None, *, retry_after: float | None = None
) -> JSONResponse:
    """The section-6.1 error envelope."""
    envelope = {
        "error": {
            "code": code or _default_code(status),
            "message": message or _DEFAULT_MESSAGES.get(status, f"HTTP {status}"),
            "status": status,
            "request_id": request_id(),
        }
    }
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
    return JSONResponse(envelope, status_code=status, headers=headers)


def fault_response(fault: Fault, partial: dict[str, Any]) -> Response:
    """Answer for the response-only fault kinds; ``partial`` is a plausible but incomplete body."""
    if fault.kind == "status":
        return error_response(fault.status, fault.code, fault.message, retry_after=fault.retry_after)
    if fault.kind == "html":
        return Response(_PROXY_HTML, status_code=502, media_type="text/html")
    if fault.kind == "malformed_json":
        text = json.dumps({**partial, "request_id": request_id()})
        return Response(text[: max(1, len(text) // 2)], media_type="application/json")  # cut mid-token
    if fault.kind == "missing_fields":
        return JSONResponse({"model": MODEL, "request_id": request_id()})
    if fault.kind == "reset":
        return ResetAfterHeaders(len(json.dumps({**partial, "request_id": request_id()})))
    raise AssertionError(f"fault kind {fault.kind!r} is not a response fault")  # pragma: no cover


async def http_exception(request: Request, exc: Exception) -> Response:
    """Routing errors (unknown path, wrong method) also use the envelope."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = "NOT_FOUND" if status == 404 else None
    return error_response(status, code, f"{request.method} {request.url.path}: {getattr(exc, 'detail', '')}")


class BodyResponse(Response):
    """Streams a body of known length chunk by chunk; optionally drops the connection halfway.

    Written by hand (not StreamingResponse) so the "reset" fault can raise after a partial body and
    so a client disconnect stops a huge synthetic stream instead of generating it for nobody.
    """

    def __init__(
        self, chunks: Callable[[], Iterator[bytes]], length: int, media_type: str, abort_halfway: bool
    ) -> None:
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self._chunks = chunks
        self._length = length
        self._abort_after = length // 2 if abort_halfway else None
        self.raw_headers = [
            (b"content-type", media_type.encode("latin-1")),
            (b"content-length", str(length).encode("latin-1")),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if scope.get("method") == "HEAD":  # headers only; don't generate a body nobody will get
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        aborted = False
        async with anyio.create_task_group() as tg:

            async def stop_on_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                tg.cancel_scope.cancel()

            tg.start_soon(stop_on_disconnect)
            sent = 0
            for chunk in self._chunks():
                if self._abort_after is not None and sent + len(chunk) >= self._abort_after:
                    if self._abort_after > sent:
                        part = chunk[: self._abort_after - sent]
                        await send({"type": "http.response.body", "body": part, "more_body": True})
                    aborted = True
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                sent += len(chunk)
            else:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            tg.cancel_scope.cancel()
        if aborted:  # raised outside the task group so it is not wrapped in an ExceptionGroup
            raise SimulatedConnectionReset(f"simulated reset after {self._abort_after}/{self._length} bytes")


class ResetAfterHeaders(Response):
    """Sends the headers of a JSON answer, then drops the connection (a "reset" API fault)."""

    def __init__(self, would_be_length: int) -> None:
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(would_be_length).encode("latin-1")),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        raise SimulatedConnectionReset("simulated reset after response headers")
