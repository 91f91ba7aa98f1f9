"""Cross-tenant, in OAuth mode: two people signed in at the same authorization server, one shared upstream key
(the simulated imini answers any key for any task). Bob can never read, wait on, cancel or replay Alice's task
by any route (tools, the task resource, its media, MCP Tasks in both eras, a legacy session id): to him it does
not exist, though imini itself would answer for it."""

from __future__ import annotations

from typing import Any, Literal

import httpx2
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import Request

from tests.oauth.conftest import Upstream
from tests.oauth.connector import Connector
from tests.oauth.harness import AuthServer, access_token
from tests.tasks_client import Ack, TaskRef, TasksClientExtension, cancel_task, get_task, raw

pytestmark = pytest.mark.anyio
ARGS = {"prompt": "alice's lighthouse", "idempotency_key": "same-key-for-both"}


async def alices_task(client: Client, mode: str) -> str:
    """Alice's generate_video as an MCP task, followed to its end; its id (MCP task id = imini task id)."""
    if mode == "legacy":
        created = await raw(client, "tools/call", {"name": "generate_video", "arguments": ARGS, "task": {}})
        task_id = str(created["task"]["taskId"])
        await raw(client, "tasks/result", {"taskId": task_id})
        return task_id
    result = await client.call_tool("generate_video", ARGS)  # resolved through tasks/get by the extension
    return str(result.structured_content["task"]["task_id"])


async def refused(call: Any) -> str:
    """The text of a tool error or a protocol error; fails if the call succeeded."""
    try:
        result = await call
    except MCPError as exc:
        return f"MCPError {exc.error.code}: {exc.error.message}"
    assert result.is_error, f"succeeded: {result.structured_content}"
    return str(result.content[0].text)


class TasksUpdate(Request[TaskRef, Literal["tasks/update"]]):
    method: Literal["tasks/update"] = "tasks/update"
    params: TaskRef
    name_param = "taskId"


async def bobs_attempts(bob: Client, task_id: str, mode: str) -> dict[str, str]:
    seen = {
        "get_task": await refused(bob.call_tool("get_task", {"task_id": task_id})),
        "get_task waiting": await refused(bob.call_tool("get_task", {"task_id": task_id, "wait_seconds": 5})),
        "resource": await refused(bob.read_resource(f"imini://tasks/{task_id}")),
        "video": await refused(bob.read_resource(f"imini://tasks/{task_id}/video/1")),
    }
    if mode == "legacy":
        for method in ("tasks/get", "tasks/cancel", "tasks/result"):
            seen[method] = await refused(raw(bob, method, {"taskId": task_id}))
    else:  # typed requests: the SDK adds the 2026-07-28 envelope
        seen["tasks/get"] = await refused(get_task(bob, task_id))
        seen["tasks/cancel"] = await refused(cancel_task(bob, task_id))
        update = TasksUpdate(params=TaskRef(task_id=task_id))
        seen["tasks/update"] = await refused(bob.session.send_request(update, Ack))
    return seen


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_two_people_every_route_no_leak(oauth_server: Any, upstream: Upstream, mode: str) -> None:
    async with oauth_server() as served:
        alice, bob = Connector(served, "alice"), Connector(served, "bob")
        extensions = {"extensions": [TasksClientExtension()]} if mode == "auto" else {}
        try:
            async with alice.session(served, mode, **extensions) as alice_client:
                task_id = await alices_task(alice_client, mode)
                async with bob.session(served, mode, **extensions) as bob_client:
                    seen = await bobs_attempts(bob_client, task_id, mode)
                    bobs_list = await bob_client.call_tool("list_tasks", {})
                    legacy_list = await raw(bob_client, "tasks/list") if mode == "legacy" else {"tasks": []}
                    replay = await bob_client.call_tool("generate_video", ARGS | {"wait_seconds": 0})
                after = await alice_client.call_tool("get_task", {"task_id": task_id})
                alices_list = await alice_client.call_tool("list_tasks", {})
        finally:
            await alice.aclose()
            await bob.aclose()
    for route, text in seen.items():
        assert task_id in text or "Unknown task" in text or "No journalled task" in text, (route, text)
        assert "lighthouse" not in text, route  # nothing of Alice's request shows
    assert "among your tasks" in seen["get_task"]
    assert "among your tasks" in seen["get_task waiting"]
    assert bobs_list.structured_content["tasks"] == []
    assert legacy_list["tasks"] == []
    bobs_task = replay.structured_content["task"]["task_id"]
    assert bobs_task != task_id  # the same idempotency key in Bob's partition is Bob's own new task
    assert not replay.structured_content.get("replayed")
    assert not after.is_error
    assert after.structured_content["status"] == "succeeded"  # Bob's cancel changed nothing
    assert [t["task_id"] for t in alices_list.structured_content["tasks"]] == [task_id]
    assert upstream.sim.ledger.submits_received == 2
    # What Bob was spared: imini itself answers for Alice's task to anyone holding the shared key.
    async with httpx2.AsyncClient() as http:
        direct = await http.get(
            f"{upstream.url}/v1/videos/tasks/{task_id}", headers={"Authorization": "Bearer bob"}
        )
    assert direct.status_code == 200


async def test_a_legacy_session_is_bound_to_its_person(oauth_server: Any, auth_server: AuthServer) -> None:
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    listing = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "list_tasks", "arguments": {}},
    }
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    async with oauth_server() as served, httpx2.AsyncClient() as http:
        alice = await access_token(auth_server, served.resource, "alice")
        bob = await access_token(auth_server, served.resource, "bob")
        opened = await http.post(
            f"{served.base}/mcp", json=init, headers=headers | {"Authorization": f"Bearer {alice}"}
        )
        session = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "Mcp-Protocol-Version": "2025-11-25"}
        hijack = await http.post(
            f"{served.base}/mcp", json=listing, headers=headers | session | {"Authorization": f"Bearer {bob}"}
        )
    assert opened.status_code == 200
    assert hijack.status_code == 404  # the SDK binds a session to (client, issuer, subject)
