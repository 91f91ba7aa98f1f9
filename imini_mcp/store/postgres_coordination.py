"""The PostgreSQL store's part of `Coordination`: poll leases on the database clock, and its watcher.

``now()`` is the database's clock, the one clock every replica shares; a replica's own clock never decides
whether a lease expired. Each method is one statement. Mixed into PostgresTaskStore.
"""

from __future__ import annotations

from typing import Any

from psycopg_pool import ConnectionPool

from imini_mcp.store.coordination import ChangeWatcher, PollLease
from imini_mcp.store.sqlite_coordination import check_lease_args

__all__ = ["PostgresCoordination"]

_LEASE = "now() + make_interval(secs => %(ttl)s)"


class PostgresCoordination:
    """Leases as designed in docs (claim = renew = fence before each poll, heartbeat, release)."""

    _pool: ConnectionPool[Any]
    _url: str

    def _rowcount(self, sql: str, params: dict[str, Any]) -> int:
        with self._pool.connection() as conn:
            return int(conn.execute(sql, params).rowcount)

    def claim_poll(self, owner: str, task_id: str, poller: str, ttl: float) -> bool:
        """Claim or renew the owner's task for ``poller``: one UPDATE, True if ``poller`` holds it now."""
        check_lease_args(poller, ttl)
        return (
            self._rowcount(
                f"UPDATE tasks SET poller = %(poller)s, lease_until = {_LEASE}"
                " WHERE owner = %(owner)s AND task_id = %(task_id)s"
                " AND (poller IS NULL OR poller = %(poller)s OR lease_until < now())",
                {"poller": poller, "ttl": float(ttl), "owner": owner, "task_id": task_id},
            )
            == 1
        )

    def renew_leases(self, poller: str, ttl: float) -> int:
        """Extend every lease ``poller`` holds, in one UPDATE; how many."""
        check_lease_args(poller, ttl)
        return self._rowcount(
            f"UPDATE tasks SET lease_until = {_LEASE} WHERE poller = %(poller)s",
            {"poller": poller, "ttl": float(ttl)},
        )

    def release_poll(self, poller: str, owner: str | None = None, task_id: str | None = None) -> int:
        """Release ``poller``'s lease on one task, or all of them; how many (the trigger wakes followers)."""
        if (owner is None) != (task_id is None):
            raise ValueError("release one task with both owner and task_id, or every lease with neither")
        sql = "UPDATE tasks SET poller = NULL, lease_until = NULL WHERE poller = %(poller)s"
        if owner is not None:
            sql += " AND owner = %(owner)s AND task_id = %(task_id)s"
        return self._rowcount(sql, {"poller": poller, "owner": owner, "task_id": task_id})

    def poll_lease(self, owner: str, task_id: str) -> PollLease | None:
        """The live lease on the owner's task, or None; ``expires_in`` measured on the database clock."""
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT poller, extract(epoch FROM lease_until - now())::float8 AS expires_in FROM tasks"
                " WHERE owner = %s AND task_id = %s AND poller IS NOT NULL AND lease_until >= now()",
                (owner, task_id),
            ).fetchone()
        return None if row is None else PollLease(poller=row["poller"], expires_in=row["expires_in"])

    def watcher(self) -> ChangeWatcher:
        """A watcher on LISTEN/NOTIFY: one connection of its own, reconnected with a back-off."""
        from imini_mcp.store.postgres_watch import PostgresWatcher

        return PostgresWatcher(self._url)
