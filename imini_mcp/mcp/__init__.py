"""The MCP layer: `build_server`, one module per tool, MCP Tasks, prompts, accounts, the HTTP app (http.py,
imported only when serving HTTP: uvicorn stays off the stdio start). The only layer that knows MCP;
everything it does goes through the app layer's use cases.
"""

from imini_mcp.mcp.lifespan import Shutdown
from imini_mcp.mcp.server import build_server

__all__ = ["Shutdown", "build_server"]
