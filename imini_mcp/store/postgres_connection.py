"""Connecting the PostgreSQL store: its URL (never shown with the password), connection options, the pool,
and the migrations (run once, under an advisory lock, however many replicas start at the same moment).

psycopg is imported here, and this module only when a database URL is configured.
"""

from __future__ import annotations

from typing import Any, Final

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from imini_mcp.store.database_url import DatabaseUnavailable, redact_url, scrub
from imini_mcp.store.postgres_schema import MIGRATIONS

__all__ = [
    "CONNECTION_DEFAULTS",
    "connect",
    "conninfo",
    "migrate",
    "open_pool",
]

# libpq options a URL may override. Keepalives *and* tcp_user_timeout: without both, a vanished database
# host (no FIN, no RST) keeps a connection, and a listener waiting on it, open for minutes to hours.
CONNECTION_DEFAULTS: Final[dict[str, str]] = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
    "tcp_user_timeout": "10000",  # milliseconds
}
MIGRATION_LOCK: Final = 0x696D_696E_695F_6D63  # pg_advisory_xact_lock key: "imini_mc"


def conninfo(url: str, application_name: str) -> str:
    """The libpq connection string: the URL's options, with CONNECTION_DEFAULTS for those it leaves out.

    Raises:
        ValueError: not a database URL libpq understands (the message shows it redacted).
    """
    try:
        given = conninfo_to_dict(url)
    except psycopg.Error:
        raise ValueError(f"not a valid PostgreSQL URL: {redact_url(url)}") from None
    return make_conninfo("", **{**CONNECTION_DEFAULTS, "application_name": application_name, **given})


def connect(
    url: str, *, application_name: str = "imini-mcp", autocommit: bool = False
) -> psycopg.Connection[Any]:
    """One connection; any failure is a DatabaseUnavailable that shows no password."""
    info = conninfo(url, application_name)
    try:
        return psycopg.connect(info, autocommit=autocommit)
    except psycopg.Error as exc:
        raise DatabaseUnavailable(f"cannot connect to {redact_url(url)}: {scrub(exc, url)}") from None


def open_pool(url: str, *, max_size: int, timeout: float) -> ConnectionPool[Any]:
    """A pool of autocommit connections returning dict rows, each checked before it is lent out."""
    pool: ConnectionPool[Any] = ConnectionPool(
        conninfo(url, "imini-mcp"),
        min_size=1,
        max_size=max_size,
        timeout=timeout,
        kwargs={"autocommit": True, "row_factory": dict_row},
        check=ConnectionPool.check_connection,  # a restarted database must not fail the next call
        name="imini-store",
        open=False,
    )
    try:
        pool.open(wait=True, timeout=timeout)
    except Exception as exc:
        pool.close()
        raise DatabaseUnavailable(f"cannot connect to {redact_url(url)}: {scrub(exc, url)}") from None
    return pool


def migrate(conn: psycopg.Connection[Any], where: str) -> None:
    """Bring the schema to len(MIGRATIONS), in one transaction that replicas starting together serialise on.

    Raises:
        RuntimeError: the database has a newer schema than this imini-mcp knows.
    """
    target = len(MIGRATIONS)
    with conn.transaction():
        conn.execute("SET LOCAL client_min_messages = warning")  # no NOTICE for "already exists"
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL)"
        )
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        current = 0 if row is None else int(row[0])
        if current > target:
            raise RuntimeError(
                f"{where} has task store schema version {current}, newer than this imini-mcp "
                f"understands ({target}); upgrade imini-mcp"
            )
        for statements in MIGRATIONS[current:]:
            for statement in statements:
                conn.execute(statement)
        if current < target:
            conn.execute(
                "INSERT INTO schema_version (version) VALUES (%s)"
                " ON CONFLICT (one) DO UPDATE SET version = excluded.version",
                (target,),
            )
