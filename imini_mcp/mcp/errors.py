"""The one place expected failures become MCP errors: tool errors with their next step, or JSON-RPC errors.

Tools raise `ToolError` (an `isError` result the model reads); MCP Tasks methods, which have no tool
result to carry the words, raise `MCPError` with the same text. Nothing else should reach a client as a
bare "Error executing tool".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS

from imini_mcp.imini import IminiError
from imini_mcp.request import InvalidArguments


@contextmanager
def tool_errors() -> Iterator[None]:
    """Inside a tool: a rejected request or an imini failure becomes a ToolError with every problem and fix."""
    try:
        yield
    except (InvalidArguments, IminiError) as exc:
        raise ToolError(str(exc)) from exc


def protocol_error(exc: InvalidArguments | IminiError) -> MCPError:
    """Outside a tool (MCP Tasks): invalid arguments are -32602, an imini failure -32603 with its facts."""
    if isinstance(exc, InvalidArguments):
        return MCPError(INVALID_PARAMS, str(exc))
    return MCPError(
        INTERNAL_ERROR, str(exc), {"code": exc.code, "status": exc.status, "request_id": exc.request_id}
    )


def tool_error_result(tool: str, exc: IminiError) -> dict[str, Any]:
    """A tool's error result as wire JSON, for a handler that answers a tools/call without running the tool."""
    return {"content": [{"type": "text", "text": f"Error executing tool {tool}: {exc}"}], "isError": True}
