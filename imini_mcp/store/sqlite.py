"""The task store in one SQLite file (`TaskStore` in base.py is the contract it keeps).

The intent is written before the paid submit, then each result. Synchronous and thread-safe; several
processes may share one file (WAL, busy_timeout, ``BEGIN IMMEDIATE`` for every write).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from imini_mcp.imini import TERMINAL_STATUSES
from imini_mcp.store.base import IdempotencyConflict, TaskRecord, TaskState
from imini_mcp.store.sqlite_connection import immediate, open_connection
from imini_mcp.store.sqlite_coordination import SqliteCoordination
from imini_mcp.store.sqlite_schema import (
    ORDER_NEWEST,
    ORDER_OLDEST,
    SUBMITTING,
    UNFINISHED,
    dumps,
    envelope,
    record,
)
from imini_mcp.store.sqlite_secrets import SqliteSecrets
from imini_mcp.store.task_filter import after_cursor, list_filter

__all__ = ["SqliteTaskStore"]

DEFAULT_BUSY_TIMEOUT: Final = 30.0  # seconds a write waits for another process before "database is locked"


class SqliteTaskStore(SqliteCoordination, SqliteSecrets):
    """The task journal stored in one SQLite file (poll leases and the watcher: sqlite_coordination.py).

    Args:
        path: the database file; its parent directory is created if missing.
        clock: unix-time source for submitted_at / updated_at / last_polled_at (tests inject a fake one).
        busy_timeout: seconds a write waits while another process holds the write lock.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        self.path = Path(path).expanduser()
        self._clock = clock
        # One connection guarded by a lock, not one per thread: every call is a sub-millisecond
        # statement, the async service reaches us from anyio worker threads that come and go, and a
        # single connection lets close() really close everything (a connection owned by another
        # thread cannot be closed from here). Cross-process safety comes from SQLite's locks.
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = open_connection(self.path, busy_timeout)

    # -- lifecycle -------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection. Idempotent; the journal is unusable afterwards."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqliteTaskStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- transactions ----------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, immediate(self._conn) as conn:
            yield conn

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[TaskRecord]:
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [record(row) for row in rows]

    def _query_one(self, sql: str, params: tuple[Any, ...]) -> TaskRecord | None:
        found = self._query(sql, params)
        return found[0] if found else None

    @staticmethod
    def _row(conn: sqlite3.Connection, journal_id: int) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM tasks WHERE journal_id = ?", (journal_id,)
        ).fetchone()
        if row is None:
            raise KeyError(f"no journal entry with journal_id {journal_id}")
        return row

    @staticmethod
    def _row_by_task(conn: sqlite3.Connection, owner: str, task_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM tasks WHERE owner = ? AND task_id = ?", (owner, task_id)
        ).fetchone()
        return row

    # -- submit lifecycle (the contract of each method is on TaskStore) ------------------------------

    def begin_submit(
        self,
        *,
        owner: str,
        model: str,
        body: dict[str, Any],
        request_hash: str,
        idempotency_key: str | None,
        options: dict[str, Any] | None = None,
    ) -> tuple[TaskRecord, bool]:
        """Write the intent to submit, before the HTTP call; the key lookup and the insert share one write lock."""
        with self._write() as conn:
            if idempotency_key is not None:
                existing = conn.execute(
                    "SELECT * FROM tasks WHERE owner = ? AND idempotency_key = ?", (owner, idempotency_key)
                ).fetchone()
                if existing is not None:
                    found = record(existing)
                    if found.request_hash != request_hash:
                        raise IdempotencyConflict(found)
                    return found, False
            now = self._clock()
            cursor = conn.execute(
                "INSERT INTO tasks (owner, state, model, body, request_hash, idempotency_key,"
                " submitted_at, updated_at, options) VALUES (?, 'submitting', ?, ?, ?, ?, ?, ?, ?)",
                (owner, model, dumps(body), request_hash, idempotency_key, now, now, dumps(options or {})),
            )
            assert cursor.lastrowid is not None
            return record(self._row(conn, cursor.lastrowid)), True

    def mark_accepted(
        self,
        journal_id: int,
        *,
        task_id: str,
        request_id: str | None,
        created_at: str | None,
        model: str | None = None,
    ) -> TaskRecord:
        """Record the task id imini returned; the unique index (owner, task_id) refuses a duplicate."""
        with self._write() as conn:
            row = self._row(conn, journal_id)
            if row["task_id"] is not None:
                if row["task_id"] != task_id:
                    raise ValueError(
                        f"journal_id {journal_id} is already accepted as {row['task_id']}, not {task_id}"
                    )
                return record(row)
            try:
                conn.execute(
                    "UPDATE tasks SET state = 'accepted', task_id = ?, request_id = coalesce(?, request_id),"
                    " created_at = ?, model = coalesce(?, model), status = 'queued', error = NULL,"
                    " updated_at = ? WHERE journal_id = ?",
                    (task_id, request_id, created_at, model, self._clock(), journal_id),
                )
            except sqlite3.IntegrityError as exc:
                raise ValueError(f"task {task_id} is already journalled for this owner") from exc
            return record(self._row(conn, journal_id))

    def mark_outcome_unknown(self, journal_id: int, *, code: str, message: str) -> TaskRecord:
        """The submit may have reached imini but no task id came back; only a 'submitting' row changes."""
        return self._settle(journal_id, "outcome_unknown", {"code": code, "message": message}, None)

    def mark_rejected(
        self,
        journal_id: int,
        *,
        code: str,
        message: str,
        status: int | None = None,
        request_id: str | None = None,
    ) -> TaskRecord:
        """imini refused the submit (4xx); the HTTP ``status`` goes into ``error``, not the task status."""
        return self._settle(journal_id, "rejected", envelope(code, message, status, request_id), request_id)

    def _settle(
        self, journal_id: int, state: TaskState, error: dict[str, Any], request_id: str | None
    ) -> TaskRecord:
        with self._write() as conn:
            row = self._row(conn, journal_id)
            if row["state"] != "submitting":
                # Never downgrade: a late timeout handler must not hide an accepted task id.
                return record(row)
            conn.execute(
                "UPDATE tasks SET state = ?, error = ?, request_id = coalesce(?, request_id), updated_at = ?"
                " WHERE journal_id = ?",
                (state, dumps(error), request_id, self._clock(), journal_id),
            )
            return record(self._row(conn, journal_id))

    # -- polling and results ---------------------------------------------------------------------------

    def update_status(
        self,
        owner: str,
        task_id: str,
        *,
        status: str,
        completed_at: str | None = None,
        videos: list[dict[str, Any]] | None = None,
        error: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> TaskRecord | None:
        """Record one poll result; after a terminal status, a different one only sets last_polled_at."""
        with self._write() as conn:
            row = self._row_by_task(conn, owner, task_id)
            if row is None:
                return None
            now = self._clock()
            current = row["status"]
            if current in TERMINAL_STATUSES and status != current:
                conn.execute(
                    "UPDATE tasks SET last_polled_at = ?, updated_at = ? WHERE journal_id = ?",
                    (now, now, row["journal_id"]),
                )
            else:
                # An expired row that imini answers for after all is 'accepted' again, the 404 forgotten.
                # (SET expressions see the row as it was, so `state` below is the old state.)
                conn.execute(
                    "UPDATE tasks SET status = :status, completed_at = coalesce(:completed_at, completed_at),"
                    " videos = coalesce(:videos, videos),"
                    " error = CASE WHEN state = 'expired' THEN :error ELSE coalesce(:error, error) END,"
                    " state = CASE WHEN state = 'expired' THEN 'accepted' ELSE state END,"
                    " request_id = coalesce(request_id, :request_id), last_polled_at = :now, updated_at = :now"
                    " WHERE journal_id = :journal_id",
                    {
                        "status": status,
                        "completed_at": completed_at,
                        "videos": None if videos is None else dumps(videos),
                        "error": None if error is None else dumps(error),
                        "request_id": request_id,
                        "now": now,
                        "journal_id": row["journal_id"],
                    },
                )
            return record(self._row(conn, row["journal_id"]))

    def mark_expired(
        self,
        owner: str,
        task_id: str,
        *,
        code: str,
        message: str,
        status: int | None = None,
        request_id: str | None = None,
    ) -> TaskRecord | None:
        """imini answered 404 for this accepted, unfinished task; any other row is returned unchanged."""
        error = envelope(code, message, status, request_id)
        with self._write() as conn:
            row = self._row_by_task(conn, owner, task_id)
            if row is None:
                return None
            if row["state"] == "accepted" and row["status"] not in TERMINAL_STATUSES:
                conn.execute(
                    "UPDATE tasks SET state = 'expired', error = ?, updated_at = ? WHERE journal_id = ?",
                    (dumps(error), self._clock(), row["journal_id"]),
                )
            return record(self._row(conn, row["journal_id"]))

    def add_files(self, owner: str, task_id: str, paths: list[str]) -> TaskRecord | None:
        """Add downloaded file paths (union, first-seen order kept); None if the task is not this owner's."""
        with self._write() as conn:
            row = self._row_by_task(conn, owner, task_id)
            if row is None:
                return None
            files: list[str] = json.loads(row["files"])
            merged = list(dict.fromkeys([*files, *paths]))
            if merged != files:
                conn.execute(
                    "UPDATE tasks SET files = ?, updated_at = ? WHERE journal_id = ?",
                    (dumps(merged), self._clock(), row["journal_id"]),
                )
            return record(self._row(conn, row["journal_id"]))

    def merge_options(self, owner: str, task_id: str, key: str, changes: dict[str, Any]) -> TaskRecord | None:
        """Merge `changes` into the dict `options[key]` (e.g. MCP task metadata); None if not this owner's."""
        with self._write() as conn:
            row = self._row_by_task(conn, owner, task_id)
            if row is None:
                return None
            options: dict[str, Any] = json.loads(row["options"])
            options[key] = {**options.get(key, {}), **changes}
            conn.execute(
                "UPDATE tasks SET options = ?, updated_at = ? WHERE journal_id = ?",
                (dumps(options), self._clock(), row["journal_id"]),
            )
            return record(self._row(conn, row["journal_id"]))

    # -- reads -----------------------------------------------------------------------------------------

    def get(self, owner: str, task_id: str) -> TaskRecord | None:
        """The owner's record for an imini task id."""
        return self._query_one("SELECT * FROM tasks WHERE owner = ? AND task_id = ?", (owner, task_id))

    def get_by_journal_id(self, journal_id: int) -> TaskRecord | None:
        """Any owner's record by journal id (internal use: the caller holds the id from begin_submit)."""
        return self._query_one("SELECT * FROM tasks WHERE journal_id = ?", (journal_id,))

    def find_idempotent(self, owner: str, idempotency_key: str) -> TaskRecord | None:
        """The owner's record submitted under this idempotency key."""
        return self._query_one(
            "SELECT * FROM tasks WHERE owner = ? AND idempotency_key = ?", (owner, idempotency_key)
        )

    def recent_same_request(self, owner: str, request_hash: str, *, since: float) -> list[TaskRecord]:
        """'accepted'/'outcome_unknown' rows with this hash submitted at or after ``since``, newest first."""
        return self._query(
            "SELECT * FROM tasks WHERE owner = ? AND request_hash = ? AND submitted_at >= ?"
            f" AND state IN ('accepted', 'outcome_unknown') {ORDER_NEWEST}",
            (owner, request_hash, since),
        )

    def list_tasks(
        self,
        owner: str,
        *,
        status: str | None = None,
        since: float | None = None,
        limit: int = 20,
        before_journal_id: int | None = None,
        with_option: str | None = None,
    ) -> list[TaskRecord]:
        """The owner's tasks, newest first (submitted_at, then journal_id); one index per filter shape."""
        if limit <= 0:
            return []
        where, params = list_filter(
            owner,
            status=status,
            since=since,
            with_option=with_option,
            mark="?",
            option_test="json_extract(options, '$.' || ?) IS NOT NULL",
        )
        with self._lock:
            if before_journal_id is not None:
                cursor_row = self._conn.execute(
                    "SELECT submitted_at FROM tasks WHERE journal_id = ? AND owner = ?",
                    (before_journal_id, owner),
                ).fetchone()
                after_cursor(where, params, before_journal_id, cursor_row[0] if cursor_row else None, "?")
            sql = f"SELECT * FROM tasks WHERE {' AND '.join(where)} {ORDER_NEWEST} LIMIT ?"
            rows = self._conn.execute(sql, (*params, limit)).fetchall()
        return [record(row) for row in rows]

    def unfinished(self, owner: str | None = None, *, with_option: str | None = None) -> list[TaskRecord]:
        """Accepted tasks whose status is not terminal, oldest first: what to follow again after a restart.
        `with_option`: only those whose options have this key (filtered in SQL: no record is built for the rest)."""
        # INDEXED BY: the tiny partial index beats (owner, state), which would walk all of an owner's
        # finished tasks; and should the index ever become unusable, SQLite errors instead of scanning.
        sql = f"SELECT * FROM tasks INDEXED BY tasks_unfinished WHERE {UNFINISHED}"
        params: list[Any] = []
        if owner is not None:
            sql += " AND owner = ?"
            params.append(owner)
        if with_option is not None:
            sql += " AND json_extract(options, '$.' || ?) IS NOT NULL"
            params.append(with_option)
        return self._query(f"{sql} {ORDER_OLDEST}", tuple(params))

    def stale_submitting(self, older_than: float) -> list[TaskRecord]:
        """'submitting' rows written before ``older_than`` (the process died mid-submit), oldest first."""
        return self._query(
            f"SELECT * FROM tasks WHERE {SUBMITTING} AND submitted_at < ? {ORDER_OLDEST}",
            (older_than,),
        )

    def count(self, owner: str | None = None) -> int:
        """Number of journalled submits, for one owner or all."""
        with self._lock:
            if owner is None:
                row = self._conn.execute("SELECT count(*) FROM tasks").fetchone()
            else:
                row = self._conn.execute("SELECT count(*) FROM tasks WHERE owner = ?", (owner,)).fetchone()
        return int(row[0])
