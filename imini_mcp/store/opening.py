"""Opening the configured store: PostgreSQL when a database URL is set, else the SQLite journal file.

psycopg is imported only on the PostgreSQL path, so stdio and SQLite users pay nothing for it at start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from imini_mcp.store.base import TaskStore
from imini_mcp.store.database_url import redact_url
from imini_mcp.store.sqlite import SqliteTaskStore

__all__ = ["open_store", "store_location"]


def open_store(
    *, journal_path: Path, database_url: str | None, clock: Callable[[], float] = time.time
) -> TaskStore:
    """The task store: ``database_url`` (``postgresql://…``) when given, else the SQLite file ``journal_path``.

    Raises:
        DatabaseUnavailable, ValueError: the database cannot be reached, or the URL is not one; the
            message shows the URL with its password hidden.
        RuntimeError: the store's schema is newer than this imini-mcp knows.
    """
    if database_url:
        from imini_mcp.store.postgres import PostgresTaskStore

        return PostgresTaskStore(database_url, clock=clock)
    return SqliteTaskStore(journal_path, clock=clock)


def store_location(*, journal_path: Path, database_url: str | None) -> str:
    """Where the tasks are kept, fit for a log line: the journal's path, or the URL without its password."""
    return redact_url(database_url) if database_url else str(journal_path)
