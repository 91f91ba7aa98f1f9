"""open_store picks the store from the configuration; SQLite users never load the PostgreSQL driver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from imini_mcp.store import SqliteTaskStore, open_store, store_location
from imini_mcp.store.postgres import PostgresTaskStore


def test_no_database_url_opens_the_journal_file(tmp_path: Path) -> None:
    store = open_store(journal_path=tmp_path / "j.sqlite3", database_url=None)
    try:
        assert isinstance(store, SqliteTaskStore)
        assert store.path == tmp_path / "j.sqlite3"
    finally:
        store.close()
    assert store_location(journal_path=tmp_path / "j.sqlite3", database_url=None) == str(
        tmp_path / "j.sqlite3"
    )


def test_a_database_url_opens_postgresql(tmp_path: Path, pg_url: str) -> None:
    store = open_store(journal_path=tmp_path / "unused.sqlite3", database_url=pg_url)
    try:
        assert isinstance(store, PostgresTaskStore)
    finally:
        store.close()
    assert not (tmp_path / "unused.sqlite3").exists()
    secret = pg_url.replace("postgres@", "postgres:pw-x9@")
    assert store_location(journal_path=tmp_path, database_url=secret) == pg_url.replace(
        "postgres@", "postgres:***@"
    )


def test_sqlite_users_never_import_psycopg(tmp_path: Path) -> None:
    """The server's modules, the settings, a SQLite store and its watcher: no psycopg (it costs ~60 ms)."""
    code = (
        "import sys, pathlib\n"
        "import imini_mcp.cli, imini_mcp.mcp, imini_mcp.mcp.lifespan\n"
        "from imini_mcp.settings import Settings\n"
        "from imini_mcp.store import open_store\n"
        "Settings(_env_file=None)\n"
        f"store = open_store(journal_path=pathlib.Path({str(tmp_path / 'j.sqlite3')!r}), database_url=None)\n"
        "store.watcher(); store.close()\n"
        "print(sorted(m for m in sys.modules if m.startswith('psycopg')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
