"""MCP Tasks for `generate_video`: what both protocol forms share — the task as MCP sees it, and the three
operations (create, load, the final result) on top of the app's background jobs.

The MCP task id IS the imini task id; its MCP metadata (TTL, cost, notes, cancellation, a follow-up error)
is the job metadata stored with the task, so tasks survive restarts and are partitioned per user like
everything else. Nothing here writes the store: the app's `BackgroundJobs` does.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mcp.server.apps import client_supports_apps
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import RequestParams
from mcp_types.jsonrpc import INVALID_PARAMS
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from pydantic import ConfigDict, Field

from imini_mcp.app import Account, GenerateVideoResult, Job
from imini_mcp.imini import IminiError
from imini_mcp.mcp.accounts import account_for_request
from imini_mcp.mcp.results import render_generate, tool_result
from imini_mcp.mcp.state import AppState, app_state
from imini_mcp.mcp.tools.generate_video import NAME as TASK_TOOL
from imini_mcp.mcp.tools.generate_video import validated
from imini_mcp.request import InvalidArguments

EXTENSION_ID = "io.modelcontextprotocol/tasks"
RELATED_TASK = "io.modelcontextprotocol/related-task"
IMMEDIATE_RESPONSE = "io.modelcontextprotocol/model-immediate-response"
DEFAULT_TTL_MS = 24 * 3600 * 1000  # a finished video stays fetchable through the task for a day
MAX_TTL_MS = 7 * 24 * 3600 * 1000
MIN_TTL_MS = 60 * 1000
POLL_INTERVAL_MS = 5000
LEGACY = frozenset(HANDSHAKE_PROTOCOL_VERSIONS)
MODERN = frozenset(MODERN_PROTOCOL_VERSIONS)

__all__ = ["EXTENSION_ID", "TASK_TOOL"]


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_modern(ctx: ServerRequestContext[Any, Any]) -> bool:
    return ctx.protocol_version in MODERN


def headers(ctx: ServerRequestContext[Any, Any]) -> Mapping[str, str]:
    request = ctx.request
    return getattr(request, "headers", None) or {}


def state(ctx: ServerRequestContext[Any, Any]) -> AppState:
    return app_state(ctx.lifespan_context)


class TaskIdParams(RequestParams):
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)  # built on first use
    task_id: str = Field(alias="taskId")


class CursorParams(RequestParams):
    model_config = ConfigDict(extra="allow", defer_build=True)
    cursor: str | None = None


# ---------------------------------------------------------------------------------------------------
# The task as MCP sees it


@dataclass(frozen=True)
class McpTask:
    """One MCP task, derived from its job."""

    job: Job
    status: str  # working | completed | failed | cancelled
    message: str

    @property
    def task_id(self) -> str:
        return self.job.task_id

    @property
    def terminal(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")

    def legacy(self) -> dict[str, Any]:
        return {
            "taskId": self.task_id,
            "status": self.status,
            "statusMessage": self.message,
            "createdAt": self.job.meta["created_at"],
            "lastUpdatedAt": iso(self.job.record.updated_at),
            "ttl": self.job.meta["ttl_ms"],
            "pollInterval": POLL_INTERVAL_MS,
        }

    def modern(self) -> dict[str, Any]:
        wire = self.legacy()
        wire["ttlMs"] = wire.pop("ttl")
        wire["pollIntervalMs"] = wire.pop("pollInterval")
        return wire


def describe(job: Job, *, default_mode: str) -> McpTask:
    record, meta = job.record, job.meta
    if meta.get("cancelled_at"):
        return McpTask(
            job,
            "cancelled",
            f"Cancelled: this server stopped following imini task {record.task_id}. imini has no cancel endpoint, "
            "so the generation may still complete and be billed; the task id stays in list_tasks and get_task "
            "still works.",
        )
    if meta.get("error"):
        return McpTask(job, "failed", meta["error"])
    if record.state == "expired":
        return McpTask(
            job,
            "failed",
            f"imini no longer knows task {record.task_id} (it answered HTTP 404: the task expired or was removed "
            "there), so it will not finish; list_tasks keeps it. Submit a new generation if you still need the video.",
        )
    if record.status == "failed":
        error = record.error or {}
        return McpTask(
            job,
            "failed",
            f"imini failed the task: {error.get('code') or 'unknown'}: {error.get('message') or 'no message'}",
        )
    if record.status == "succeeded":
        mode = record.options.get("output") or default_mode
        if mode == "url" or job.finished or record.files:
            return McpTask(job, "completed", "The video is ready.")
        return McpTask(job, "working", "The video is ready at imini; saving the files…")
    elapsed = max(0.0, time.time() - record.submitted_at)
    return McpTask(
        job,
        "working",
        f"imini status: {record.status or 'queued'}; {elapsed:.0f} s since submit "
        "(a video usually takes 1–3 minutes).",
    )


def expired(meta: Mapping[str, Any], now: float) -> bool:
    ttl = meta.get("ttl_ms")
    return ttl is not None and now > meta.get("created_ts", now) + ttl / 1000


# ---------------------------------------------------------------------------------------------------
# Operations


async def account(ctx: ServerRequestContext[Any, Any]) -> Account:
    try:
        return await account_for_request(state(ctx), headers(ctx))
    except IminiError as exc:
        raise MCPError(INVALID_PARAMS, str(exc)) from exc


def view_of(ctx: ServerRequestContext[Any, Any], job: Job) -> McpTask:
    return describe(job, default_mode=state(ctx).settings.output_mode)


async def load(ctx: ServerRequestContext[Any, Any], task_id: str) -> tuple[McpTask, Account]:
    """The caller's MCP task, or -32602 (unknown to this user, not an MCP task, or past its TTL)."""
    who = await account(ctx)
    job = await state(ctx).jobs.load(who, task_id)
    if job is None:
        raise MCPError(INVALID_PARAMS, f"Unknown task {task_id!r}")
    if expired(job.meta, time.time()):
        raise MCPError(
            INVALID_PARAMS, f"Task {task_id!r} has expired (its TTL passed); get_task still knows it"
        )
    view = view_of(ctx, job)
    if not view.terminal:
        await state(ctx).jobs.adopt(
            who, task_id
        )  # unless a live server follows it (after a restart, a crash)
    return view, who


async def final_result(ctx: ServerRequestContext[Any, Any], view: McpTask, who: Account) -> dict[str, Any]:
    """What the original tools/call would have returned: a generate_video result with the finished task."""
    task = await state(ctx).service.get_task(view.task_id, who, wait_seconds=0)
    replayed = bool(view.job.meta.get("replayed"))
    result = GenerateVideoResult.model_validate(
        {
            "submitted": not replayed,
            "replayed": replayed,
            "request_body": view.job.record.body,
            "estimated_cost": view.job.meta["cost"],
            "notes": view.job.meta.get("notes", []),
            "task": task.model_dump(),
            "next_step": task.next_step,
        }
    )
    links = not client_supports_apps(ctx)  # as generate_video's own result (mcp/results.py)
    wire = tool_result(result, render_generate(result), task, links=links).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    wire["isError"] = task.status in ("failed", "expired")
    return wire


async def create(
    ctx: ServerRequestContext[Any, Any], arguments: dict[str, Any], ttl_ms: int | None
) -> McpTask | InvalidArguments | IminiError:
    """Validate, submit, store, start following. Returns the task, or the reason there is none."""
    app = state(ctx)
    try:
        args = await validated(app, arguments)
    except InvalidArguments as exc:
        return exc
    ttl = DEFAULT_TTL_MS if ttl_ms is None else max(MIN_TTL_MS, min(int(ttl_ms), MAX_TTL_MS))

    def meta(result: GenerateVideoResult) -> dict[str, Any]:
        now = time.time()
        return {
            "ttl_ms": ttl,
            "created_at": iso(now),
            "created_ts": now,
            "cost": result.estimated_cost.model_dump(),
            "notes": result.notes,
            **({"replayed": True} if result.replayed else {}),
        }

    try:
        job = await app.jobs.submit(args, await account(ctx), meta)
    except IminiError as exc:
        return exc
    return view_of(ctx, job)
