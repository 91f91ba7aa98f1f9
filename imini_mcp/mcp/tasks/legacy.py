"""MCP Tasks, 2025-11-25 form (experimental core tasks): advertised and created by a middleware.

It advertises `capabilities.tasks` and `execution.taskSupport: "optional"` on generate_video, and answers a
`tools/call` carrying `params.task` with a `CreateTaskResult` (a middleware, because the SDK checks legacy
tool results against `CallToolResult`); `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel` are
served by the extension's methods (extension.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND

from imini_mcp.mcp.errors import protocol_error
from imini_mcp.mcp.tasks.common import IMMEDIATE_RESPONSE, LEGACY, TASK_TOOL, McpTask, create

LEGACY_CAPABILITY: dict[str, Any] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}


async def legacy_tasks_middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Advertise 2025-11-25 tasks and answer task-augmented tools/call with a CreateTaskResult."""
    params = ctx.params if isinstance(ctx.params, Mapping) else {}
    if ctx.method == "tools/call" and "task" in params and ctx.protocol_version in LEGACY:
        return await _create(ctx, params)
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


async def _create(ctx: ServerRequestContext[Any, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    if params.get("name") != TASK_TOOL:
        raise MCPError(METHOD_NOT_FOUND, f"Tool {params.get('name')!r} does not support tasks")
    arguments = params.get("arguments") or {}
    if arguments.get("dry_run") is True:
        raise MCPError(INVALID_PARAMS, "A dry run is instant: call generate_video without a task for it")
    task = params.get("task")
    ttl = task.get("ttl") if isinstance(task, Mapping) else None
    created = await create(ctx, dict(arguments), ttl)
    if not isinstance(created, McpTask):
        raise protocol_error(created)  # fail fast: no task, nothing sent
    return {
        "task": created.legacy(),
        "_meta": {
            IMMEDIATE_RESPONSE: (
                f"Submitted imini task {created.task_id}; the video is being generated (usually 1–3 minutes). "
                "The result will arrive when the task completes."
            )
        },
    }
