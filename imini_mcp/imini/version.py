"""This server's version, and how it names itself to imini and its file hosts."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("imini-mcp")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

USER_AGENT = f"imini-mcp/{__version__}"  # on every request to imini and to its file hosts
