"""The PostgreSQL store's part of `SecretStore` (secrets.py): sealed keys and single-use entries. Each method is
one statement (a use is one UPDATE … RETURNING, so of racing replicas exactly one gets the value). Expiry uses the
store's clock, as record times do. Mixed into PostgresTaskStore."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg_pool import ConnectionPool

__all__ = ["PostgresSecrets"]


class PostgresSecrets:
    _pool: ConnectionPool[Any]
    _clock: Callable[[], float]

    def _sealed(self, sql: str, params: tuple[Any, ...]) -> str | None:
        """The `sealed` column of the one row `sql` gives (rows are dicts: postgres_connection.py), or None."""
        with self._pool.connection() as conn:
            row = conn.execute(sql, params).fetchone()
        return None if row is None else str(row["sealed"])

    def _count(self, sql: str, params: tuple[Any, ...]) -> int:
        with self._pool.connection() as conn:
            return int(conn.execute(sql, params).rowcount)

    def put_sealed_key(self, owner: str, sealed: str) -> None:
        self._count(
            "INSERT INTO imini_keys (owner, sealed, updated_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (owner) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
            (owner, sealed, self._clock()),
        )

    def sealed_key(self, owner: str) -> str | None:
        return self._sealed("SELECT sealed FROM imini_keys WHERE owner = %s", (owner,))

    def delete_sealed_key(self, owner: str) -> bool:
        return self._count("DELETE FROM imini_keys WHERE owner = %s", (owner,)) == 1

    def put_pending(self, kind: str, ref: str, sealed: str, ttl: float) -> None:
        self._count(
            "INSERT INTO pending (kind, ref, sealed, expires_at, used_at) VALUES (%s, %s, %s, %s, NULL)"
            " ON CONFLICT (kind, ref) DO UPDATE SET sealed = excluded.sealed,"
            " expires_at = excluded.expires_at, used_at = NULL",
            (kind, ref, sealed, self._clock() + ttl),
        )

    def pending(self, kind: str, ref: str) -> str | None:
        return self._sealed(
            "SELECT sealed FROM pending WHERE kind = %s AND ref = %s AND used_at IS NULL AND expires_at > %s",
            (kind, ref, self._clock()),
        )

    def use_pending(self, kind: str, ref: str) -> str | None:
        now = self._clock()
        return self._sealed(
            "UPDATE pending SET used_at = %s WHERE kind = %s AND ref = %s AND used_at IS NULL"
            " AND expires_at > %s RETURNING sealed",
            (now, kind, ref, now),
        )

    def purge_pending(self) -> int:
        return self._count(
            "DELETE FROM pending WHERE used_at IS NOT NULL OR expires_at <= %s", (self._clock(),)
        )
