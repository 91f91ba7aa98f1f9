"""`imini-mcp` command: read settings (env, .env, flags), set up stderr logging, run the server over stdio."""

from __future__ import annotations

import argparse
import logging
import sys

from pydantic import ValidationError

from imini_mcp import __version__
from imini_mcp.settings import Settings

ENV_HELP = """\
environment (also read from a .env file in the working directory):
  IMINI_API_KEY               your imini API key (not needed for dry runs or --simulate)
  IMINI_BASE_URL              API base URL (default https://openapi.imini.ai/imini/router)
  IMINI_CONNECT_TIMEOUT       seconds to connect to imini (default 10)
  IMINI_READ_TIMEOUT          seconds to wait for one imini answer (default 60)
  IMINI_DEFAULT_WAIT_SECONDS  how long calls wait for a result by default (default 45)
  IMINI_MAX_WAIT_SECONDS      the longest wait a call may ask for (default 240)
  IMINI_JOURNAL_PATH          SQLite task journal (default: the user data dir)
  IMINI_SIMULATE              true = use the built-in simulated imini
  IMINI_SIMULATE_SECONDS      how long a simulated task takes (default 20)
  IMINI_LOG_LEVEL             stderr log level (default INFO)
  remote (streamable HTTP) deployment:
  IMINI_TRANSPORT             stdio (default) or streamable-http
  IMINI_HOST / IMINI_PORT     where to listen (default 127.0.0.1:8000)
  IMINI_MCP_AUTH_TOKEN        bearer token every request must present (required off loopback)
  IMINI_PER_USER_KEYS         true = each request brings its own key in X-Imini-Api-Key
  IMINI_ALLOWED_HOSTS         extra Host names to accept, comma-separated (DNS-rebinding protection)
  IMINI_ALLOWED_ORIGINS       extra Origins to accept, comma-separated
  IMINI_MAX_BODY_BYTES        largest request body (default 60 MiB)
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="imini-mcp",
        description="MCP server for imini's video API (kling/kling-v3). Speaks MCP over stdio (default) or "
        "streamable HTTP.",
        epilog=ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"imini-mcp {__version__}")
    parser.add_argument(
        "--simulate",
        action="store_true",
        default=None,
        help="run against a built-in simulated imini: no key, no credits, sample videos",
    )
    parser.add_argument("--simulate-seconds", type=float, help="how long a simulated task takes (default 20)")
    parser.add_argument("--journal", dest="journal_path", help="path of the SQLite task journal")
    parser.add_argument("--transport", choices=["stdio", "streamable-http"], help="how clients connect")
    parser.add_argument("--host", help="HTTP: address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="HTTP: port (default 8000)")
    parser.add_argument(
        "--per-user-keys",
        action="store_true",
        default=None,
        help="HTTP: each request brings its own imini key in the X-Imini-Api-Key header",
    )
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="stderr log level")
    return parser.parse_args(argv)


def configure_logging(level: str) -> None:
    # Before MCPServer(), which would otherwise configure the root logger itself. stdout is the protocol.
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # request lines would be noise


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    overrides = {k: v for k, v in vars(args).items() if v is not None}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"IMINI_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        print(f"imini-mcp: invalid configuration: {problems}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_level)
    if settings.simulate:
        settings = _simulated_journal(settings)
    elif settings.api_key is None and not settings.per_user_keys:
        logging.getLogger("imini_mcp").warning(
            "IMINI_API_KEY is not set: dry runs work, submitting does not (or run with --simulate)"
        )

    from imini_mcp.server import Shutdown, build_server

    if settings.transport == "stdio":
        build_server(settings).run("stdio")
        return
    import anyio

    from imini_mcp.errors import ConfigurationError
    from imini_mcp.http_app import check_exposure, serve_http

    try:
        check_exposure(settings)
    except ConfigurationError as exc:
        print(f"imini-mcp: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    shutdown = Shutdown()
    anyio.run(serve_http, build_server(settings, shutdown=shutdown), settings, shutdown)


def _simulated_journal(settings: Settings) -> Settings:
    """Simulated tasks go to their own journal unless one was chosen, so they never mix with paid ones."""
    if "journal_path" in settings.model_fields_set:
        return settings
    return settings.model_copy(
        update={"journal_path": settings.journal_path.with_name("journal-simulated.sqlite3")}
    )
