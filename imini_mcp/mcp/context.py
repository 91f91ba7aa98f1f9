"""What a tool handler takes from its MCP `Context`: the server's state, whose call it is, a progress reporter."""

from __future__ import annotations

from mcp.server.mcpserver import Context

from imini_mcp.app import Account, Progress
from imini_mcp.mcp.accounts import account_for_request
from imini_mcp.mcp.state import AppState, app_state


def state_of(ctx: Context) -> AppState:
    return app_state(ctx.request_context.lifespan_context)


async def account_of(ctx: Context) -> Account:
    return await account_for_request(state_of(ctx), ctx.headers or {})


def progress_of(ctx: Context) -> Progress:
    """MCP progress notifications (a no-op when the client sent no progress token)."""

    async def report(elapsed: float, message: str) -> None:
        await ctx.report_progress(round(elapsed, 1), None, message)

    return report
