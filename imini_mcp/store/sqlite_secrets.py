"""The SQLite store's part of `SecretStore` (secrets.py): sealed keys and single-use entries, on the store's
clock. Mixed into SqliteTaskStore."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

__all__ = ["SqliteSecrets"]


class SqliteSecrets:
    _clock: Callable[[], float]
    _lock: threading.RLock
    _conn: sqlite3.Connection

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError  # SqliteTaskStore's BEGIN IMMEDIATE transaction

    def put_sealed_key(self, owner: str, sealed: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO imini_keys (owner, sealed, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (owner) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
                (owner, sealed, self._clock()),
            )

    def sealed_key(self, owner: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT sealed FROM imini_keys WHERE owner = ?", (owner,)).fetchone()
        return None if row is None else str(row[0])

    def delete_sealed_key(self, owner: str) -> bool:
        with self._write() as conn:
            return conn.execute("DELETE FROM imini_keys WHERE owner = ?", (owner,)).rowcount == 1

    def put_pending(self, kind: str, ref: str, sealed: str, ttl: float) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO pending (kind, ref, sealed, expires_at, used_at) VALUES (?, ?, ?, ?, NULL)"
                " ON CONFLICT (kind, ref) DO UPDATE SET sealed = excluded.sealed,"
                " expires_at = excluded.expires_at, used_at = NULL",
                (kind, ref, sealed, self._clock() + ttl),
            )

    def pending(self, kind: str, ref: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT sealed FROM pending WHERE kind = ? AND ref = ? AND used_at IS NULL AND expires_at > ?",
                (kind, ref, self._clock()),
            ).fetchone()
        return None if row is None else str(row[0])

    def use_pending(self, kind: str, ref: str) -> str | None:
        with self._write() as conn:  # BEGIN IMMEDIATE: one process at a time reads and marks it
            now = self._clock()
            row = conn.execute(
                "UPDATE pending SET used_at = ? WHERE kind = ? AND ref = ? AND used_at IS NULL"
                " AND expires_at > ? RETURNING sealed",
                (now, kind, ref, now),
            ).fetchone()
        return None if row is None else str(row[0])

    def purge_pending(self) -> int:
        with self._write() as conn:
            return conn.execute(
                "DELETE FROM pending WHERE used_at IS NOT NULL OR expires_at <= ?", (self._clock(),)
            ).rowcount
