"""MCP Tasks: generate_video as a task that outlives the call, in the 2026-07-28 extension form (SEP-2663)
and the 2025-11-25 experimental form, with the journal as the task store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError
from mcp.server.extension import MethodBinding
from mcp_types.methods import SPEC_CLIENT_METHODS
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from imini_mcp.app import JOB_KEY
from imini_mcp.mcp.tasks import EXTENSION_ID
from imini_mcp.simulator import Fault
from imini_mcp.store import SqliteTaskStore
from tests.conftest import Backend
from tests.tasks_client import TasksClientExtension, cancel_task, get_task, raw

pytestmark = pytest.mark.anyio
PROMPT = {"prompt": "a lighthouse in a storm"}


async def _wait_status(client: Client, task_id: str, *statuses: str, legacy: bool = False) -> Any:
    for _ in range(500):
        task = await (raw(client, "tasks/get", {"taskId": task_id}) if legacy else get_task(client, task_id))
        status = task["status"] if legacy else task.status
        if status in statuses:
            return task
        await anyio.sleep(0.01)
    raise AssertionError(f"task {task_id} never reached {statuses}")


# -- 2026-07-28 (SEP-2663) ---------------------------------------------------------------------------


async def test_modern_call_returns_a_handle_at_once_and_the_client_gets_the_video(
    make_server: Any, backend: Backend
) -> None:
    tasks = TasksClientExtension()
    async with Client(make_server(), extensions=[tasks]) as client:
        discovered = client.server_capabilities
        result = await client.call_tool("generate_video", PROMPT)
    assert discovered is not None
    assert EXTENSION_ID in (discovered.extensions or {})
    handle = tasks.handles[0]
    assert handle.status == "working"
    assert handle.task_id.startswith("task_")  # the MCP task id is the imini task id
    assert handle.ttl_ms == 24 * 3600 * 1000
    assert handle.poll_interval_ms == 5000
    assert "imini status" in (handle.status_message or "")
    assert not result.is_error
    assert result.structured_content["task"]["status"] == "succeeded"
    assert result.structured_content["task"]["task_id"] == handle.task_id
    assert any(c.type == "resource_link" for c in result.content)
    assert backend.submits == 1


async def test_modern_tasks_get_reports_progress_in_status_message(make_server: Any) -> None:
    async with Client(make_server(), extensions=[TasksClientExtension()]) as client:
        handle = await client.session.call_tool("generate_video", PROMPT, allow_claimed=True)
        working = await get_task(client, handle.task_id)
        done = await _wait_status(client, handle.task_id, "completed")
    assert working.status == "working"
    assert "since submit" in (working.status_message or "")
    assert done.result is not None
    assert done.result["structuredContent"]["task"]["videos"][0]["url"].endswith(".mp4")


async def test_modern_invalid_request_is_an_immediate_error_with_no_task(
    make_server: Any, backend: Backend
) -> None:
    tasks = TasksClientExtension()
    async with Client(make_server(), extensions=[tasks]) as client:
        result = await client.call_tool("generate_video", {"prompt": "p", "duration": 99})
    assert result.is_error
    assert "duration:" in result.content[0].text
    assert tasks.handles == []
    assert len(backend.sim.ledger) == 0


async def test_modern_failed_imini_task_is_a_failed_mcp_task(make_server: Any, backend: Backend) -> None:
    backend.sim.add_fault(Fault("submit", "fail_task", code="CONTENT_BLOCKED", message="output flagged"))
    async with Client(make_server(), extensions=[TasksClientExtension()]) as client:
        handle = await client.session.call_tool("generate_video", PROMPT, allow_claimed=True)
        failed = await _wait_status(client, handle.task_id, "failed")
    assert "CONTENT_BLOCKED" in (failed.status_message or "")
    assert failed.error is not None
    assert "output flagged" in failed.error["message"]
    assert failed.error["data"]["imini_error"]["code"] == "CONTENT_BLOCKED"


async def test_modern_task_imini_forgets_is_a_failed_mcp_task(make_server: Any, backend: Backend) -> None:
    """A task imini answered for once and then 404s (expired there) ends the MCP task as failed, with the reason."""
    async with Client(make_server(), extensions=[TasksClientExtension()]) as client:
        handle = await client.session.call_tool("generate_video", PROMPT, allow_claimed=True)
        with anyio.fail_after(5):
            while backend.polls(handle.task_id) == 0:  # the background job has seen it at imini
                await anyio.sleep(0.01)
        backend.sim.add_fault(Fault("poll", "expire_task", task_id=handle.task_id))
        failed = await _wait_status(client, handle.task_id, "failed")
    assert "imini no longer knows task" in (failed.status_message or "")
    assert failed.error is not None
    assert failed.error["data"]["imini_error"]["code"] == "TASK_NOT_FOUND"


async def test_modern_cancel_stops_following_but_keeps_the_task(
    make_server: Any, backend: Backend, journal_path: Path
) -> None:
    async with Client(make_server(), extensions=[TasksClientExtension()]) as client:
        handle = await client.session.call_tool("generate_video", PROMPT, allow_claimed=True)
        ack = await cancel_task(client, handle.task_id)
        cancelled = await get_task(client, handle.task_id)
        again = await cancel_task(client, handle.task_id)  # idempotent
        listed = await client.call_tool("list_tasks", {})
        checked = await client.call_tool("get_task", {"task_id": handle.task_id, "wait_seconds": 300})
    empty_ack = {"resultType": "complete"}  # the SEP-2663 ack: nothing but the result type
    assert ack.model_dump(exclude={"meta"}, exclude_none=True, by_alias=True) == empty_ack
    assert again.model_dump(exclude={"meta"}, exclude_none=True, by_alias=True) == empty_ack
    assert cancelled.status == "cancelled"
    assert "may still complete and be billed" in (cancelled.status_message or "")
    assert listed.structured_content["tasks"][0]["task_id"] == handle.task_id
    assert checked.structured_content["status"] == "succeeded"  # imini finished it anyway


async def test_modern_without_the_extension_is_a_plain_call(make_server: Any) -> None:
    seen: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    async with Client(make_server()) as client:
        result = await client.call_tool(
            "generate_video", PROMPT | {"wait_seconds": 300}, progress_callback=on_progress
        )
        with pytest.raises(MCPError) as caught:
            await get_task(client, result.structured_content["task"]["task_id"])
    assert result.structured_content["task"]["status"] == "succeeded"
    assert seen
    assert caught.value.code == -32021  # tasks/get without declaring the extension


async def test_modern_removed_methods_and_unknown_ids(make_server: Any) -> None:
    async with Client(make_server(), extensions=[TasksClientExtension()]) as client:
        for method in ("tasks/result", "tasks/list"):
            with pytest.raises(MCPError) as caught:
                await raw(client, method, {"taskId": "task_1"})
            assert caught.value.code == -32601
        with pytest.raises(MCPError) as unknown:
            await get_task(client, "task_404")
    assert unknown.value.code == -32602


async def test_an_expired_task_handle_is_gone_but_the_video_task_is_not(
    make_server: Any, journal_path: Path
) -> None:
    async with Client(make_server(), extensions=[TasksClientExtension()]) as client:
        handle = await client.session.call_tool("generate_video", PROMPT, allow_claimed=True)
        with SqliteTaskStore(journal_path) as journal:  # age the task past its TTL
            journal.merge_options("", handle.task_id, JOB_KEY, {"created_ts": 0})
        with pytest.raises(MCPError) as caught:
            await get_task(client, handle.task_id)
        still = await client.call_tool("get_task", {"task_id": handle.task_id})
    assert caught.value.code == -32602
    assert "expired" in caught.value.message
    assert not still.is_error


async def test_restart_in_the_middle_of_a_task(make_server: Any, backend: Backend) -> None:
    async with Client(make_server(), extensions=[TasksClientExtension()]) as first:
        handle = await first.session.call_tool("generate_video", PROMPT, allow_claimed=True)
    async with Client(make_server(), extensions=[TasksClientExtension()]) as second:
        done = await _wait_status(second, handle.task_id, "completed")
    assert done.result is not None
    assert done.result["structuredContent"]["task"]["status"] == "succeeded"
    assert backend.submits == 1


# -- 2025-11-25 (experimental core tasks) -------------------------------------------------------------


async def test_legacy_advertises_tasks_and_marks_only_generate_video(make_server: Any) -> None:
    async with Client(make_server(), mode="legacy") as client:
        listed = await raw(client, "tools/list")
        capabilities = client.server_capabilities
    support = {t["name"]: t.get("execution") for t in listed["tools"]}
    assert support == {
        "generate_video": {"taskSupport": "optional"},
        "get_task": None,
        "list_tasks": None,
        "list_models": None,
    }
    assert capabilities is not None
    assert capabilities.model_dump(by_alias=True, exclude_none=True)["tasks"] == {
        "list": {},
        "cancel": {},
        "requests": {"tools": {"call": {}}},
    }


async def test_legacy_task_lifecycle(make_server: Any, backend: Backend) -> None:
    async with Client(make_server(output_mode="file"), mode="legacy") as client:
        created = await raw(
            client, "tools/call", {"name": "generate_video", "arguments": PROMPT, "task": {"ttl": 120_000}}
        )
        task = created["task"]
        assert task["status"] == "working"
        assert task["ttl"] == 120_000
        assert "model-immediate-response" in json.dumps(created["_meta"])
        result = await raw(client, "tasks/result", {"taskId": task["taskId"]})  # blocks until the end
        listed = await raw(client, "tasks/list")
        with pytest.raises(MCPError) as cancel_done:
            await raw(client, "tasks/cancel", {"taskId": task["taskId"]})
    assert result["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": task["taskId"]}
    assert result["isError"] is False
    view = result["structuredContent"]["task"]
    assert view["status"] == "succeeded"
    assert {f["kind"] for f in view["files"]} == {"video", "cover"}  # background work saved the files
    assert listed["tasks"][0]["taskId"] == task["taskId"]
    assert listed["tasks"][0]["status"] == "completed"
    assert cancel_done.value.code == -32602
    assert backend.submits == 1


async def test_legacy_failed_task_result_is_an_error_result(make_server: Any, backend: Backend) -> None:
    backend.sim.add_fault(Fault("submit", "fail_task", code="GENERATION_FAILED", message="model error"))
    async with Client(make_server(), mode="legacy") as client:
        created = await raw(client, "tools/call", {"name": "generate_video", "arguments": PROMPT, "task": {}})
        result = await raw(client, "tasks/result", {"taskId": created["task"]["taskId"]})
        task = await raw(client, "tasks/get", {"taskId": created["task"]["taskId"]})
    assert task["status"] == "failed"
    assert "GENERATION_FAILED" in task["statusMessage"]
    assert result["isError"] is True
    assert "model error" in result["content"][0]["text"]


async def test_legacy_cancel_and_paging(make_server: Any) -> None:
    async with Client(make_server(), mode="legacy") as client:
        ids = []
        for n in range(3):
            created = await raw(
                client,
                "tools/call",
                {"name": "generate_video", "arguments": {"prompt": f"clip {n}"}, "task": {}},
            )
            ids.append(created["task"]["taskId"])
        cancelled = await raw(client, "tasks/cancel", {"taskId": ids[0]})
        with pytest.raises(MCPError) as no_result:
            await raw(client, "tasks/result", {"taskId": ids[0]})
        listed = await raw(client, "tasks/list")
    assert cancelled["status"] == "cancelled"
    assert "billed" in cancelled["statusMessage"]
    assert no_result.value.code == -32602
    assert [t["taskId"] for t in listed["tasks"]] == list(reversed(ids))


async def test_legacy_invalid_request_or_tool_fails_fast(make_server: Any, backend: Backend) -> None:
    async with Client(make_server(), mode="legacy") as client:
        with pytest.raises(MCPError) as invalid:
            await raw(
                client,
                "tools/call",
                {"name": "generate_video", "arguments": {"prompt": "p", "duration": 2}, "task": {}},
            )
        with pytest.raises(MCPError) as no_tasks:
            await raw(client, "tools/call", {"name": "get_task", "arguments": {"task_id": "t"}, "task": {}})
        with pytest.raises(MCPError) as no_update:
            await raw(client, "tasks/update", {"taskId": "t"})
    assert invalid.value.code == -32602
    assert "duration:" in invalid.value.message
    assert no_tasks.value.code == -32601
    assert no_update.value.code == -32601
    assert len(backend.sim.ledger) == 0


async def test_a_plain_legacy_call_still_works(make_server: Any) -> None:
    async with Client(make_server(), mode="legacy") as client:
        result = await client.call_tool("generate_video", PROMPT | {"wait_seconds": 300})
    assert result.structured_content["task"]["status"] == "succeeded"


def test_sdk_internals_the_tasks_support_relies_on() -> None:
    """An SDK upgrade that moves these must fail here, not at a user's start-up."""
    assert not any(m.startswith("tasks/") for m in SPEC_CLIENT_METHODS)  # else MethodBinding refuses them
    MethodBinding("tasks/get", dict, lambda ctx, p: None)  # type: ignore[arg-type]
    assert "2026-07-28" in MODERN_PROTOCOL_VERSIONS
    assert "2025-11-25" in HANDSHAKE_PROTOCOL_VERSIONS


async def test_legacy_tasks_list_pages_newest_first(
    make_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imini_mcp.mcp.tasks.extension

    monkeypatch.setattr(imini_mcp.mcp.tasks.extension, "LIST_PAGE", 2)
    async with Client(make_server(), mode="legacy") as client:
        ids = [
            (
                await raw(
                    client,
                    "tools/call",
                    {"name": "generate_video", "arguments": {"prompt": f"c{n}"}, "task": {}},
                )
            )["task"]["taskId"]
            for n in range(3)
        ]
        first = await raw(client, "tasks/list")
        second = await raw(client, "tasks/list", {"cursor": first["nextCursor"]})
        with pytest.raises(MCPError) as bad:
            await raw(client, "tasks/list", {"cursor": "not-a-cursor"})
    assert [t["taskId"] for t in first["tasks"]] == [ids[2], ids[1]]
    assert [t["taskId"] for t in second["tasks"]] == [ids[0]]
    assert "nextCursor" not in second
    assert bad.value.code == -32602
