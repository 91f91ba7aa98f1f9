"""Durable SQLite journal of every video task: the intent is written before the paid submit, then each result.

It is the source of truth after a restart and for idempotency. Synchronous and thread-safe; several
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
from typing import Any, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict

from imini_mcp.imini.wire import TERMINAL_STATUSES

__all__ = [
    "MIGRATIONS",
    "IdempotencyConflict",
    "SqliteTaskStore",
    "TaskRecord",
    "TaskState",
]

TaskState = Literal["submitting", "accepted", "outcome_unknown", "rejected"]
TASK_STATES: Final[frozenset[str]] = frozenset(get_args(TaskState))

DEFAULT_BUSY_TIMEOUT: Final = 30.0  # seconds a write waits for another process before "database is locked"

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
        # must match _UNFINISHED / the stale_submitting query term for term, or SQLite will not use them.
        "CREATE INDEX tasks_unfinished ON tasks (submitted_at, journal_id) WHERE state = 'accepted' "
        "AND (status IS NULL OR status NOT IN ('succeeded', 'failed'))",
        "CREATE INDEX tasks_submitting ON tasks (submitted_at, journal_id) WHERE state = 'submitting'",
    ),
    (
        # Per-task choices that matter after the submit (e.g. output mode and file name for downloads).
        "ALTER TABLE tasks ADD COLUMN options TEXT NOT NULL DEFAULT '{}'",
    ),
)

_UNFINISHED: Final = "state = 'accepted' AND (status IS NULL OR status NOT IN ('succeeded', 'failed'))"
_ORDER_NEWEST: Final = "ORDER BY submitted_at DESC, journal_id DESC"
_ORDER_OLDEST: Final = "ORDER BY submitted_at, journal_id"


class TaskRecord(BaseModel):
    """One journalled submit, as stored. Immutable snapshot; read again for fresh data."""

    model_config = ConfigDict(frozen=True)

    journal_id: int
    owner: str
    state: TaskState
    task_id: str | None
    model: str
    body: dict[str, Any]
    request_hash: str
    idempotency_key: str | None
    request_id: str | None
    status: str | None
    created_at: str | None
    completed_at: str | None
    videos: list[dict[str, Any]]
    error: dict[str, Any] | None
    files: list[str]
    submitted_at: float
    updated_at: float
    last_polled_at: float | None
    options: dict[str, Any] = {}  # per-task choices made at submit (output mode, file name)

    @property
    def is_terminal(self) -> bool:
        """True when nothing more will happen upstream: succeeded, failed, or refused at submit."""
        return self.status in TERMINAL_STATUSES or self.state == "rejected"


class IdempotencyConflict(Exception):
    """The idempotency key was already used by this owner for a different request body."""

    def __init__(self, existing: TaskRecord) -> None:
        super().__init__(
            f"idempotency key {existing.idempotency_key!r} was already used for a different request "
            f"(journal_id {existing.journal_id}, task_id {existing.task_id}); "
            "use a new key, or resend the same body"
        )
        self.existing = existing


def _dumps(value: Any) -> str:
    # Compact and key order preserved: `body` must read back exactly as it was sent upstream.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _record(row: sqlite3.Row) -> TaskRecord:
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


class SqliteTaskStore:
    """The task journal stored in one SQLite file.

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
        self._conn = sqlite3.connect(
            self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._conn.row_factory = sqlite3.Row  # connect(timeout=...) already set SQLite's busy_timeout
            self._enable_wal(busy_timeout)
            # FULL: a commit is on disk before we send the paid request; NORMAL could lose it on power loss.
            self._conn.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

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

    def _enable_wal(self, busy_timeout: float) -> None:
        # Switching to WAL needs an exclusive lock, and SQLite may refuse it at once (without the busy
        # handler) while another process is opening the same new file; retry for up to busy_timeout.
        deadline = time.monotonic() + busy_timeout
        while True:
            try:
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)
                continue
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"cannot switch {self.path} to WAL (journal_mode is {mode!r})")
            return

    def _migrate(self) -> None:
        target = len(MIGRATIONS)
        if self._user_version() == target:
            return  # the common re-open: no write lock needed
        with self._write() as conn:
            current = self._user_version()  # re-read under the lock: another process may have migrated
            if current > target:
                raise RuntimeError(
                    f"{self.path} has journal schema version {current}, newer than this imini-mcp "
                    f"understands ({target}); upgrade imini-mcp"
                )
            for statements in MIGRATIONS[current:]:
                for statement in statements:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")

    def _user_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    # -- transactions ----------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes the write lock up front, so read-then-write sequences cannot interleave
        # with another process (and never hit the unrecoverable SQLITE_BUSY of a read-to-write upgrade).
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[TaskRecord]:
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [_record(row) for row in rows]

    def _query_one(self, sql: str, params: tuple[Any, ...]) -> TaskRecord | None:
        found = self._query(sql, params)
        return found[0] if found else None

    @staticmethod
    def _row(conn: sqlite3.Connection, journal_id: int) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM tasks WHERE journal_id = ?", (journal_id,)).fetchone()
        if row is None:
            raise KeyError(f"no journal entry with journal_id {journal_id}")
        return row

    @staticmethod
    def _row_by_task(conn: sqlite3.Connection, owner: str, task_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM tasks WHERE owner = ? AND task_id = ?", (owner, task_id)
        ).fetchone()
        return row

    # -- submit lifecycle ------------------------------------------------------------------------------

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
        """Write the intent to submit, before the HTTP call.

        Returns:
            ``(record, True)`` for a new 'submitting' row; ``(existing, False)`` when this owner already
            used ``idempotency_key`` for the same ``request_hash`` (the caller must not submit again).

        Raises:
            IdempotencyConflict: the key was used for a different request_hash.
        """
        with self._write() as conn:
            if idempotency_key is not None:
                existing = conn.execute(
                    "SELECT * FROM tasks WHERE owner = ? AND idempotency_key = ?", (owner, idempotency_key)
                ).fetchone()
                if existing is not None:
                    record = _record(existing)
                    if record.request_hash != request_hash:
                        raise IdempotencyConflict(record)
                    return record, False
            now = self._clock()
            cursor = conn.execute(
                "INSERT INTO tasks (owner, state, model, body, request_hash, idempotency_key,"
                " submitted_at, updated_at, options) VALUES (?, 'submitting', ?, ?, ?, ?, ?, ?, ?)",
                (owner, model, _dumps(body), request_hash, idempotency_key, now, now, _dumps(options or {})),
            )
            assert cursor.lastrowid is not None
            return _record(self._row(conn, cursor.lastrowid)), True

    def mark_accepted(
        self,
        journal_id: int,
        *,
        task_id: str,
        request_id: str | None,
        created_at: str | None,
        model: str | None = None,
    ) -> TaskRecord:
        """Record the task id imini returned; status becomes 'queued'.

        Wins over 'outcome_unknown' / 'rejected' (a task id is hard evidence). Repeating it with the
        same task id is a no-op.

        Raises:
            KeyError: unknown journal_id.
            ValueError: the row already holds another task id, or this owner already journalled task_id.
        """
        with self._write() as conn:
            row = self._row(conn, journal_id)
            if row["task_id"] is not None:
                if row["task_id"] != task_id:
                    raise ValueError(
                        f"journal_id {journal_id} is already accepted as {row['task_id']}, not {task_id}"
                    )
                return _record(row)
            try:
                conn.execute(
                    "UPDATE tasks SET state = 'accepted', task_id = ?, request_id = coalesce(?, request_id),"
                    " created_at = ?, model = coalesce(?, model), status = 'queued', error = NULL,"
                    " updated_at = ? WHERE journal_id = ?",
                    (task_id, request_id, created_at, model, self._clock(), journal_id),
                )
            except sqlite3.IntegrityError as exc:
                raise ValueError(f"task {task_id} is already journalled for this owner") from exc
            return _record(self._row(conn, journal_id))

    def mark_outcome_unknown(self, journal_id: int, *, code: str, message: str) -> TaskRecord:
        """The submit may have reached imini but no task id came back; never retried automatically.

        Only a 'submitting' row changes; any other row is returned as is (it already knows more).

        Raises:
            KeyError: unknown journal_id.
        """
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
        """imini definitely refused the submit (4xx): nothing was created or billed.

        ``status`` is the HTTP status; it goes into ``error`` (shaped like imini's error envelope), not
        into the task ``status`` field. Only a 'submitting' row changes.

        Raises:
            KeyError: unknown journal_id.
        """
        error: dict[str, Any] = {"code": code, "message": message}
        if status is not None:
            error["status"] = status
        if request_id is not None:
            error["request_id"] = request_id
        return self._settle(journal_id, "rejected", error, request_id)

    def _settle(
        self, journal_id: int, state: TaskState, error: dict[str, Any], request_id: str | None
    ) -> TaskRecord:
        with self._write() as conn:
            row = self._row(conn, journal_id)
            if row["state"] != "submitting":
                # Never downgrade: a late timeout handler must not hide an accepted task id.
                return _record(row)
            conn.execute(
                "UPDATE tasks SET state = ?, error = ?, request_id = coalesce(?, request_id), updated_at = ?"
                " WHERE journal_id = ?",
                (state, _dumps(error), request_id, self._clock(), journal_id),
            )
            return _record(self._row(conn, journal_id))

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
        """Record one poll result and its time; None if the task is not journalled for this owner.

        A terminal status is final: a stale concurrent poll ('processing' after 'succeeded') only
        updates last_polled_at, and a different terminal status never replaces the first one. Fields
        given as None keep their stored value. ``request_id`` only fills a missing one, so the submit's
        request id (the one support asks for) is kept.
        """
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
                conn.execute(
                    "UPDATE tasks SET status = ?, completed_at = coalesce(?, completed_at),"
                    " videos = coalesce(?, videos), error = coalesce(?, error),"
                    " request_id = coalesce(request_id, ?), last_polled_at = ?, updated_at = ?"
                    " WHERE journal_id = ?",
                    (
                        status,
                        completed_at,
                        None if videos is None else _dumps(videos),
                        None if error is None else _dumps(error),
                        request_id,
                        now,
                        now,
                        row["journal_id"],
                    ),
                )
            return _record(self._row(conn, row["journal_id"]))

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
                    (_dumps(merged), self._clock(), row["journal_id"]),
                )
            return _record(self._row(conn, row["journal_id"]))

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
                (_dumps(options), self._clock(), row["journal_id"]),
            )
            return _record(self._row(conn, row["journal_id"]))

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
            f" AND state IN ('accepted', 'outcome_unknown') {_ORDER_NEWEST}",
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
        """The owner's tasks, newest first (submitted_at, then journal_id).

        Args:
            status: an imini status ('queued', 'succeeded', ...) or a state name ('submitting',
                'accepted', 'outcome_unknown', 'rejected'); None = all.
            since: only tasks submitted at or after this unix time.
            limit: page size; 0 or less gives [].
            before_journal_id: paging cursor, the journal_id of the last record of the previous page.
            with_option: only tasks whose options have this key (e.g. "mcp_task").
        """
        if limit <= 0:
            return []
        where = ["owner = ?"]
        params: list[Any] = [owner]
        if status is not None:
            # State names never collide with imini's statuses, so one argument can mean either.
            where.append("state = ?" if status in TASK_STATES else "status = ?")
            params.append(status)
        if since is not None:
            where.append("submitted_at >= ?")
            params.append(since)
        if with_option is not None:
            where.append("json_extract(options, '$.' || ?) IS NOT NULL")
            params.append(with_option)
        with self._lock:
            if before_journal_id is not None:
                cursor_row = self._conn.execute(
                    "SELECT submitted_at FROM tasks WHERE journal_id = ? AND owner = ?",
                    (before_journal_id, owner),
                ).fetchone()
                if cursor_row is not None:
                    # Continue after the cursor row in (submitted_at, journal_id) order; a row-value
                    # comparison lets SQLite seek in the index instead of re-reading earlier pages.
                    where.append("(submitted_at, journal_id) < (?, ?)")
                    params += [cursor_row[0], before_journal_id]
                else:
                    # Not this owner's row: page by id alone, which reveals nothing about other owners.
                    where.append("journal_id < ?")
                    params.append(before_journal_id)
            sql = f"SELECT * FROM tasks WHERE {' AND '.join(where)} {_ORDER_NEWEST} LIMIT ?"
            rows = self._conn.execute(sql, (*params, limit)).fetchall()
        return [_record(row) for row in rows]

    def unfinished(self, owner: str | None = None, *, with_option: str | None = None) -> list[TaskRecord]:
        """Accepted tasks whose status is not terminal, oldest first: what to follow again after a restart.
        `with_option`: only those whose options have this key (filtered in SQL: no record is built for the rest)."""
        # INDEXED BY: the tiny partial index beats (owner, state), which would walk all of an owner's
        # finished tasks; and should the index ever become unusable, SQLite errors instead of scanning.
        sql = f"SELECT * FROM tasks INDEXED BY tasks_unfinished WHERE {_UNFINISHED}"
        params: list[Any] = []
        if owner is not None:
            sql += " AND owner = ?"
            params.append(owner)
        if with_option is not None:
            sql += " AND json_extract(options, '$.' || ?) IS NOT NULL"
            params.append(with_option)
        return self._query(f"{sql} {_ORDER_OLDEST}", tuple(params))

    def stale_submitting(self, older_than: float) -> list[TaskRecord]:
        """'submitting' rows written before ``older_than`` (the process died mid-submit), oldest first."""
        return self._query(
            f"SELECT * FROM tasks WHERE state = 'submitting' AND submitted_at < ? {_ORDER_OLDEST}",
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
