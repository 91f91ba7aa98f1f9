#!/usr/bin/env sh
# Register imini-mcp with Claude Code (user scope). Replace the path and the key.
claude mcp add imini --scope user --env IMINI_API_KEY=your-imini-key -- /absolute/path/to/.venv/bin/imini-mcp
# Optional: raise Claude Code's MCP tool timeout so long waits are not cut off (milliseconds).
# export MCP_TOOL_TIMEOUT=300000
