"""imini-mcp: an MCP server for imini's video API (kling/kling-v3 and more). See docs/architecture.md."""

from imini_mcp.imini import __version__


def __getattr__(name: str) -> object:
    # Lazy: importing the package must stay cheap and free of side effects (no env reads, no logging).
    if name == "build_server":
        from imini_mcp.mcp import build_server

        return build_server
    if name == "Settings":
        from imini_mcp.settings import Settings

        return Settings
    raise AttributeError(name)


__all__ = ["Settings", "__version__", "build_server"]
