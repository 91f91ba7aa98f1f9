"""Moving to PostgreSQL: copy an SQLite journal into the database, once, before the fleet starts.

Every row is copied with its journal id (clients have seen "journal entry #N", and list cursors are ids),
its JSON text as it is, and without its poll lease (leases belong to running processes). One transaction,
with the table locked against writers: either every row is there afterwards or nothing changed. Running it
again copies nothing more: a row whose id is already there with the same owner, request hash and submit
time is that row. An id held by another task (the database was used before the copy) stops the copy with
the ids named. Afterwards the id sequence is moved past the copied ids, so new tasks never reuse one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imini_mcp.store.database_url import redact_url

__all__ = ["CopyConflict", "CopyReport", "copy_journal"]

_COPIED = (
    "journal_id, owner, state, task_id, model, body, request_hash, idempotency_key, request_id, status,"
    " created_at, completed_at, videos, error, files, submitted_at, updated_at, last_polled_at, options"
)
_INSERT = (
    f"INSERT INTO tasks ({_COPIED}) VALUES (%s, %s, %s, %s, %s, %s::json, %s, %s, %s, %s, %s, %s,"
    " %s::json, %s::json, %s::json, %s, %s, %s, %s::json) ON CONFLICT DO NOTHING"
)
_SEQUENCE = "pg_get_serial_sequence('tasks', 'journal_id')"


class CopyConflict(RuntimeError):
    """The database holds other tasks under some of the journal's ids (or its task ids); nothing was copied."""


@dataclass(frozen=True)
class CopyReport:
    """What a copy did."""

    source: str  # the journal's path
    target: str  # the database URL, redacted
    rows: int  # rows in the journal
    copied: int  # rows written now
    already_there: int  # rows an earlier copy had written
    next_journal_id: int  # the id the next new task gets

    def summary(self) -> str:
        return (
            f"copied {self.copied} of {self.rows} tasks from {self.source} to {self.target}"
            f" ({self.already_there} were already there); new tasks start at journal id {self.next_journal_id}"
        )


def copy_journal(source: Path, database_url: str) -> CopyReport:
    """Copy every row of the SQLite journal at ``source`` into the PostgreSQL database (migrated first).

    Raises:
        FileNotFoundError: no journal at ``source``.
        ValueError: ``source`` is not an imini-mcp journal, or the URL is not a PostgreSQL URL.
        DatabaseUnavailable: the database cannot be reached.
        CopyConflict: some ids are taken by other tasks; nothing was written.
    """
    from imini_mcp.store.postgres_connection import connect, migrate  # psycopg only for this command

    rows = _read_journal(source)
    target = redact_url(database_url)
    with connect(database_url) as conn:
        migrate(conn, target)
        with conn.transaction():
            conn.execute("LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE")  # no writer meanwhile
            before = _count(conn)
            with conn.cursor() as cursor:
                cursor.executemany(_INSERT, rows)
            copied = _count(conn) - before
            _check_all_there(conn, rows)
            conn.execute(
                f"SELECT setval({_SEQUENCE}, m) FROM (SELECT max(journal_id) AS m FROM tasks) AS t"
                f" WHERE m > coalesce(pg_sequence_last_value({_SEQUENCE}::regclass), 0)"
            )
            next_row = conn.execute(f"SELECT coalesce(pg_sequence_last_value({_SEQUENCE}::regclass), 0) + 1")
            next_id = int(next_row.fetchone()[0])  # type: ignore[index]
    return CopyReport(str(source), target, len(rows), copied, len(rows) - copied, next_id)


def _read_journal(source: Path) -> list[tuple[Any, ...]]:
    """Every row of the journal, read-only (the file is not migrated or otherwise touched), in id order."""
    if not source.is_file():
        raise FileNotFoundError(f"no task journal at {source}")
    conn = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            columns = {row[1] for row in conn.execute("PRAGMA table_info(tasks)")}
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{source} is not an imini-mcp task journal ({exc})") from None
        if version < 1 or "journal_id" not in columns:
            raise ValueError(f"{source} is not an imini-mcp task journal (no tasks table)")
        options = "options" if "options" in columns else "'{}' AS options"  # journals before options
        select = _COPIED.replace("options", options)
        return [tuple(row) for row in conn.execute(f"SELECT {select} FROM tasks ORDER BY journal_id")]
    finally:
        conn.close()


def _count(conn: Any) -> int:
    return int(conn.execute("SELECT count(*) FROM tasks").fetchone()[0])


def _check_all_there(conn: Any, rows: list[tuple[Any, ...]]) -> None:
    """Each journal row is in the database under its id, as that row (owner, request hash, submit time)."""
    found = {
        row[0]: row[1:]
        for row in conn.execute(
            "SELECT journal_id, owner, request_hash, submitted_at FROM tasks WHERE journal_id = ANY(%s)",
            ([row[0] for row in rows],),
        )
    }
    # positions in _COPIED: 0 journal_id, 1 owner, 6 request_hash, 15 submitted_at
    wrong = [row[0] for row in rows if found.get(row[0]) != (row[1], row[6], row[15])]
    if wrong:
        shown = ", ".join(f"#{journal_id}" for journal_id in wrong[:10])
        more = f" and {len(wrong) - 10} more" if len(wrong) > 10 else ""
        raise CopyConflict(
            f"the database already holds other tasks under journal ids {shown}{more} (or under their task "
            "ids or idempotency keys); nothing was copied. Copy into a new database, before any replica uses it."
        )
