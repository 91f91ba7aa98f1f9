"""MCP Tasks end to end over real transports: stdio (a subprocess) and streamable HTTP, in both forms.

The 2025-11-25 form is spoken as raw JSON-RPC, since the SDK's typed client cannot take its task handle.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError, StdioServerParameters

from tests.mcp.test_http import TOKEN
from tests.processes import http_server_process
from tests.tasks_client import TasksClientExtension, get_task

pytestmark = pytest.mark.anyio


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "IMINI_SIMULATE_SECONDS": "2",
        "IMINI_JOURNAL_PATH": str(tmp_path / "journal.sqlite3"),
        "IMINI_LOG_LEVEL": "WARNING",
    }


async def test_stdio_modern_task_handle_then_result(tmp_path: Path) -> None:
    tasks = TasksClientExtension(poll_seconds=0.2)
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "imini_mcp", "--simulate"], env=_env(tmp_path)
    )
    async with Client(params, extensions=[tasks]) as client:  # type: ignore[arg-type]
        result = await client.call_tool("generate_video", {"prompt": "a kite"})
    assert tasks.handles[0].status == "working"
    assert result.structured_content["task"]["status"] == "succeeded"


class RawStdio:
    """Line-delimited JSON-RPC to a server subprocess."""

    def __init__(self, process: anyio.abc.Process) -> None:
        self.process, self.next_id, self.buffer = process, 0, b""

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        await self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            message = await self.receive()
            if message.get("id") == self.next_id:
                return message

    async def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.send(json.dumps(message).encode() + b"\n")

    async def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        while b"\n" not in self.buffer:
            self.buffer += await self.process.stdout.receive()
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)  # type: ignore[no-any-return]


async def test_stdio_legacy_task_lifecycle_over_raw_json_rpc(tmp_path: Path) -> None:
    async with await anyio.open_process(
        [sys.executable, "-m", "imini_mcp", "--simulate"], env=_env(tmp_path), stderr=None
    ) as process:
        rpc = RawStdio(process)
        init = await rpc.request(
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"},
            },
        )
        await rpc.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        created = await rpc.request(
            "tools/call",
            {"name": "generate_video", "arguments": {"prompt": "a kite"}, "task": {"ttl": 60000}},
        )
        task_id = created["result"]["task"]["taskId"]
        result = await rpc.request("tasks/result", {"taskId": task_id})
        listed = await rpc.request("tasks/list", {})
        if process.stdin is not None:
            await process.stdin.aclose()  # EOF: the server exits
    assert init["result"]["capabilities"]["tasks"]["requests"] == {"tools": {"call": {}}}
    assert created["result"]["task"]["status"] == "working"
    assert result["result"]["structuredContent"]["task"]["status"] == "succeeded"
    assert result["result"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"] == task_id
    assert listed["result"]["tasks"][0]["status"] == "completed"


@asynccontextmanager
async def http_server(tmp_path: Path, *extra: str) -> AsyncIterator[str]:
    with http_server_process(
        tmp_path, *extra, env=_env(tmp_path) | {"IMINI_MCP_AUTH_TOKEN": TOKEN}
    ) as server:
        yield server.base


def _sse_json(response: httpx2.Response) -> dict[str, Any]:
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()  # type: ignore[no-any-return]
    data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
    return json.loads(data[-1])  # type: ignore[no-any-return]


async def test_http_legacy_task_lifecycle_over_raw_json_rpc(tmp_path: Path) -> None:
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
    }
    async with (
        http_server(tmp_path) as base,
        httpx2.AsyncClient(base_url=base, headers=headers, timeout=60) as http,
    ):
        init = await http.post(
            "/mcp",
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "1"},
                },
            },
        )
        http.headers["mcp-session-id"] = init.headers["mcp-session-id"]  # one server: a legacy session
        http.headers["mcp-protocol-version"] = "2025-11-25"
        await http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"})

        async def call(n: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
            return _sse_json(
                await http.post("/mcp", json={"jsonrpc": "2.0", "id": n, "method": method, "params": params})
            )

        created = await call(
            2, "tools/call", {"name": "generate_video", "arguments": {"prompt": "p"}, "task": {}}
        )
        task_id = created["result"]["task"]["taskId"]
        got = await call(3, "tasks/get", {"taskId": task_id})
        result = await call(4, "tasks/result", {"taskId": task_id})
    assert _sse_json(init)["result"]["capabilities"]["tasks"]["list"] == {}
    assert got["result"]["taskId"] == task_id
    assert result["result"]["structuredContent"]["task"]["status"] == "succeeded"


async def test_http_modern_tasks_are_partitioned_per_user(tmp_path: Path) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with http_server(tmp_path, "--per-user-keys") as base:
        alice_tasks = TasksClientExtension(poll_seconds=0.1)
        async with _client_with_tasks(base, {**auth, "X-Imini-Api-Key": "alice"}, alice_tasks) as alice:
            result = await alice.call_tool("generate_video", {"prompt": "alice's kite"})
        task_id = alice_tasks.handles[0].task_id
        async with _client_with_tasks(
            base, {**auth, "X-Imini-Api-Key": "bob"}, TasksClientExtension()
        ) as bob:
            with pytest.raises(MCPError) as caught:
                await get_task(bob, task_id)
    assert result.structured_content["task"]["status"] == "succeeded"
    assert caught.value.code == -32602  # unknown to Bob: no leak of Alice's task


@asynccontextmanager
async def _client_with_tasks(
    base: str, headers: dict[str, str], ext: TasksClientExtension
) -> AsyncIterator[Client]:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=300.0))
    async with (
        http,
        Client(streamable_http_client(f"{base}/mcp", http_client=http), extensions=[ext]) as client,
    ):  # type: ignore[arg-type]
        yield client
