"""The SQLite store's `ChangeWatcher`: every half second, re-read the watched tasks if the file changed.

SQLite has no notifications, so this ticks: ``PRAGMA data_version`` (a counter that moves when another
connection commits; this connection only reads) says whether anything changed at all, and only then are the
watched rows read again, each by its index, and compared with what the last look saw.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from imini_mcp.store.watch import ArmedEvents, Backoff, Key

__all__ = ["SqliteWatcher"]

log = logging.getLogger(__name__)

# What a change is (as in the PostgreSQL trigger): not updated_at, last_polled_at or a lease renewal alone.
_SIGNATURE = (
    "SELECT state, task_id, status, videos, error, files, options, poller FROM tasks"
    " WHERE owner = ? AND task_id = ?"
)


class SqliteWatcher(ArmedEvents):
    """Ticks every ``interval`` seconds on a read-only connection of its own."""

    def __init__(self, path: Path, *, interval: float = 0.5) -> None:
        super().__init__()
        self.path, self.interval = path, interval
        self._seen: dict[Key, tuple[Any, ...] | None] = {}  # each watched row as the last look saw it
        self._armed_at: dict[Key, int | None] = {}  # the data_version of the last look when first armed
        self._version: int | None = None

    def changed(self, owner: str, task_id: str) -> anyio.Event:
        key = (owner, task_id)
        if key not in self._seen and key not in self._armed_at:
            self._armed_at[key] = self._version
        return super().changed(owner, task_id)

    async def run(self) -> None:
        """Tick until cancelled; a failing file is retried with a back-off, and every waiter woken."""
        backoff = Backoff(first=self.interval)
        while True:
            try:
                conn = await anyio.to_thread.run_sync(self._connect)
                try:
                    while True:
                        for key in await anyio.to_thread.run_sync(self._look, conn, self.armed()):
                            self._fire(key)
                        self._armed_at = {k: v for k, v in self._armed_at.items() if k in self._events}
                        self._set_ready()
                        backoff.reset()
                        await anyio.sleep(self.interval)
                finally:
                    conn.close()
            except sqlite3.Error as exc:
                delay = backoff.next()
                log.warning("task watcher: cannot read %s (%s); again in %.1f s", self.path, exc, delay)
                self._version = None  # changes may be missed meanwhile: the next look wakes everyone
                self._seen.clear()
                await anyio.sleep(delay)

    def _connect(self) -> sqlite3.Connection:
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)

    def _look(self, conn: sqlite3.Connection, keys: list[Key]) -> list[Key]:
        """The armed tasks that changed since the last look (in a worker thread; only this touches _seen)."""
        before = self._data_version(conn)
        new = [key for key in keys if key not in self._seen]
        if before == self._version and not new:
            self._seen = {key: self._seen[key] for key in keys}  # forget rows nobody waits on
            return []
        rows = {key: conn.execute(_SIGNATURE, key).fetchone() for key in keys}
        stable = self._data_version(conn) == before  # no commit while reading: the rows are as of `before`
        fired = []
        for key, row in rows.items():
            signature = None if row is None else tuple(row)
            if key in self._seen:
                changed = self._seen[key] != signature
            else:  # first look since armed: silent only if nothing at all changed since the arming
                armed_at = self._armed_at.pop(key, None)
                changed = not (stable and armed_at is not None and armed_at == before)
            if changed:
                fired.append(key)
        self._seen = {key: None if row is None else tuple(row) for key, row in rows.items()}
        self._version = before
        return fired

    @staticmethod
    def _data_version(conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA data_version").fetchone()[0])
