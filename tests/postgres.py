"""pytest plugin: a throwaway PostgreSQL server for the session, and a fresh database for each test.

* ``LocalPostgres``: one throwaway server (initdb in a temp dir, a loopback port), which a test may stop and
  start again (tests/fleet runs one of its own for that); ``server_bin_dir`` finds the binaries.
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
    "LocalPostgres",
    "admin",
    "pg_empty_url",
    "pg_fresh_url",
    "pg_place",
    "pg_server",
    "pg_template",
    "pg_url",
    "server_bin_dir",
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


class LocalPostgres:
    """A throwaway PostgreSQL server in a temp dir on a loopback port: started, stopped, started again.

    Test settings (fsync off) unless ``durable`` (the benchmarks: PostgreSQL's defaults). As root, every server command runs through ``runuser -u postgres``.
    The port and the data survive ``stop()`` + ``start()``, so a test can take the database away from
    the processes using it and give it back (tests/fleet does).
    """

    def __init__(self, bin_dir: Path, *, max_connections: int = 200, durable: bool = False) -> None:
        self.bin_dir = bin_dir
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.dir = Path(tempfile.mkdtemp(prefix="imini-pg-"))
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self.data, self.port = self.dir / "data", free_port()
        self.max_connections = max_connections
        self.durable = durable
        initdb = [bin_dir / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        subprocess.run(
            [*self.as_user, *initdb, "--no-sync", "--no-instructions"], stdout=subprocess.DEVNULL, check=True
        )

    @property
    def url(self) -> str:
        """The superuser's URL (trust auth on loopback)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def log(self) -> Path:
        return self.dir / "log"

    def start(self) -> None:
        options = f"-k {self.dir} -p {self.port} -c listen_addresses=127.0.0.1 -c max_connections={self.max_connections}"
        if not self.durable:  # a test server: a crash may lose it all
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        pg_ctl = [self.bin_dir / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "30", "-o", options]
        subprocess.run([*self.as_user, *pg_ctl, "start"], stdout=subprocess.DEVNULL, check=True)

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server (``immediate``: like a crash, ``fast``: a clean shutdown); the data stays."""
        stop = [self.bin_dir / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"]
        subprocess.run([*self.as_user, *stop], stdout=subprocess.DEVNULL, check=False)

    def require_password(self, role: str) -> None:
        """Make ``role`` log in with its password over TCP (scram-sha-256); every other role keeps trust."""
        hba = self.data / "pg_hba.conf"
        rule = f"host all {role} 127.0.0.1/32 scram-sha-256\n"
        hba.write_text(rule + hba.read_text(), encoding="utf-8")  # the first matching line wins
        with admin(self.url) as conn:
            conn.execute("SELECT pg_reload_conf()")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def server_bin_dir() -> Path | None:
    """Where the PostgreSQL server binaries are; None (after skipping, or failing on CI) if nowhere."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg is not installed (pip install -e '.[test]')")
    bin_dir = _bin_dir()
    if bin_dir is None:
        _missing("no PostgreSQL server binaries (apt-get install -y postgresql)")
    return bin_dir


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    if url := os.environ.get("IMINI_TEST_DATABASE_URL"):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            _missing("psycopg is not installed (pip install -e '.[test]')")
        yield url
        return
    bin_dir = server_bin_dir()
    assert bin_dir is not None
    started = time.perf_counter()
    server = LocalPostgres(bin_dir)
    server.start()
    TIMINGS["server start"] = time.perf_counter() - started
    try:
        yield server.url
    finally:
        server.remove()


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
                conn.execute("TRUNCATE tasks, imini_keys, pending RESTART IDENTITY")
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
