"""Telling a store that cannot answer right now (a retry may work) from any other failure.

No psycopg import here: its error classes are looked up only if the PostgreSQL store loaded them.
"""

from __future__ import annotations

import sqlite3
import sys

from imini_mcp.store.database_url import DatabaseUnavailable

__all__ = ["is_outage"]


def is_outage(exc: BaseException) -> bool:
    """True for a store that is unreachable or busy now: the database is down or restarting, a connection
    broke, the pool had no free connection in time, SQLite's file stayed locked. A retry later may work."""
    if isinstance(exc, DatabaseUnavailable | sqlite3.OperationalError):
        return True
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(exc, psycopg.OperationalError):
        return True
    pool = sys.modules.get("psycopg_pool")
    return pool is not None and isinstance(exc, pool.PoolTimeout)
