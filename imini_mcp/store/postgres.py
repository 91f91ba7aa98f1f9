"""The task store in PostgreSQL, shared by a fleet of replicas (`TaskStore` in base.py is the contract).

Every write is one statement, or a row locked with ``FOR UPDATE`` where a JSON value is merged in Python
(the key order must survive, see postgres_schema.py): PostgreSQL's READ COMMITTED does not serialise
read-modify-write as SQLite's ``BEGIN IMMEDIATE`` does. Idempotency keys are a unique index, inserted with
``ON CONFLICT DO NOTHING`` and the winner read back. Record times come from the store's clock (injectable,
like SQLite's); poll leases use the database clock (postgres_coordination.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Final

import psycopg
from psycopg.errors import UniqueViolation

from imini_mcp.store.base import IdempotencyConflict, TaskRecord, TaskState
from imini_mcp.store.database_url import redact_url
from imini_mcp.store.postgres_connection import connect, migrate, open_pool
from imini_mcp.store.postgres_coordination import PostgresCoordination
from imini_mcp.store.postgres_schema import (
    COLUMNS,
    FROZEN,
    NOT_FINISHED,
    ORDER_NEWEST,
    ORDER_OLDEST,
    SUBMITTING,
    UNFINISHED,
    WITH_OPTION,
    record,
)
from imini_mcp.store.postgres_secrets import PostgresSecrets
from imini_mcp.store.sqlite_schema import dumps, envelope
from imini_mcp.store.task_filter import after_cursor, list_filter

__all__ = ["PostgresTaskStore"]

DEFAULT_POOL_SIZE: Final = 8  # connections per replica; calls are short, from anyio's worker threads
DEFAULT_CONNECT_TIMEOUT: Final = 10.0

Row = dict[str, Any]


class PostgresTaskStore(PostgresCoordination, PostgresSecrets):
    """The task journal in a PostgreSQL database; the schema is created or migrated on open.

    Args:
        url: ``postgresql://user:password@host:5432/db`` (libpq options may follow as ``?name=value``);
            it is shown only redacted (``location``), never with its password.
        clock: unix-time source for submitted_at / updated_at / last_polled_at (tests inject a fake one).
        pool_size: most connections this store opens at once.
        connect_timeout: seconds to wait for the database at open, and for a free connection later.

    Raises:
        DatabaseUnavailable: the database cannot be reached (the message hides the password).
        RuntimeError: its schema is newer than this imini-mcp knows.
    """

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float] = time.time,
        pool_size: int = DEFAULT_POOL_SIZE,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        self.location = redact_url(url)
        self._url = url
        self._clock = clock
        with connect(url) as conn:
            migrate(conn, self.location)
        self._pool = open_pool(url, max_size=pool_size, timeout=connect_timeout)

    def __repr__(self) -> str:
        return f"PostgresTaskStore({self.location!r})"

    # -- lifecycle -------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection. Idempotent; the store is unusable afterwards (PoolClosed)."""
        self._pool.close()

    def __enter__(self) -> PostgresTaskStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- statements ------------------------------------------------------------------------------------

    @contextmanager
    def _locked(self, owner: str, task_id: str) -> Iterator[tuple[psycopg.Connection[Row], Row | None]]:
        """A transaction holding the owner's task row (FOR UPDATE), or None if there is no such task."""
        with self._pool.connection() as conn, conn.transaction():
            row = conn.execute(
                f"SELECT {COLUMNS} FROM tasks WHERE owner = %s AND task_id = %s FOR UPDATE", (owner, task_id)
            ).fetchone()
            yield conn, row

    def _query(self, sql: str, params: Any = ()) -> list[TaskRecord]:
        with self._pool.connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [record(row) for row in rows]

    def _query_one(self, sql: str, params: Any) -> TaskRecord | None:
        found = self._query(sql, params)
        return found[0] if found else None

    def _by_journal_id(self, journal_id: int) -> TaskRecord:
        found = self.get_by_journal_id(journal_id)
        if found is None:
            raise KeyError(f"no journal entry with journal_id {journal_id}")
        return found

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
        """Write the intent before the HTTP call: insert unless the key is taken, else read the winner."""
        now = self._clock()
        fresh = self._query_one(
            "INSERT INTO tasks (owner, state, model, body, request_hash, idempotency_key, submitted_at,"
            " updated_at, options) VALUES (%s, 'submitting', %s, %s::json, %s, %s, %s, %s, %s::json)"
            " ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
            f" RETURNING {COLUMNS}",
            (owner, model, dumps(body), request_hash, idempotency_key, now, now, dumps(options or {})),
        )
        if fresh is not None:
            return fresh, True
        assert idempotency_key is not None  # only the key's unique index can refuse the insert
        existing = self.find_idempotent(owner, idempotency_key)
        if existing is None:  # rows are never deleted, so the winner is there (READ COMMITTED sees it)
            raise RuntimeError(f"idempotency key {idempotency_key!r} conflicted, but no row holds it")
        if existing.request_hash != request_hash:
            raise IdempotencyConflict(existing)
        return existing, False

    def mark_accepted(
        self,
        journal_id: int,
        *,
        task_id: str,
        request_id: str | None,
        created_at: str | None,
        model: str | None = None,
    ) -> TaskRecord:
        """Record the task id: one UPDATE of a row without one; the unique index refuses a duplicate."""
        try:
            updated = self._query_one(
                "UPDATE tasks SET state = 'accepted', task_id = %s, request_id = coalesce(%s, request_id),"
                " created_at = %s, model = coalesce(%s, model), status = 'queued', error = NULL,"
                f" updated_at = %s WHERE journal_id = %s AND task_id IS NULL RETURNING {COLUMNS}",
                (task_id, request_id, created_at, model, self._clock(), journal_id),
            )
        except UniqueViolation as exc:
            raise ValueError(f"task {task_id} is already journalled for this owner") from exc
        if updated is not None:
            return updated
        current = self._by_journal_id(journal_id)
        if current.task_id != task_id:
            raise ValueError(
                f"journal_id {journal_id} is already accepted as {current.task_id}, not {task_id}"
            )
        return current

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
        """One UPDATE of a 'submitting' row; a settled row is never downgraded, and comes back as is."""
        updated = self._query_one(
            "UPDATE tasks SET state = %s, error = %s::json, request_id = coalesce(%s, request_id),"
            f" updated_at = %s WHERE journal_id = %s AND {SUBMITTING} RETURNING {COLUMNS}",
            (state, dumps(error), request_id, self._clock(), journal_id),
        )
        return updated if updated is not None else self._by_journal_id(journal_id)

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
        """Record one poll result in one UPDATE; after a terminal status, a different one only sets the times."""
        return self._query_one(
            f"UPDATE tasks SET status = CASE WHEN {FROZEN} THEN status ELSE %(status)s END,"
            f" completed_at = CASE WHEN {FROZEN} THEN completed_at"
            " ELSE coalesce(%(completed_at)s, completed_at) END,"
            f" videos = CASE WHEN {FROZEN} THEN videos ELSE coalesce(%(videos)s::json, videos) END,"
            # An expired row that imini answers for after all is 'accepted' again, the 404 forgotten (SET
            # expressions see the row as it was, so `state` here is the old state).
            f" error = CASE WHEN {FROZEN} THEN error WHEN state = 'expired' THEN %(error)s::json"
            " ELSE coalesce(%(error)s::json, error) END,"
            f" state = CASE WHEN NOT {FROZEN} AND state = 'expired' THEN 'accepted' ELSE state END,"
            f" request_id = CASE WHEN {FROZEN} THEN request_id ELSE coalesce(request_id, %(request_id)s) END,"
            " last_polled_at = %(now)s, updated_at = %(now)s"
            f" WHERE owner = %(owner)s AND task_id = %(task_id)s RETURNING {COLUMNS}",
            {
                "status": status,
                "completed_at": completed_at,
                "videos": None if videos is None else dumps(videos),
                "error": None if error is None else dumps(error),
                "request_id": request_id,
                "now": self._clock(),
                "owner": owner,
                "task_id": task_id,
            },
        )

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
        updated = self._query_one(
            f"UPDATE tasks SET state = 'expired', error = %s::json, updated_at = %s"
            f" WHERE owner = %s AND task_id = %s AND {NOT_FINISHED} RETURNING {COLUMNS}",
            (dumps(envelope(code, message, status, request_id)), self._clock(), owner, task_id),
        )
        return updated if updated is not None else self.get(owner, task_id)

    def add_files(self, owner: str, task_id: str, paths: list[str]) -> TaskRecord | None:
        """Add downloaded file paths (union, first-seen order kept), the row locked meanwhile."""
        with self._locked(owner, task_id) as (conn, row):
            if row is None:
                return None
            merged = list(dict.fromkeys([*row["files"], *paths]))
            if merged != row["files"]:
                row = conn.execute(
                    f"UPDATE tasks SET files = %s::json, updated_at = %s WHERE journal_id = %s RETURNING {COLUMNS}",
                    (dumps(merged), self._clock(), row["journal_id"]),
                ).fetchone()
                assert row is not None  # the row is locked
            return record(row)

    def merge_options(self, owner: str, task_id: str, key: str, changes: dict[str, Any]) -> TaskRecord | None:
        """Merge `changes` into the dict `options[key]`, the row locked meanwhile (so no key is lost)."""
        with self._locked(owner, task_id) as (conn, row):
            if row is None:
                return None
            options: dict[str, Any] = row["options"]
            options[key] = {**options.get(key, {}), **changes}
            row = conn.execute(
                f"UPDATE tasks SET options = %s::json, updated_at = %s WHERE journal_id = %s RETURNING {COLUMNS}",
                (dumps(options), self._clock(), row["journal_id"]),
            ).fetchone()
            assert row is not None  # the row is locked
            return record(row)

    # -- reads -----------------------------------------------------------------------------------------

    def get(self, owner: str, task_id: str) -> TaskRecord | None:
        """The owner's record for an imini task id."""
        return self._query_one(
            f"SELECT {COLUMNS} FROM tasks WHERE owner = %s AND task_id = %s", (owner, task_id)
        )

    def get_by_journal_id(self, journal_id: int) -> TaskRecord | None:
        """Any owner's record by journal id (internal use: the caller holds the id from begin_submit)."""
        return self._query_one(f"SELECT {COLUMNS} FROM tasks WHERE journal_id = %s", (journal_id,))

    def find_idempotent(self, owner: str, idempotency_key: str) -> TaskRecord | None:
        """The owner's record submitted under this idempotency key."""
        return self._query_one(
            f"SELECT {COLUMNS} FROM tasks WHERE owner = %s AND idempotency_key = %s", (owner, idempotency_key)
        )

    def recent_same_request(self, owner: str, request_hash: str, *, since: float) -> list[TaskRecord]:
        """'accepted'/'outcome_unknown' rows with this hash submitted at or after ``since``, newest first."""
        return self._query(
            f"SELECT {COLUMNS} FROM tasks WHERE owner = %s AND request_hash = %s AND submitted_at >= %s"
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
        """The owner's tasks, newest first (submitted_at, then journal_id)."""
        if limit <= 0:
            return []
        where, params = list_filter(
            owner, status=status, since=since, with_option=with_option, mark="%s", option_test=WITH_OPTION
        )
        if before_journal_id is not None:
            cursor = self._query_one(
                f"SELECT {COLUMNS} FROM tasks WHERE journal_id = %s AND owner = %s",
                (before_journal_id, owner),
            )
            after_cursor(where, params, before_journal_id, cursor.submitted_at if cursor else None, "%s")
        sql = f"SELECT {COLUMNS} FROM tasks WHERE {' AND '.join(where)} {ORDER_NEWEST} LIMIT %s"
        return self._query(sql, (*params, limit))

    def unfinished(self, owner: str | None = None, *, with_option: str | None = None) -> list[TaskRecord]:
        """Accepted tasks whose status is not terminal, oldest first: what to follow again after a restart."""
        sql = f"SELECT {COLUMNS} FROM tasks WHERE {UNFINISHED}"
        params: list[Any] = []
        if owner is not None:
            sql += " AND owner = %s"
            params.append(owner)
        if with_option is not None:
            sql += f" AND {WITH_OPTION}"
            params.append(with_option)
        return self._query(f"{sql} {ORDER_OLDEST}", tuple(params))

    def stale_submitting(self, older_than: float) -> list[TaskRecord]:
        """'submitting' rows written before ``older_than`` (the process died mid-submit), oldest first."""
        return self._query(
            f"SELECT {COLUMNS} FROM tasks WHERE {SUBMITTING} AND submitted_at < %s {ORDER_OLDEST}",
            (older_than,),
        )

    def count(self, owner: str | None = None) -> int:
        """Number of journalled submits, for one owner or all."""
        with self._pool.connection() as conn:
            if owner is None:
                row = conn.execute("SELECT count(*) AS n FROM tasks").fetchone()
            else:
                row = conn.execute("SELECT count(*) AS n FROM tasks WHERE owner = %s", (owner,)).fetchone()
        assert row is not None
        return int(row["n"])
