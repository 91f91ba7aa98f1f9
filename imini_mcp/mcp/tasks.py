"""MCP Tasks for `generate_video`, in both protocol forms, with the journal as the task store.

A task-augmented `generate_video` is validated (a bad request is an immediate error: no task, nothing sent),
submitted and journalled in the request, and answered with a task handle at once. The MCP task id IS the
imini task id; the task's MCP metadata (TTL, cost, cancellation) lives in the journal row's options, so
tasks survive restarts and are partitioned per user like everything else. Following imini and saving
files run in the server's task group (`TaskRunner`), never in the request.

* 2026-07-28, extension `io.modelcontextprotocol/tasks` (SEP-2663): `TasksExtension` — the tool-call
  interceptor returns `{"resultType": "task", ...}`; `tasks/get` inlines the result or error;
  `tasks/cancel` and `tasks/update` are acks; `tasks/result` and `tasks/list` do not exist there.
* 2025-11-25 experimental tasks: `legacy_tasks_middleware` — it advertises `capabilities.tasks` and
  `execution.taskSupport: "optional"`, and answers a `tools/call` carrying `params.task` with a
  `CreateTaskResult` (a middleware, because the SDK checks legacy tool results against `CallToolResult`);
  `tasks/get`, `tasks/result`, `tasks/list`, `tasks/cancel` are served by the extension's methods.
Progress notifications from background work would be dropped by the SDK, so `statusMessage` carries it.
tests/test_mcp_tasks.py pins the SDK internals this relies on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver.server import require_client_extension
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolRequestParams, RequestParams
from mcp_types.jsonrpc import HEADER_MISMATCH, INTERNAL_ERROR, INVALID_PARAMS, METHOD_NOT_FOUND
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from pydantic import ConfigDict, Field

from imini_mcp.app.results import GenerateVideoResult, render_generate
from imini_mcp.imini.errors import IminiError
from imini_mcp.request import InvalidArguments, check_generate_arguments
from imini_mcp.store import TaskRecord

if TYPE_CHECKING:
    from imini_mcp.app.service import Account
    from imini_mcp.mcp.server import AppState

log = logging.getLogger(__name__)

EXTENSION_ID = "io.modelcontextprotocol/tasks"
RELATED_TASK = "io.modelcontextprotocol/related-task"
IMMEDIATE_RESPONSE = "io.modelcontextprotocol/model-immediate-response"
TASK_TOOL = "generate_video"
OPTION = "mcp_task"  # key of the MCP task metadata in the journal row's options
DEFAULT_TTL_MS = 24 * 3600 * 1000  # a finished video stays fetchable through the task for a day
MAX_TTL_MS = 7 * 24 * 3600 * 1000
MIN_TTL_MS = 60 * 1000
POLL_INTERVAL_MS = 5000
LIST_PAGE = 50
LEGACY = frozenset(HANDSHAKE_PROTOCOL_VERSIONS)
MODERN = frozenset(MODERN_PROTOCOL_VERSIONS)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _is_modern(ctx: ServerRequestContext[Any, Any]) -> bool:
    return ctx.protocol_version in MODERN


def _headers(ctx: ServerRequestContext[Any, Any]) -> Mapping[str, str]:
    request = ctx.request
    return getattr(request, "headers", None) or {}


# ---------------------------------------------------------------------------------------------------
# Background work


@dataclass
class TaskRunner:
    """Follows MCP tasks to the end in the server's task group: one job per task, cancellable."""

    task_group: TaskGroup
    _jobs: dict[tuple[str, str], anyio.CancelScope] = field(default_factory=dict)
    _done: dict[tuple[str, str], anyio.Event] = field(default_factory=dict)
    _finished: set[tuple[str, str]] = field(default_factory=set)

    def ensure(self, state: AppState, account: Account, task_id: str) -> None:
        """Start following unless already following (or finished) in this process."""
        key = (account.owner, task_id)
        if key in self._jobs or key in self._finished:
            return
        self._done.setdefault(key, anyio.Event())
        scope = anyio.CancelScope()
        self._jobs[key] = scope
        self.task_group.start_soon(self._follow, state, account, task_id, scope)

    def finished(self, owner: str, task_id: str) -> bool:
        return (owner, task_id) in self._finished

    async def wait_done(self, owner: str, task_id: str) -> None:
        await self._done.setdefault((owner, task_id), anyio.Event()).wait()

    def cancel(self, owner: str, task_id: str) -> None:
        scope = self._jobs.get((owner, task_id))
        if scope is not None:
            scope.cancel()

    async def _follow(
        self, state: AppState, account: Account, task_id: str, scope: anyio.CancelScope
    ) -> None:
        key = (account.owner, task_id)
        try:
            with scope:
                await state.service.follow_to_end(task_id, account)
                self._finished.add(key)
        except IminiError as exc:  # e.g. 401 or 404 at imini: the MCP task fails with that cause
            self._finished.add(key)
            await anyio.to_thread.run_sync(
                partial(
                    state.service.journal.merge_options, account.owner, task_id, OPTION, {"error": str(exc)}
                )
            )
        except Exception:  # a bug must not take down the server's task group
            log.exception("background follow of %s failed", task_id)
            self._finished.add(key)
        finally:
            self._jobs.pop(key, None)
            self._done.setdefault(key, anyio.Event()).set()


# ---------------------------------------------------------------------------------------------------
# The task as MCP sees it


@dataclass(frozen=True)
class McpTask:
    """One MCP task, derived from its journal row."""

    record: TaskRecord
    status: str  # working | completed | failed | cancelled
    message: str
    meta: dict[str, Any]

    @property
    def task_id(self) -> str:
        assert self.record.task_id is not None
        return self.record.task_id

    @property
    def terminal(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")

    def legacy(self) -> dict[str, Any]:
        return {
            "taskId": self.task_id,
            "status": self.status,
            "statusMessage": self.message,
            "createdAt": self.meta["created_at"],
            "lastUpdatedAt": _iso(self.record.updated_at),
            "ttl": self.meta["ttl_ms"],
            "pollInterval": POLL_INTERVAL_MS,
        }

    def modern(self) -> dict[str, Any]:
        wire = self.legacy()
        wire["ttlMs"] = wire.pop("ttl")
        wire["pollIntervalMs"] = wire.pop("pollInterval")
        return wire


def describe(record: TaskRecord, *, finished: bool, default_mode: str) -> McpTask:
    meta: dict[str, Any] = record.options.get(OPTION, {})
    if meta.get("cancelled_at"):
        return McpTask(
            record,
            "cancelled",
            (
                f"Cancelled: this server stopped following imini task {record.task_id}. imini has no cancel endpoint, "
                "so the generation may still complete and be billed; the task id stays in list_tasks and get_task "
                "still works."
            ),
            meta,
        )
    if meta.get("error"):
        return McpTask(record, "failed", meta["error"], meta)
    if record.status == "failed":
        error = record.error or {}
        return McpTask(
            record,
            "failed",
            (
                f"imini failed the task: {error.get('code') or 'unknown'}: {error.get('message') or 'no message'}"
            ),
            meta,
        )
    elapsed = max(0.0, time.time() - record.submitted_at)
    if record.status == "succeeded":
        mode = record.options.get("output") or default_mode
        if mode == "url" or finished or record.files:
            return McpTask(record, "completed", "The video is ready.", meta)
        return McpTask(record, "working", "The video is ready at imini; saving the files…", meta)
    return McpTask(
        record,
        "working",
        (
            f"imini status: {record.status or 'queued'}; {elapsed:.0f} s since submit "
            "(a video usually takes 1–3 minutes)."
        ),
        meta,
    )


def _expired(meta: Mapping[str, Any], now: float) -> bool:
    ttl = meta.get("ttl_ms")
    return ttl is not None and now > meta.get("created_ts", now) + ttl / 1000


# ---------------------------------------------------------------------------------------------------
# Shared operations


class TaskIdParams(RequestParams):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    task_id: str = Field(alias="taskId")


class CursorParams(RequestParams):
    model_config = ConfigDict(extra="allow")
    cursor: str | None = None


def _state(ctx: ServerRequestContext[Any, Any]) -> AppState:
    return ctx.lifespan_context  # type: ignore[no-any-return]


def _account(ctx: ServerRequestContext[Any, Any]) -> Account:
    from imini_mcp.mcp.server import account_for_headers

    try:
        return account_for_headers(_state(ctx), _headers(ctx))
    except IminiError as exc:
        raise MCPError(INVALID_PARAMS, str(exc)) from exc


async def _load(ctx: ServerRequestContext[Any, Any], task_id: str) -> tuple[McpTask, Account]:
    """The caller's MCP task, or -32602 (unknown to this user, not an MCP task, or past its TTL)."""
    state, account = _state(ctx), _account(ctx)
    record = await anyio.to_thread.run_sync(state.service.journal.get, account.owner, task_id)
    if record is None or OPTION not in record.options:
        raise MCPError(INVALID_PARAMS, f"Unknown task {task_id!r}")
    if _expired(record.options[OPTION], time.time()):
        raise MCPError(
            INVALID_PARAMS, f"Task {task_id!r} has expired (its TTL passed); get_task still knows it"
        )
    view = describe(
        record, finished=state.tasks.finished(account.owner, task_id), default_mode=state.settings.output_mode
    )
    if not view.terminal:
        state.tasks.ensure(state, account, task_id)  # e.g. after a restart
    return view, account


async def _final_result(
    ctx: ServerRequestContext[Any, Any], view: McpTask, account: Account
) -> dict[str, Any]:
    """What the original tools/call would have returned: a generate_video result with the finished task."""
    state = _state(ctx)
    task = await state.service.get_task(view.task_id, account, wait_seconds=0)
    result = GenerateVideoResult.model_validate(
        {
            "submitted": True,
            "request_body": view.record.body,
            "estimated_cost": view.meta["cost"],
            "notes": view.meta.get("notes", []),
            "task": task.model_dump(),
            "next_step": task.next_step,
        }
    )
    from imini_mcp.mcp.server import tool_result

    wire = tool_result(result, render_generate(result), task).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    wire["isError"] = task.status == "failed"
    return wire


async def _create(
    ctx: ServerRequestContext[Any, Any], arguments: dict[str, Any], ttl_ms: int | None
) -> tuple[McpTask, dict[str, Any]] | InvalidArguments | IminiError:
    """Validate, submit, journal, start following. Returns the task, or the reason there is none."""
    state = _state(ctx)
    check = partial(check_generate_arguments, arguments, resolve_image=state.resolve_image)
    try:
        args = await anyio.to_thread.run_sync(check) if arguments.get("reference_images") else check()
    except InvalidArguments as exc:
        return exc
    try:
        account = _account(ctx)
        result = await state.service.generate(args.model_copy(update={"wait_seconds": 0}), account)
    except IminiError as exc:
        return exc
    assert result.task is not None
    ttl = DEFAULT_TTL_MS if ttl_ms is None else max(MIN_TTL_MS, min(int(ttl_ms), MAX_TTL_MS))
    now = time.time()
    record = await anyio.to_thread.run_sync(
        partial(
            state.service.journal.merge_options,
            account.owner,
            result.task.task_id,
            OPTION,
            {
                "ttl_ms": ttl,
                "created_at": _iso(now),
                "created_ts": now,
                "cost": result.estimated_cost.model_dump(),
                "notes": result.notes,
            },
        )
    )
    assert record is not None
    state.tasks.ensure(state, account, result.task.task_id)
    view = describe(record, finished=False, default_mode=state.settings.output_mode)
    return view, {"submitted": result}


# ---------------------------------------------------------------------------------------------------
# 2026-07-28: the extension


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
        if not (_is_modern(ctx) and wants and params.name == TASK_TOOL) or arguments.get("dry_run") is True:
            return await call_next(ctx)  # a plain call: the tool runs (and waits with progress) as usual
        created = await _create(ctx, arguments, None)
        if isinstance(created, InvalidArguments | IminiError):
            return await call_next(ctx) if isinstance(created, InvalidArguments) else _tool_error(created)
        view, _ = created
        return {"resultType": "task", **view.modern()}

    def _check(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> None:
        if _is_modern(ctx):
            require_client_extension(ctx, EXTENSION_ID)
            name = _headers(ctx).get("mcp-name")
            if name is not None and name != params.task_id:  # SEP-2663 HTTP routing header
                raise MCPError(HEADER_MISMATCH, f"Mcp-Name {name!r} does not match taskId {params.task_id!r}")

    async def _get(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        self._check(ctx, params)
        view, account = await _load(ctx, params.task_id)
        if not _is_modern(ctx):
            return view.legacy()
        wire = {"resultType": "complete", **view.modern()}
        if view.status == "completed":
            wire["result"] = await _final_result(ctx, view, account)
        elif view.status == "failed":
            wire["error"] = {
                "code": INTERNAL_ERROR,
                "message": view.message,
                "data": {"imini_task_id": view.task_id, "imini_error": view.record.error},
            }
        return wire

    async def _cancel(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        self._check(ctx, params)
        view, account = await _load(ctx, params.task_id)
        if view.terminal:
            if _is_modern(ctx):
                return {}  # idempotent ack
            raise MCPError(INVALID_PARAMS, f"Task {params.task_id!r} is already {view.status}")
        state = _state(ctx)
        state.tasks.cancel(account.owner, view.task_id)
        record = await anyio.to_thread.run_sync(
            partial(
                state.service.journal.merge_options,
                account.owner,
                view.task_id,
                OPTION,
                {"cancelled_at": _iso(time.time())},
            )
        )
        assert record is not None
        cancelled = describe(record, finished=True, default_mode=state.settings.output_mode)
        return {} if _is_modern(ctx) else cancelled.legacy()

    async def _update(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        self._check(ctx, params)
        await _load(ctx, params.task_id)  # nothing asks for input; an ack, unknown keys ignored
        return {}

    async def _result(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        view, account = await _load(ctx, params.task_id)
        state = _state(ctx)
        while not view.terminal:  # blocks until the task ends (2025-11-25 tasks/result)
            await state.tasks.wait_done(account.owner, view.task_id)
            view, account = await _load(ctx, params.task_id)
            if not view.terminal:
                await anyio.sleep(0.2)
        if view.status == "cancelled":
            raise MCPError(INVALID_PARAMS, f"Task {params.task_id!r} was cancelled; it has no result")
        wire = await _final_result(ctx, view, account)
        wire["_meta"] = {**wire.get("_meta", {}), RELATED_TASK: {"taskId": view.task_id}}
        return wire

    async def _list(self, ctx: ServerRequestContext[Any, Any], params: CursorParams) -> dict[str, Any]:
        state, account = _state(ctx), _account(ctx)
        try:
            before = int(params.cursor) if params.cursor else None
        except ValueError:
            raise MCPError(INVALID_PARAMS, f"Bad cursor {params.cursor!r}") from None
        rows = await anyio.to_thread.run_sync(
            partial(
                state.service.journal.list_tasks,
                account.owner,
                limit=LIST_PAGE + 1,
                before_journal_id=before,
                with_option=OPTION,
            )
        )
        now = time.time()
        page, more = rows[:LIST_PAGE], len(rows) > LIST_PAGE
        tasks = [
            describe(
                r,
                finished=state.tasks.finished(account.owner, r.task_id or ""),
                default_mode=state.settings.output_mode,
            ).legacy()
            for r in page
            if not _expired(r.options[OPTION], now)
        ]
        wire: dict[str, Any] = {"tasks": tasks}
        if more:
            wire["nextCursor"] = str(page[-1].journal_id)
        return wire


def _tool_error(exc: IminiError) -> dict[str, Any]:
    return {
        "content": [{"type": "text", "text": f"Error executing tool {TASK_TOOL}: {exc}"}],
        "isError": True,
    }


# ---------------------------------------------------------------------------------------------------
# 2025-11-25: the middleware


LEGACY_CAPABILITY = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}


async def legacy_tasks_middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Advertise 2025-11-25 tasks and answer task-augmented tools/call with a CreateTaskResult."""
    params = ctx.params if isinstance(ctx.params, Mapping) else {}
    if ctx.method == "tools/call" and "task" in params and ctx.protocol_version in LEGACY:
        return await _legacy_create(ctx, params)
    result = await call_next(ctx)
    if not isinstance(result, dict):
        return result
    if ctx.method == "initialize" and str(result.get("protocolVersion")) in LEGACY:
        result.setdefault("capabilities", {})["tasks"] = LEGACY_CAPABILITY
    elif ctx.method == "tools/list" and ctx.protocol_version in LEGACY:
        for tool in result.get("tools", []):
            if tool.get("name") == TASK_TOOL:
                tool["execution"] = {"taskSupport": "optional"}
    return result


async def _legacy_create(ctx: ServerRequestContext[Any, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    if params.get("name") != TASK_TOOL:
        raise MCPError(METHOD_NOT_FOUND, f"Tool {params.get('name')!r} does not support tasks")
    arguments = params.get("arguments") or {}
    if arguments.get("dry_run") is True:
        raise MCPError(INVALID_PARAMS, "A dry run is instant: call generate_video without a task for it")
    task_meta = params.get("task") if isinstance(params.get("task"), Mapping) else {}
    created = await _create(ctx, dict(arguments), task_meta.get("ttl"))
    if isinstance(created, InvalidArguments):
        raise MCPError(INVALID_PARAMS, str(created))  # fail fast: no task, nothing sent
    if isinstance(created, IminiError):
        raise MCPError(
            INTERNAL_ERROR,
            str(created),
            {"code": created.code, "status": created.status, "request_id": created.request_id},
        )
    view, _ = created
    return {
        "task": view.legacy(),
        "_meta": {
            IMMEDIATE_RESPONSE: (
                f"Submitted imini task {view.task_id}; the video is being generated (usually 1–3 minutes). "
                "The result will arrive when the task completes."
            )
        },
    }
