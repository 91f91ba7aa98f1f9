"""A stand-in server for a configuration that does not validate, run over stdio only.

A desktop client shows a server that exits at start as "Connection closed" and keeps its stderr in a log few
people open. So instead the process speaks MCP: the server's instructions and every tool's answer carry the
problem and its fix, and it sends nothing anywhere. The CLI still exits with status 2 once the client hangs
up, and over HTTP (or with a person at a terminal) it exits at once, as before.
"""

from __future__ import annotations

from typing import Any, NoReturn

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata

from imini_mcp.imini import ConfigurationError, __version__
from imini_mcp.mcp.tooling import RawArguments
from imini_mcp.mcp.tools import TOOLS

NEXT_STEP = (
    "Fix the setting where this MCP server is configured (the env block of its entry in the client's MCP "
    "configuration, or a .env file in its working directory), then restart the server (in most clients: "
    "restart the client). Nothing was sent to imini."
)


def misconfigured_server(problems: str) -> MCPServer:
    """A server with the usual tools, each of which answers with `problems` (the invalid settings) and the fix."""
    error = ConfigurationError(
        f"imini-mcp is not running: its configuration is invalid: {problems}", next_step=NEXT_STEP
    )

    async def unavailable(arguments: dict[str, Any]) -> NoReturn:
        raise ToolError(str(error))

    tools = [
        tool.model_copy(
            update={
                "fn": unavailable,
                "description": f"UNAVAILABLE until the server's configuration is fixed ({problems}). "
                + tool.description,
                "fn_metadata": FuncMetadata(arg_model=RawArguments),
                "context_kwarg": None,
            }
        )
        for tool in TOOLS
    ]
    return MCPServer(
        name="imini-mcp",
        title="imini video (not configured)",
        version=__version__,
        instructions=f"{error} Tell the user: every tool answers with this until it is fixed.",
        tools=tools,
    )
