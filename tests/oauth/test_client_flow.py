"""The MCP SDK's own OAuth client against imini-mcp and the loopback authorization server, headless, in both
protocol eras: 401 → RFC 9728 document → authorization server metadata → dynamic registration →
authorization code + PKCE (signed in as the browser's person) → token → calls; then a token refresh."""

from __future__ import annotations

import time
from typing import Any

import pytest

from imini_mcp.mcp.oauth import owner_of
from imini_mcp.store import SqliteTaskStore
from tests.oauth.connector import Connector
from tests.oauth.harness import AuthServer

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_sdk_client_signs_in_calls_and_refreshes(
    oauth_server: Any, auth_server: AuthServer, mode: str
) -> None:
    async with oauth_server() as served:
        connector = Connector(served, "alice")
        try:
            async with connector.session(served, mode) as client:
                dry = await client.call_tool("generate_video", {"prompt": "a kite", "dry_run": True})
                submitted = await client.call_tool("generate_video", {"prompt": "a kite over the sea"})
                connector.provider.context.token_expiry_time = time.time() - 1  # the next request refreshes
                listed = await client.call_tool("list_tasks", {})
        finally:
            await connector.aclose()
        store = SqliteTaskStore(served.settings.journal_path)
        owners = {r.owner for r in store.list_tasks(owner_of(auth_server.issuer, "alice"))}
        store.close()
    assert not dry.is_error
    assert not submitted.is_error, submitted.content
    task_id = submitted.structured_content["task"]["task_id"]
    assert [t["task_id"] for t in listed.structured_content["tasks"]] == [task_id]
    assert len(connector.storage.issued) == 2  # signed in once, refreshed once
    assert len(set(connector.storage.issued)) == 2
    assert owners == {owner_of(auth_server.issuer, "alice")}  # the person: issuer + subject
