"""The baseline server: a bare `MCPServer` with one echo tool over stdio, and nothing else.

Whatever imini-mcp costs beyond this (imports, lifespan, its own validation) is what the benchmarks
attribute to imini-mcp rather than to the MCP SDK or Python.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

mcp = MCPServer("echo", version="0.0.0")


@mcp.tool()
async def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


if __name__ == "__main__":
    mcp.run("stdio")
