"""`imini-mcp` command: read settings (env, .env, flags), set up stderr logging, run the server over stdio."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, NoReturn

from pydantic import ValidationError
from pydantic_core import PydanticUndefined

from imini_mcp.imini import __version__
from imini_mcp.settings import Settings, unvalidated


def env_help() -> str:
    """Every setting as its environment variable, from the Settings model itself (so --help cannot drift)."""
    lines = ["environment (also read from a .env file in the working directory):"]
    for name, field in Settings.model_fields.items():
        default = "" if field.default in (None, PydanticUndefined) else f" (default: {field.default})"
        lines.append(f"  IMINI_{name.upper():<22} {field.description or ''}{default}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="imini-mcp",
        description="MCP server for imini's video API (kling-v3 and more). Speaks MCP over stdio (default) or "
        "streamable HTTP.",
        epilog=f"{env_help()}\n\n{COPY_USAGE}",
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
    parser.add_argument(
        "--database-url",
        help="PostgreSQL task store for several replicas, postgresql://user:password@host:5432/db "
        "(prefer IMINI_DATABASE_URL: other local users can read a command line)",
    )
    parser.add_argument("--output-mode", choices=["url", "file", "both"], help="what a finished task gives")
    parser.add_argument("--output-dir", help="where downloaded videos go")
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
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # request lines would be noise


def read_settings(overrides: dict[str, Any]) -> Settings:
    """Settings from flags, environment and .env; invalid ones end the process (exit 2), saying which."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        invalid_configuration(exc, overrides)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["copy-journal"]:
        copy_journal_command(argv[1:])
        return
    args = parse_args(argv)
    settings = read_settings({k: v for k, v in vars(args).items() if v is not None})
    configure_logging(settings.log_level)
    if settings.simulate:
        settings = _simulated_journal(settings)
    elif settings.api_key is None and not (settings.per_user_keys or settings.oauth_mode()):
        logging.getLogger("imini_mcp").warning(
            "IMINI_API_KEY is not set: dry runs work, submitting does not (or run with --simulate)"
        )

    from imini_mcp.mcp import Shutdown, build_server

    if settings.transport == "stdio":
        build_server(settings).run("stdio")
        return
    import anyio

    from imini_mcp.imini import ConfigurationError
    from imini_mcp.mcp.http import check_exposure, check_fleet, check_oauth, serve_http

    try:
        check_exposure(settings)
        check_fleet(settings)
        check_oauth(settings)
    except ConfigurationError as exc:
        print(f"imini-mcp: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    shutdown = Shutdown()
    anyio.run(serve_http, build_server(settings, shutdown=shutdown), settings, shutdown)


def invalid_configuration(exc: ValidationError, given: dict[str, Any]) -> NoReturn:
    """Say what is wrong on stderr and exit with status 2. A stdio client is answered first: it would only show
    "Connection closed", so until it hangs up every tool answers with the problem (mcp/misconfigured.py)."""
    problems = "; ".join(f"IMINI_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
    print(f"imini-mcp: invalid configuration: {problems}", file=sys.stderr, flush=True)
    if unvalidated(given).get("transport", "stdio") == "stdio" and not sys.stdin.isatty():
        from imini_mcp.mcp.misconfigured import misconfigured_server

        configure_logging("WARNING")
        misconfigured_server(problems).run("stdio")
    raise SystemExit(2) from None


def _simulated_journal(settings: Settings) -> Settings:
    """Simulated tasks go to their own journal unless one was chosen, so they never mix with paid ones."""
    if "journal_path" in settings.model_fields_set:
        return settings
    return settings.model_copy(
        update={"journal_path": settings.journal_path.with_name("journal-simulated.sqlite3")}
    )


COPY_USAGE = """moving to PostgreSQL (several replicas):
  imini-mcp copy-journal [--from JOURNAL] [--to postgresql://…]
      copies the SQLite journal (default: IMINI_JOURNAL_PATH) into PostgreSQL (default: IMINI_DATABASE_URL),
      journal ids kept; running it again copies nothing twice"""


def copy_journal_command(argv: list[str]) -> None:
    """`imini-mcp copy-journal`: copy the SQLite journal into PostgreSQL, once, before the fleet starts."""
    parser = argparse.ArgumentParser(
        prog="imini-mcp copy-journal",
        description="Copy every task of the SQLite journal into PostgreSQL, with its journal id, in one "
        "transaction. Running it again copies nothing twice. Run it before the replicas use the database.",
    )
    parser.add_argument(
        "--from", dest="journal_path", help="the SQLite journal (default: IMINI_JOURNAL_PATH)"
    )
    parser.add_argument("--to", dest="database_url", help="postgresql://… (default: IMINI_DATABASE_URL)")
    args = parser.parse_args(argv)
    settings = read_settings({k: v for k, v in vars(args).items() if v is not None})
    url = settings.database_url_value()
    if url is None:
        print(
            "imini-mcp copy-journal: say where to: --to postgresql://… or IMINI_DATABASE_URL", file=sys.stderr
        )
        raise SystemExit(2)
    from imini_mcp.store import CopyConflict, DatabaseUnavailable, copy_journal

    try:
        report = copy_journal(settings.journal_path, url)
    except (FileNotFoundError, ValueError) as exc:
        print(f"imini-mcp copy-journal: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except (CopyConflict, DatabaseUnavailable) as exc:
        print(f"imini-mcp copy-journal: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(report.summary())
