"""The `list_tasks` tool: the caller's stored tasks, newest first, to find one again after a timeout."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from imini_mcp.app import TaskList
from imini_mcp.mcp.context import account_of, state_of
from imini_mcp.mcp.errors import tool_errors
from imini_mcp.mcp.results import render_task_list, tool_result
from imini_mcp.mcp.tooling import SelfValidatingTool
from imini_mcp.request import ListTasksArguments, check_arguments


async def list_tasks(arguments: dict[str, Any], ctx: Context) -> Annotated[CallToolResult, TaskList]:
    """The video tasks this server submitted, newest first, from a local journal that survives timeouts and
    restarts: status, request, result URLs. Find a task id again, or see submits whose outcome is unknown
    before resubmitting. Free."""
    state = state_of(ctx)
    with tool_errors():
        args = check_arguments(ListTasksArguments, arguments)
        since = cast("datetime | None", args.since)  # published as text; its validator made it a datetime
        listing = await state.service.list_tasks(
            await account_of(ctx), status=args.status, since=since, limit=args.limit
        )
    return tool_result(listing, render_task_list(listing))


SPEC = SelfValidatingTool(
    list_tasks,
    arguments_model=ListTasksArguments,
    title="List video tasks",
    read_only=True,
    idempotent=True,
    open_world=False,
)
