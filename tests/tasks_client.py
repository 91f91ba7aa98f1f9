"""A minimal MCP Tasks client for the tests: SEP-2663 through the SDK's public client-extension API, and
raw JSON-RPC for the 2025-11-25 form (the SDK's typed client cannot receive a legacy CreateTaskResult)."""

from __future__ import annotations

from typing import Any, Literal

import anyio
from mcp import Client
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp_types import CallToolResult, Request, RequestParams, Result
from pydantic import ConfigDict

EXTENSION_ID = "io.modelcontextprotocol/tasks"


class TaskHandle(Result):
    """The SEP-2663 CreateTaskResult."""

    model_config = ConfigDict(extra="allow")
    result_type: Literal["task"]
    task_id: str
    status: str
    status_message: str | None = None
    created_at: str
    last_updated_at: str
    ttl_ms: int | None = None
    poll_interval_ms: int | None = None


class DetailedTask(Result):
    model_config = ConfigDict(extra="allow")
    task_id: str
    status: str
    status_message: str | None = None
    ttl_ms: int | None = None
    poll_interval_ms: int | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class TaskRef(RequestParams):
    task_id: str


class TasksGet(Request[TaskRef, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    params: TaskRef
    name_param = "taskId"


class TasksCancel(Request[TaskRef, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"
    params: TaskRef
    name_param = "taskId"


class Ack(Result):
    model_config = ConfigDict(extra="allow")


class TasksClientExtension(ClientExtension):
    """Declares the tasks extension; resolves a task handle by polling tasks/get until it ends."""

    identifier = EXTENSION_ID

    def __init__(self, poll_seconds: float = 0.02) -> None:
        self.poll_seconds = poll_seconds
        self.handles: list[TaskHandle] = []

    def claims(self) -> list[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=TaskHandle, resolve=self._resolve)]

    async def _resolve(self, handle: TaskHandle, ctx: ClaimContext) -> CallToolResult:
        self.handles.append(handle)
        while True:
            task = await ctx.session.send_request(
                TasksGet(params=TaskRef(task_id=handle.task_id)), DetailedTask
            )
            if task.status == "completed":
                assert task.result is not None
                return CallToolResult.model_validate(task.result)
            if task.status in ("failed", "cancelled"):
                raise RuntimeError(f"task {task.status}: {task.status_message} {task.error}")
            await anyio.sleep(self.poll_seconds)


async def get_task(client: Client, task_id: str) -> DetailedTask:
    return await client.session.send_request(TasksGet(params=TaskRef(task_id=task_id)), DetailedTask)


async def cancel_task(client: Client, task_id: str) -> Ack:
    return await client.session.send_request(TasksCancel(params=TaskRef(task_id=task_id)), Ack)


async def raw(client: Client, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Raw JSON-RPC through the client's connection (test-only use of the SDK's dispatcher)."""
    return await client.session._dispatcher.send_raw_request(method, params or {}, {})  # type: ignore[attr-defined,no-any-return]
