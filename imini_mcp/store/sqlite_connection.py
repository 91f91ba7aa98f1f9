"""Opening the SQLite store's file (WAL, synchronous=FULL, migrations) and its write transactions."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from imini_mcp.store.sqlite_schema import MIGRATIONS

__all__ = ["immediate", "open_connection"]


def open_connection(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """A connection to `path` in WAL mode with the current schema; usable from any thread (lock it yourself).

    Raises:
        RuntimeError: the file has a newer schema than MIGRATIONS knows.
        sqlite3.DatabaseError: the file is not an SQLite database, or cannot switch to WAL.
    """
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
    try:
        conn.row_factory = sqlite3.Row  # connect(timeout=...) already set SQLite's busy_timeout
        _enable_wal(conn, path, busy_timeout)
        # FULL: a commit is on disk before we send the paid request; NORMAL could lose it on power loss.
        conn.execute("PRAGMA synchronous = FULL")
        _migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: committed if the block ends normally, rolled back if it raises."""
    # BEGIN IMMEDIATE takes the write lock up front, so read-then-write sequences cannot interleave
    # with another process (and never hit the unrecoverable SQLITE_BUSY of a read-to-write upgrade).
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _enable_wal(conn: sqlite3.Connection, path: Path, busy_timeout: float) -> None:
    # Switching to WAL needs an exclusive lock, and SQLite may refuse it at once (without the busy
    # handler) while another process is opening the same new file; retry for up to busy_timeout.
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)
            continue
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"cannot switch {path} to WAL (journal_mode is {mode!r})")
        return


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    target = len(MIGRATIONS)
    if _user_version(conn) == target:
        return  # the common re-open: no write lock needed
    with immediate(conn):
        current = _user_version(conn)  # re-read under the lock: another process may have migrated
        if current > target:
            raise RuntimeError(
                f"{path} has journal schema version {current}, newer than this imini-mcp "
                f"understands ({target}); upgrade imini-mcp"
            )
        for statements in MIGRATIONS[current:]:
            for statement in statements:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {target}")


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])
