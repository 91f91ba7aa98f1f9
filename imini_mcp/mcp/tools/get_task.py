"""The `get_task` tool: a task's status and results, waiting for it (with progress) if asked."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.apps import client_supports_apps
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from imini_mcp.app import TaskView
from imini_mcp.mcp.apps import VIEW_META
from imini_mcp.mcp.context import account_of, progress_of, state_of
from imini_mcp.mcp.errors import tool_errors
from imini_mcp.mcp.results import render_task, tool_result
from imini_mcp.mcp.tooling import SelfValidatingTool
from imini_mcp.request import GetTaskArguments, check_arguments


async def get_task(arguments: dict[str, Any], ctx: Context) -> Annotated[CallToolResult, TaskView]:
    """A video task's status (queued, processing, succeeded, failed), its video and cover URLs once succeeded,
    or imini's error once failed. With wait_seconds it waits (with progress) until the task ends or the time
    is up. The answer says what to do next. Free."""
    state = state_of(ctx)
    with tool_errors():
        args = check_arguments(GetTaskArguments, arguments)
        view = await state.service.get_task(
            args.task_id,
            await account_of(ctx),
            wait_seconds=args.wait_seconds,
            progress=progress_of(ctx),
            output=args.output,
        )
    return tool_result(view, render_task(view), view, links=not client_supports_apps(ctx))


SPEC = SelfValidatingTool(
    get_task,
    arguments_model=GetTaskArguments,
    title="Check a video task",
    read_only=True,
    idempotent=True,
    open_world=True,
    meta=VIEW_META,
)
