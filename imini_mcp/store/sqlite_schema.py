"""The SQLite store's schema: its migrations, the SQL fragments its queries share, the error column's shape, and
row → TaskRecord."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Final

from imini_mcp.imini import DOCUMENTED_STATUSES, TERMINAL_STATUSES
from imini_mcp.store.base import TaskRecord

__all__ = [
    "MIGRATIONS",
    "ORDER_NEWEST",
    "ORDER_OLDEST",
    "SUBMITTING",
    "UNFINISHED",
    "dumps",
    "envelope",
    "record",
]

# Migration i moves the file from user_version i to i + 1. Append only: never edit a released entry.
# Statements run one by one inside a single BEGIN IMMEDIATE transaction (SQLite DDL is transactional).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        # No CHECK on `state`: SQLite cannot change a CHECK without rebuilding the table, and the
        # TaskRecord Literal already rejects unknown states on read.
        """CREATE TABLE tasks (
            journal_id      INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so it is a stable cursor
            owner           TEXT NOT NULL,
            state           TEXT NOT NULL,
            task_id         TEXT,
            model           TEXT NOT NULL,
            body            TEXT NOT NULL,
            request_hash    TEXT NOT NULL,
            idempotency_key TEXT,
            request_id      TEXT,
            status          TEXT,
            created_at      TEXT,
            completed_at    TEXT,
            videos          TEXT NOT NULL DEFAULT '[]',
            error           TEXT,
            files           TEXT NOT NULL DEFAULT '[]',
            submitted_at    REAL NOT NULL,
            updated_at      REAL NOT NULL,
            last_polled_at  REAL
        )""",
        "CREATE UNIQUE INDEX tasks_owner_task_id ON tasks (owner, task_id) WHERE task_id IS NOT NULL",
        "CREATE UNIQUE INDEX tasks_owner_idem ON tasks (owner, idempotency_key)"
        " WHERE idempotency_key IS NOT NULL",
        # list_tasks: one index per filter shape, each already in output order, so LIMIT stops early.
        "CREATE INDEX tasks_owner_order ON tasks (owner, submitted_at DESC, journal_id DESC)",
        "CREATE INDEX tasks_owner_status ON tasks (owner, status, submitted_at DESC, journal_id DESC)",
        "CREATE INDEX tasks_owner_state ON tasks (owner, state, submitted_at DESC, journal_id DESC)",
        "CREATE INDEX tasks_owner_hash ON tasks (owner, request_hash, submitted_at DESC, journal_id DESC)",
        # Partial indexes hold only the rows a restart must look at, so they stay tiny. The WHERE text
        # must match UNFINISHED / SUBMITTING below term for term, or SQLite will not use them.
        "CREATE INDEX tasks_unfinished ON tasks (submitted_at, journal_id) WHERE state = 'accepted' "
        "AND (status IS NULL OR status NOT IN ('succeeded', 'failed'))",
        "CREATE INDEX tasks_submitting ON tasks (submitted_at, journal_id) WHERE state = 'submitting'",
    ),
    (
        # Per-task choices that matter after the submit (e.g. output mode and file name for downloads).
        "ALTER TABLE tasks ADD COLUMN options TEXT NOT NULL DEFAULT '{}'",
    ),
    (
        # The state 'expired' (imini answered 404 for an accepted task). The table needs no change, and the
        # partial index tasks_unfinished already leaves such rows out (it keeps state = 'accepted' only);
        # the version moves on so that an older imini-mcp, which cannot read the new state, refuses the
        # file with "upgrade imini-mcp" instead of failing on the first expired row it lists.
        "UPDATE tasks SET state = state WHERE 0",
    ),
    (
        # The poll lease (sqlite_coordination.py): which process polls the task, until when (store clock).
        "ALTER TABLE tasks ADD COLUMN poller TEXT",
        "ALTER TABLE tasks ADD COLUMN lease_until REAL",
        "CREATE INDEX tasks_poller ON tasks (poller) WHERE poller IS NOT NULL",
    ),
    (
        # OAuth mode (secrets.py): each person's sealed imini key, and the key page's single-use entries.
        "CREATE TABLE imini_keys (owner TEXT PRIMARY KEY, sealed TEXT NOT NULL, updated_at REAL NOT NULL)",
        "CREATE TABLE pending (kind TEXT NOT NULL, ref TEXT NOT NULL, sealed TEXT NOT NULL,"
        " expires_at REAL NOT NULL, used_at REAL, PRIMARY KEY (kind, ref))",
    ),
)


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


# The terminal statuses in imini's documented order (a frozenset has no stable order, and the text must
# not vary from run to run). A terminal status missing from DOCUMENTED_STATUSES fails here, at import.
_TERMINAL_IN_ORDER: Final = tuple(sorted(TERMINAL_STATUSES, key=DOCUMENTED_STATUSES.index))

# The WHERE terms of the partial indexes tasks_unfinished and tasks_submitting: a query must repeat them
# term for term for SQLite to use those indexes (tests/store/test_sqlite_store.py checks they match).
UNFINISHED: Final = (
    f"state = 'accepted' AND (status IS NULL OR status NOT IN ({_sql_list(_TERMINAL_IN_ORDER)}))"
)
SUBMITTING: Final = "state = 'submitting'"

ORDER_NEWEST: Final = "ORDER BY submitted_at DESC, journal_id DESC"
ORDER_OLDEST: Final = "ORDER BY submitted_at, journal_id"


def dumps(value: Any) -> str:
    """JSON for a column: compact, key order preserved (`body` must read back exactly as sent upstream)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def envelope(code: str, message: str, status: int | None, request_id: str | None) -> dict[str, Any]:
    """An ``error`` as imini's error envelope has it: code and message, then status and request id if known."""
    error: dict[str, Any] = {"code": code, "message": message}
    if status is not None:
        error["status"] = status
    if request_id is not None:
        error["request_id"] = request_id
    return error


def record(row: sqlite3.Row) -> TaskRecord:
    """The TaskRecord of one `tasks` row (its JSON columns decoded)."""
    error = row["error"]
    return TaskRecord(
        journal_id=row["journal_id"],
        owner=row["owner"],
        state=row["state"],
        task_id=row["task_id"],
        model=row["model"],
        body=json.loads(row["body"]),
        request_hash=row["request_hash"],
        idempotency_key=row["idempotency_key"],
        request_id=row["request_id"],
        status=row["status"],
        created_at=row["created_at"],
        completed_at=row["completed_at"],
        videos=json.loads(row["videos"]),
        error=None if error is None else json.loads(error),
        files=json.loads(row["files"]),
        submitted_at=row["submitted_at"],
        updated_at=row["updated_at"],
        last_polled_at=row["last_polled_at"],
        options=json.loads(row["options"]),
    )
