"""A hosted assistant's connector, as the tests drive it: the MCP SDK's own OAuth client (discovery, dynamic
registration, authorization code + PKCE, refresh), with a headless browser signing one person in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urljoin

import httpx2
from mcp import Client
from mcp import types as mcp_types
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from pydantic import AnyUrl

from tests.oauth.conftest import Served
from tests.oauth.harness import Browser

REDIRECT = "http://127.0.0.1:1/oauth/callback"


class Memory:
    """The SDK's TokenStorage, in memory; remembers every token it was given."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None
        self.issued: list[str] = []

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.issued.append(tokens.access_token)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Connector:
    """An MCP client as a hosted assistant's connector: the SDK's OAuthClientProvider, with `browser` signing
    the person in when it opens the authorization URL."""

    def __init__(self, served: Served, person: str, key: str | None = None) -> None:
        self.key = key  # what the person pastes on the key page when asked (URL elicitation)
        self.elicited: list[mcp_types.ElicitRequestParams] = []
        self.pages: list[httpx2.Response] = []
        self.browser = Browser(person)
        self.storage = Memory()
        self._landed: dict[str, str] = {}
        self.provider = OAuthClientProvider(
            server_url=served.resource,
            client_metadata=OAuthClientMetadata(
                client_name=f"connector of {person}",
                redirect_uris=[AnyUrl(REDIRECT)],
                grant_types=["authorization_code", "refresh_token"],
            ),
            storage=self.storage,
            redirect_handler=self._open,
            callback_handler=self._callback,
        )

    async def _open(self, url: str) -> None:
        self._landed = await self.browser.authorize(url, REDIRECT)

    async def _callback(self) -> AuthorizationCodeResult:
        landed = self._landed
        return AuthorizationCodeResult(code=landed["code"], state=landed.get("state"), iss=landed.get("iss"))

    async def elicitation(
        self, context: Any, params: mcp_types.ElicitRequestParams
    ) -> mcp_types.ElicitResult:
        """The person opens the page the server asks for and pastes their key (or declines: no key)."""
        self.elicited.append(params)
        if self.key is None or not isinstance(params, mcp_types.ElicitRequestURLParams):
            return mcp_types.ElicitResult(action="decline")
        self.pages.append(await submit_key(self.browser, await open_page(self.browser, params.url), self.key))
        return mcp_types.ElicitResult(action="accept")

    @asynccontextmanager
    async def session(self, served: Served, mode: str, **options: Any) -> AsyncIterator[Client]:
        http = httpx2.AsyncClient(auth=self.provider, timeout=httpx2.Timeout(30.0, read=120.0))
        transport = streamable_http_client(served.resource, http_client=http)
        async with http, Client(transport, mode=mode, **options) as client:  # type: ignore[arg-type]
            yield client

    async def aclose(self) -> None:
        await self.browser.aclose()


async def open_page(browser: Browser, url: str) -> httpx2.Response:
    """Open a key-page link, following the sign-in through to the page it ends on."""
    landed = await browser.follow(url, stop_at="never://")
    assert isinstance(landed, httpx2.Response)
    return landed


def form_fields(page: httpx2.Response) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))


async def submit_key(browser: Browser, page: httpx2.Response, key: str) -> httpx2.Response:
    """Paste `key` into the form `page` shows, and send it."""
    assert 'name="csrf"' in page.text, page.text  # a page with the form (200, or 400 saying what was wrong)
    action = urljoin(str(page.url), "/connect/imini-key")
    return await browser.http.post(action, data=form_fields(page) | {"api_key": key})
