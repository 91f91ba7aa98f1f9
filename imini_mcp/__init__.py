"""imini-mcp: an MCP server for imini's video API (kling/kling-v3)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("imini-mcp")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

USER_AGENT = f"imini-mcp/{__version__}"  # on every request to imini and to its file hosts


def __getattr__(name: str) -> object:
    # Lazy: importing the package must stay cheap and free of side effects (no env reads, no logging).
    if name == "build_server":
        from imini_mcp.server import build_server

        return build_server
    if name == "Settings":
        from imini_mcp.settings import Settings

        return Settings
    raise AttributeError(name)


__all__ = ["Settings", "__version__", "build_server"]
