"""The `generate_video` tool: validate every rule (nothing sent on a problem), then dry-run or submit once."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import anyio
from mcp.server.apps import client_supports_apps
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from mcp_types import InputRequiredResult

from imini_mcp.app import GenerateVideoResult
from imini_mcp.mcp.apps import VIEW_META
from imini_mcp.mcp.context import account_of, progress_of, state_of
from imini_mcp.mcp.errors import tool_errors
from imini_mcp.mcp.oauth.connect import with_key
from imini_mcp.mcp.results import render_generate, tool_result
from imini_mcp.mcp.state import AppState
from imini_mcp.mcp.tooling import SelfValidatingTool
from imini_mcp.request import GenerateVideoArguments, check_generate_arguments

NAME = "generate_video"


async def validated(state: AppState, arguments: dict[str, Any]) -> GenerateVideoArguments:
    """The checked request, or InvalidArguments listing every problem (nothing is sent either way)."""
    check = partial(check_generate_arguments, arguments, resolve_image=state.resolve_image)
    # Local images are read and decoded: keep that off the event loop.
    return await anyio.to_thread.run_sync(check) if arguments.get("reference_images") else check()


async def generate_video(
    arguments: dict[str, Any], ctx: Context
) -> Annotated[CallToolResult, GenerateVideoResult]:
    """Create a video with imini. Every rule is checked first: a refused call lists each problem with its fix
    and costs nothing (unknown fields are refused). dry_run true shows the exact body and estimated credits.
    A real call SPENDS CREDITS: it submits once and waits up to wait_seconds. A video takes 1–3 minutes; if
    the call returns before it is done, follow it with get_task, never resubmit. Other models: list_models
    gives their limits, then set `model`.

    Storyboard: {"duration": 5, "extra_params": {"multi_shot": true, "shot_type": "customize",
    "multi_prompt": [{"prompt": "…", "duration": 2}, {"prompt": "…", "duration": 3}]}}: the shot durations
    add up to duration (3–15 s).
    """
    state = state_of(ctx)
    with tool_errors():
        args = await validated(state, arguments)
        account = None if args.dry_run else await account_of(ctx)  # a dry run needs no key
        if account is not None and state.settings.oauth_mode():  # the person's own key, asked for if none
            paying = await with_key(ctx, state, account)
            if isinstance(paying, InputRequiredResult):  # 2026-07-28: the SDK passes it through as it is
                return paying  # type: ignore[return-value]  # (the annotation stays: it derives the schema)
            account = paying
        result = await state.service.generate(args, account, progress=progress_of(ctx))
    return tool_result(result, render_generate(result), result.task, links=not client_supports_apps(ctx))


SPEC = SelfValidatingTool(
    generate_video,
    arguments_model=GenerateVideoArguments,
    title="Generate a video (imini)",
    read_only=False,
    idempotent=False,
    open_world=True,
    meta=VIEW_META,
)
