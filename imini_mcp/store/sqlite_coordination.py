"""The SQLite store's part of `Coordination`: poll leases on the store's clock, and its change watcher.

A SQLite "fleet" lives on one host, so the store's clock is the lease clock. Mixed into SqliteTaskStore.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from imini_mcp.store.coordination import ChangeWatcher, PollLease

__all__ = ["SqliteCoordination", "check_lease_args"]


def check_lease_args(poller: str, ttl: float) -> None:
    """The arguments every claim and renewal checks (shared with the PostgreSQL store)."""
    if not poller:
        raise ValueError("a poller needs a non-empty name")
    if not ttl > 0:
        raise ValueError(f"a lease needs a positive ttl, not {ttl!r}")


class SqliteCoordination:
    """Leases as in the PostgreSQL store, with the store's clock instead of the database's `now()`."""

    path: Path
    _clock: Callable[[], float]
    _lock: threading.RLock
    _conn: sqlite3.Connection

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError  # SqliteTaskStore's BEGIN IMMEDIATE transaction

    def claim_poll(self, owner: str, task_id: str, poller: str, ttl: float) -> bool:
        """Claim or renew the owner's task for ``poller``: one UPDATE, True if ``poller`` holds it now."""
        check_lease_args(poller, ttl)
        with self._write() as conn:
            now = self._clock()
            cursor = conn.execute(
                "UPDATE tasks SET poller = ?, lease_until = ? WHERE owner = ? AND task_id = ?"
                " AND (poller IS NULL OR poller = ? OR lease_until < ?)",
                (poller, now + ttl, owner, task_id, poller, now),
            )
            return cursor.rowcount == 1

    def renew_leases(self, poller: str, ttl: float) -> int:
        """Extend every lease ``poller`` holds, in one UPDATE; how many."""
        check_lease_args(poller, ttl)
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE tasks SET lease_until = ? WHERE poller = ?", (self._clock() + ttl, poller)
            )
            return cursor.rowcount

    def release_poll(self, poller: str, owner: str | None = None, task_id: str | None = None) -> int:
        """Release ``poller``'s lease on one task, or all of them; how many."""
        sql = "UPDATE tasks SET poller = NULL, lease_until = NULL WHERE poller = ?"
        params: tuple[str, ...] = (poller,)
        if (owner is None) != (task_id is None):
            raise ValueError("release one task with both owner and task_id, or every lease with neither")
        if owner is not None and task_id is not None:
            sql += " AND owner = ? AND task_id = ?"
            params = (poller, owner, task_id)
        with self._write() as conn:
            return conn.execute(sql, params).rowcount

    def poll_lease(self, owner: str, task_id: str) -> PollLease | None:
        """The live lease on the owner's task, or None."""
        with self._lock:
            now = self._clock()
            row = self._conn.execute(
                "SELECT poller, lease_until FROM tasks WHERE owner = ? AND task_id = ?"
                " AND poller IS NOT NULL AND lease_until >= ?",
                (owner, task_id, now),
            ).fetchone()
        return None if row is None else PollLease(poller=row[0], expires_in=row[1] - now)

    def watcher(self) -> ChangeWatcher:
        """A watcher that re-reads the watched tasks when the file changed (every half second)."""
        from imini_mcp.store.sqlite_watch import SqliteWatcher  # anyio: only when someone watches

        return SqliteWatcher(self.path)
