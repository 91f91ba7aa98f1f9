"""MCP Tasks, 2026-07-28 form: the `io.modelcontextprotocol/tasks` extension (SEP-2663).

The tool-call interceptor answers a task-capable `generate_video` with `{"resultType": "task", ...}` at
once (the work goes on in the background); `tasks/get` inlines the result or the error; `tasks/cancel` and
`tasks/update` are acks. The same methods serve the 2025-11-25 form (legacy.py): `tasks/result` and
`tasks/list` exist only there. Progress from background work would be dropped by the SDK, so
`statusMessage` carries it. tests/mcp/test_mcp_tasks.py pins the SDK internals this relies on.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver.server import require_client_extension
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolRequestParams
from mcp_types.jsonrpc import HEADER_MISMATCH, INTERNAL_ERROR, INVALID_PARAMS

from imini_mcp.imini import IminiError
from imini_mcp.mcp.errors import tool_error_result
from imini_mcp.mcp.tasks.common import (
    EXTENSION_ID,
    LEGACY,
    MODERN,
    RELATED_TASK,
    TASK_TOOL,
    CursorParams,
    TaskIdParams,
    account,
    create,
    expired,
    final_result,
    headers,
    is_modern,
    iso,
    load,
    state,
    view_of,
)
from imini_mcp.request import InvalidArguments

LIST_PAGE = 50
RESULT_TICK_SECONDS = 5.0


class TasksExtension(Extension):
    identifier = EXTENSION_ID

    def methods(self) -> list[MethodBinding]:
        return [
            MethodBinding("tasks/get", TaskIdParams, self._get),
            MethodBinding("tasks/cancel", TaskIdParams, self._cancel),
            MethodBinding("tasks/update", TaskIdParams, self._update, protocol_versions=MODERN),
            MethodBinding("tasks/result", TaskIdParams, self._result, protocol_versions=LEGACY),
            MethodBinding("tasks/list", CursorParams, self._list, protocol_versions=LEGACY),
        ]

    async def intercept_tool_call(
        self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        arguments = params.arguments or {}
        declared = ctx.session.client_capabilities
        wants = bool(declared and declared.extensions and EXTENSION_ID in declared.extensions)
        if not (is_modern(ctx) and wants and params.name == TASK_TOOL) or arguments.get("dry_run") is True:
            return await call_next(ctx)  # a plain call: the tool runs (and waits with progress) as usual
        if not (await account(ctx)).client.has_key:  # OAuth mode, no key yet: the tool asks the person for it
            return await call_next(ctx)
        created = await create(ctx, arguments, None)
        if isinstance(created, InvalidArguments):
            return await call_next(ctx)  # the tool itself answers with every problem
        if isinstance(created, IminiError):
            return tool_error_result(TASK_TOOL, created)
        return {"resultType": "task", **created.modern()}

    def _check(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> None:
        if is_modern(ctx):
            require_client_extension(ctx, EXTENSION_ID)
            name = headers(ctx).get("mcp-name")
            if name is not None and name != params.task_id:  # SEP-2663 HTTP routing header
                raise MCPError(HEADER_MISMATCH, f"Mcp-Name {name!r} does not match taskId {params.task_id!r}")

    async def _get(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        self._check(ctx, params)
        view, who = await load(ctx, params.task_id)
        if not is_modern(ctx):
            return view.legacy()
        wire = {"resultType": "complete", **view.modern()}
        if view.status == "completed":
            wire["result"] = await final_result(ctx, view, who)
        elif view.status == "failed":
            wire["error"] = {
                "code": INTERNAL_ERROR,
                "message": view.message,
                "data": {"imini_task_id": view.task_id, "imini_error": view.job.record.error},
            }
        return wire

    async def _cancel(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        self._check(ctx, params)
        view, who = await load(ctx, params.task_id)
        if view.terminal:
            if is_modern(ctx):
                return {}  # idempotent ack
            raise MCPError(INVALID_PARAMS, f"Task {params.task_id!r} is already {view.status}")
        job = await state(ctx).jobs.cancel(who, view.task_id, at=iso(time.time()))
        return {} if is_modern(ctx) else view_of(ctx, job).legacy()

    async def _update(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        self._check(ctx, params)
        await load(ctx, params.task_id)  # nothing asks for input; an ack, unknown keys ignored
        return {}

    async def _result(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        jobs, owner = state(ctx).jobs, (await account(ctx)).owner
        while True:  # blocks until the task ends (2025-11-25 tasks/result), whichever server follows it
            changed = jobs.changed(owner, params.task_id)  # armed before the read: no change is missed
            view, who = await load(ctx, params.task_id)
            if view.terminal:
                break
            with anyio.move_on_after(RESULT_TICK_SECONDS):  # a safety net, and a retry to adopt the job
                await changed.wait()
            await anyio.sleep(0.2)  # an event set for good (a job finished here) must not spin
        if view.status == "cancelled":
            raise MCPError(INVALID_PARAMS, f"Task {params.task_id!r} was cancelled; it has no result")
        wire = await final_result(ctx, view, who)
        wire["_meta"] = {**wire.get("_meta", {}), RELATED_TASK: {"taskId": view.task_id}}
        return wire

    async def _list(self, ctx: ServerRequestContext[Any, Any], params: CursorParams) -> dict[str, Any]:
        try:
            before = int(params.cursor) if params.cursor else None
        except ValueError:
            raise MCPError(INVALID_PARAMS, f"Bad cursor {params.cursor!r}") from None
        jobs = await state(ctx).jobs.page(await account(ctx), before=before, limit=LIST_PAGE + 1)
        now = time.time()
        page, more = jobs[:LIST_PAGE], len(jobs) > LIST_PAGE
        wire: dict[str, Any] = {"tasks": [view_of(ctx, j).legacy() for j in page if not expired(j.meta, now)]}
        if more:
            wire["nextCursor"] = str(page[-1].record.journal_id)
        return wire
