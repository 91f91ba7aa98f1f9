"""The HTTP transport to imini, built on first use so a client's first tools/list never pays for it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx2


class LazyTransport(httpx2.AsyncBaseTransport):
    """Builds the real transport (and parses the CA bundle, ~30 ms) on the first upstream request, not at
    start-up: a client's first tools/list never needs it. ``before_request`` runs before every request
    (the lazily started simulator)."""

    def __init__(self, before_request: Callable[[], Awaitable[None]] | None = None) -> None:
        self._transport: httpx2.AsyncHTTPTransport | None = None
        self._before_request = before_request

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._before_request is not None:
            await self._before_request()
        if self._transport is None:
            self._transport = httpx2.AsyncHTTPTransport()
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()
