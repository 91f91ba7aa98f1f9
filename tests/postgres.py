"""pytest plugin: a throwaway PostgreSQL server for the session, and a fresh database for each test.

* ``pg_server``: the server's admin URL. ``IMINI_TEST_DATABASE_URL`` names an existing server (a CI service,
  a developer's own; the user must be able to create databases). Otherwise the newest
  ``/usr/lib/postgresql/*/bin`` (or ``initdb`` on PATH) starts one in a temp dir on a free loopback port,
  with fsync off; as root, through ``runuser -u postgres`` (initdb refuses to run as root). No server
  binaries: skipped, but **failed** when ``CI=true``, so a missing install cannot turn into a green run.
* ``pg_template``: a database with the store's migrations, made once per session.
* ``pg_url``: a database with the schema and no rows for one test: made from the template (``CREATE
  DATABASE … TEMPLATE``), then cleaned and reused by later tests (10 ms instead of 0.3 s); ``pg_fresh_url``
  for a new one, ``pg_empty_url`` for one without the schema.

Registered by ``pytest_plugins`` in tests/conftest.py, so every test folder (store, app, e2e) can use it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import free_port

__all__ = [
    "admin",
    "pg_empty_url",
    "pg_fresh_url",
    "pg_place",
    "pg_server",
    "pg_template",
    "pg_url",
    "with_database",
]

TEMPLATE = f"imini_template_{uuid.uuid4().hex[:8]}"  # per session: sessions may share a server
TIMINGS: dict[str, float] = {}


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}: CI must run the PostgreSQL tests (.ci/run installs the server)")
    pytest.skip(reason)


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def with_database(url: str, database: str) -> str:
    """The same server's URL for another database."""
    head, _, tail = url.rpartition("/")
    query = tail.partition("?")[2]
    return f"{head}/{database}" + (f"?{query}" if query else "")


def admin(url: str) -> Any:
    """An autocommit connection for CREATE/DROP DATABASE and the like."""
    import psycopg

    return psycopg.connect(url, autocommit=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg is not installed (pip install -e '.[test]')")
    if url := os.environ.get("IMINI_TEST_DATABASE_URL"):
        yield url
        return
    bin_dir = _bin_dir()
    if bin_dir is None:
        _missing("no PostgreSQL server binaries (apt-get install -y postgresql)")
        return
    started = time.perf_counter()
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    tmp = Path(tempfile.mkdtemp(prefix="imini-pg-"))
    if as_user:
        shutil.chown(tmp, "postgres")
    data, port = tmp / "data", free_port()
    initdb = [bin_dir / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]
    subprocess.run([*as_user, *initdb, "--no-instructions"], stdout=subprocess.DEVNULL, check=True)
    options = (
        f"-k {tmp} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
        " -c full_page_writes=off -c max_connections=200"
    )
    pg_ctl = [bin_dir / "pg_ctl", "-D", data, "-l", tmp / "log", "-w", "-t", "30", "-o", options, "start"]
    subprocess.run([*as_user, *pg_ctl], stdout=subprocess.DEVNULL, check=True)
    TIMINGS["server start"] = time.perf_counter() - started
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        stop = [bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]
        subprocess.run([*as_user, *stop], stdout=subprocess.DEVNULL, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> Iterator[str]:
    """The name of a database holding the store's schema, to copy for each test."""
    from imini_mcp.store.postgres import PostgresTaskStore

    started = time.perf_counter()
    with admin(pg_server) as conn:
        conn.execute(f"CREATE DATABASE {TEMPLATE}")
    PostgresTaskStore(with_database(pg_server, TEMPLATE)).close()
    TIMINGS["template"] = time.perf_counter() - started
    try:
        yield TEMPLATE
    finally:
        with admin(pg_server) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")


class _Recycled:
    """Databases made from the template, cleaned after each test and handed to the next one.

    CREATE DATABASE costs 0.3-0.5 s on this busy 2-core machine (50 ms on an idle one); a clean-up that
    ends the test's leftover connections and empties the table (TRUNCATE … RESTART IDENTITY, about 10 ms)
    gives the next test the same state. A database whose schema a test changed is dropped instead.
    """

    def __init__(self, server: str, template: str) -> None:
        self.server, self.template = server, template
        self.free: list[str] = []
        self.made: list[str] = []

    def take(self) -> str:
        if self.free:
            return self.free.pop()
        name = f"t_{uuid.uuid4().hex[:12]}"
        with admin(self.server) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        self.made.append(name)
        return name

    def give_back(self, name: str) -> None:
        from imini_mcp.store.postgres_schema import MIGRATIONS

        try:
            with admin(with_database(self.server, name)) as conn:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                version = conn.execute("SELECT version FROM schema_version").fetchone()
                if version != (len(MIGRATIONS),):
                    raise RuntimeError("schema changed")
                conn.execute("TRUNCATE tasks RESTART IDENTITY")
        except Exception:
            self.drop(name)
            return
        self.free.append(name)

    def drop(self, name: str) -> None:
        with admin(self.server) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if name in self.made:
            self.made.remove(name)

    def drop_all(self) -> None:
        for name in list(self.made):
            self.drop(name)


@pytest.fixture(scope="session")
def _pg_recycled(pg_server: str, pg_template: str) -> Iterator[_Recycled]:
    databases = _Recycled(pg_server, pg_template)
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture
def pg_url(pg_server: str, _pg_recycled: _Recycled) -> Iterator[str]:
    """The URL of a database with the current schema and no rows, for this test alone (recycled: see
    _Recycled; ``pg_fresh_url`` when a test needs a database nobody used before)."""
    name = _pg_recycled.take()
    try:
        yield with_database(pg_server, name)
    finally:
        _pg_recycled.give_back(name)


@pytest.fixture
def pg_fresh_url(pg_server: str, pg_template: str) -> Iterator[str]:
    """The URL of a new database made from the template (CREATE DATABASE … TEMPLATE), dropped after."""
    name = f"f_{uuid.uuid4().hex[:12]}"
    with admin(pg_server) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    try:
        yield with_database(pg_server, name)
    finally:
        with admin(pg_server) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_place(pg_url: str, tmp_path: Path) -> str:
    """A fresh database whose URL is kept in ``tmp_path/postgres.url``: what the store contract's factory
    (and its child processes) open for "the data kept at this place"."""
    (tmp_path / "postgres.url").write_text(pg_url, encoding="utf-8")
    return pg_url


@pytest.fixture
def pg_empty_url(pg_server: str) -> Iterator[str]:
    """The URL of an empty database (no schema yet), for this test alone."""
    name = f"e_{uuid.uuid4().hex[:12]}"
    with admin(pg_server) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield with_database(pg_server, name)
    finally:
        with admin(pg_server) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMINGS:
        shown = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in TIMINGS.items())
        terminalreporter.write_line(f"test PostgreSQL: {shown}")
