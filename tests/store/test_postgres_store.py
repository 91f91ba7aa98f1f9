"""What is particular to the PostgreSQL store: migrations under replicas starting together, the JSON text,
the password never shown, connection options, a restarted database, and the LISTEN watcher's recovery.

Its behaviour as a TaskStore is checked by test_store_contract.py, like every implementation's. The
database comes from tests/postgres.py (skipped without PostgreSQL, failed without it on CI).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest

from imini_mcp.store import DatabaseUnavailable, TaskStore, open_store, redact_url
from imini_mcp.store.postgres import PostgresTaskStore
from imini_mcp.store.postgres_connection import CONNECTION_DEFAULTS, conninfo
from imini_mcp.store.postgres_schema import MIGRATIONS, SUBMITTING, UNFINISHED
from imini_mcp.store.postgres_watch import PostgresWatcher, parse_payload
from imini_mcp.store.watch import Backoff
from tests.postgres import admin, with_database
from tests.processes import free_port
from tests.store.conftest import MODEL, accepted, submit

# sha256 of the released MIGRATIONS entries as JSON: they are append only, never edited.
RELEASED_MIGRATIONS = 1
RELEASED_SHA256 = "a97c60df4acb56cdbcc09e0bb93f3db4a7affa0aed72d893e0b107c459c788c5"
PASSWORD = "Pg-s3cret/p@ss word"  # with characters a URL must encode
ENCODED = "Pg-s3cret%2Fp%40ss%20word"


@pytest.fixture
def store(pg_url: str) -> Any:
    with PostgresTaskStore(pg_url) as opened:
        yield opened


def test_postgres_store_is_a_task_store(store: PostgresTaskStore) -> None:
    """PostgresTaskStore keeps the TaskStore protocol: checked at run time, and by mypy in open_store."""
    assert isinstance(store, TaskStore)


def test_released_migrations_are_unchanged() -> None:
    """The released migrations are byte for byte what existing databases were built with."""
    released = json.dumps(MIGRATIONS[:RELEASED_MIGRATIONS]).encode()
    assert hashlib.sha256(released).hexdigest() == RELEASED_SHA256


@pytest.mark.parametrize(
    ("index", "term"), [("tasks_unfinished", UNFINISHED), ("tasks_submitting", SUBMITTING)]
)
def test_query_terms_match_the_partial_indexes(index: str, term: str) -> None:
    """The restart queries repeat the partial indexes' WHERE text (a new terminal status needs a migration)."""
    create = [s for entry in MIGRATIONS for s in entry if s.startswith(f"CREATE INDEX {index} ")]
    assert len(create) == 1
    assert create[0].split(" WHERE ", 1)[1] == term


# -- migrations ------------------------------------------------------------------------------------------


def test_three_replicas_starting_at_once_migrate_once(pg_empty_url: str) -> None:
    """Three stores opened at the same instant on an empty database: all open, the schema is made once."""
    barrier = threading.Barrier(3)

    def start(_: int) -> int:
        barrier.wait()
        with PostgresTaskStore(pg_empty_url) as store:
            return store.count()

    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(start, range(3))) == [0, 0, 0]
    with admin(pg_empty_url) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]
        assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'tasks_%'").fetchone() == (2,)


def test_a_newer_schema_is_refused(pg_empty_url: str) -> None:
    """A database migrated by a newer imini-mcp is not touched; the message says what to do."""
    PostgresTaskStore(pg_empty_url).close()
    with admin(pg_empty_url) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(RuntimeError, match=r"schema version 99, newer .* upgrade imini-mcp"):
        PostgresTaskStore(pg_empty_url)


def test_reopening_keeps_rows_and_runs_nothing(pg_url: str) -> None:
    """A restart finds the schema current: rows stay, ids go on."""
    with PostgresTaskStore(pg_url) as store:
        first = submit(store)
    with PostgresTaskStore(pg_url) as store:
        assert store.get_by_journal_id(first.journal_id) == first
        assert submit(store).journal_id > first.journal_id


# -- what is stored --------------------------------------------------------------------------------------


def test_json_is_stored_as_sent(store: PostgresTaskStore, pg_url: str) -> None:
    """body and options are kept as their exact JSON text: key order, nesting and unicode survive."""
    body = {"z": 1, "model": MODEL, "a": {"y": [3, 1], "b": None}, "prompt": "ü 🦊"}
    options = {"output": {"mode": "file", "a": 1}, "b": 2}
    record, _ = store.begin_submit(
        owner="", model=MODEL, body=body, request_hash="h", idempotency_key=None, options=options
    )
    accepted_record = store.mark_accepted(
        record.journal_id, task_id="task_1", request_id=None, created_at=None
    )
    merged = store.merge_options("", "task_1", "output", {"name": "x.mp4", "mode": "url"})
    assert merged is not None
    assert list(merged.options) == ["output", "b"]
    assert list(merged.options["output"]) == ["mode", "a", "name"]
    assert list(accepted_record.body) == list(body)
    with admin(pg_url) as conn:
        text = conn.execute("SELECT body::text FROM tasks").fetchone()[0]
    assert text == json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def test_with_option_ignores_json_null(store: PostgresTaskStore) -> None:
    """An option holding JSON null counts as no value, as in SQLite."""
    record, _ = store.begin_submit(
        owner="", model=MODEL, body={}, request_hash="h", idempotency_key=None, options={"mcp_task": None}
    )
    store.mark_accepted(record.journal_id, task_id="task_1", request_id=None, created_at=None)
    assert store.list_tasks("", with_option="mcp_task") == []
    assert store.unfinished(with_option="mcp_task") == []
    assert len(store.unfinished(with_option=None)) == 1


# -- the password and the connection ---------------------------------------------------------------------


def _secret_url(url: str, *, port: int | None = None) -> str:
    """The test database's URL with PASSWORD in it (the test server trusts any), on another port if given."""
    secret = url.replace("postgresql://postgres@", f"postgresql://postgres:{ENCODED}@")
    if port is None:
        return secret
    head, _, rest = secret.rpartition(":")
    return f"{head}:{port}/{rest.split('/', 1)[1]}"


def _assert_hidden(text: object) -> None:
    shown = str(text)
    for spelling in (PASSWORD, ENCODED, "s3cret"):
        assert spelling not in shown


def test_redact_url_hides_every_spelling() -> None:
    """The user part, a password parameter and libpq's keyword form all come out as ***."""
    assert redact_url(f"postgresql://me:{ENCODED}@db:5432/imini") == "postgresql://me:***@db:5432/imini"
    assert (
        redact_url(f"postgres://me@db/imini?sslmode=require&password={ENCODED}")
        == "postgres://me@db/imini?sslmode=require&password=***"
    )
    assert redact_url("host=db password='a b' dbname=x") == "host=db password=*** dbname=x"
    assert redact_url("postgresql://db/imini") == "postgresql://db/imini"


def test_the_password_is_never_shown(pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Not in the store's repr or location, not in a failed open's error, not in the watcher's log lines."""
    caplog.set_level(logging.DEBUG)
    url = _secret_url(pg_url)  # the test server trusts every password
    with PostgresTaskStore(url) as store:
        _assert_hidden(repr(store))
        _assert_hidden(store.location)
        _assert_hidden(repr(store.watcher()))
        assert "***" in store.location
    with pytest.raises(DatabaseUnavailable) as info:
        open_store(
            journal_path=tmp_path / "unused.sqlite3", database_url=_secret_url(pg_url, port=free_port())
        )
    _assert_hidden(info.value)
    assert "cannot connect to postgresql://postgres:***@127.0.0.1:" in str(info.value)
    with pytest.raises(ValueError, match="not a valid PostgreSQL URL") as bad:
        PostgresTaskStore(f"postgresql://postgres:{ENCODED}@127.0.0.1/db?nonsense_option=1")
    _assert_hidden(bad.value)
    for record in caplog.records:
        _assert_hidden(record.getMessage())


@pytest.mark.anyio
async def test_a_watcher_that_cannot_connect_logs_without_the_password(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The watcher's reconnect warnings name the database redacted."""
    watcher = PostgresWatcher(_secret_url(pg_url, port=free_port()), backoff=Backoff(first=0.05, most=0.05))
    with anyio.move_on_after(0.5):
        await watcher.run()
    warnings = [r.getMessage() for r in caplog.records if r.name.endswith("postgres_watch")]
    assert warnings
    assert "postgresql://postgres:***@" in warnings[0]
    for message in warnings:
        _assert_hidden(message)


def test_connections_notice_a_dead_database(store: PostgresTaskStore, pg_url: str) -> None:
    """Keepalives and tcp_user_timeout are on (a vanished host is noticed in seconds); a URL may override."""
    with store._pool.connection() as conn:
        parameters = conn.info.get_parameters()
    for name in ("keepalives", "keepalives_idle", "tcp_user_timeout", "connect_timeout"):
        assert parameters[name] == CONNECTION_DEFAULTS[name]
    assert parameters["application_name"] == "imini-mcp"
    assert "keepalives_idle=30" in conninfo(f"{pg_url}?keepalives_idle=30", "x")


def test_the_store_survives_its_connections_being_killed(store: PostgresTaskStore, pg_url: str) -> None:
    """After the database dropped every connection (a restart, a failover), the next call still works."""
    submit(store)
    with admin(pg_url) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = 'imini-mcp'"
        )
    assert store.count() == 1


# -- the watcher -----------------------------------------------------------------------------------------


def test_notification_payloads() -> None:
    """[owner, task_id] as JSON: an empty owner or a space in a name cannot shift the split."""
    assert parse_payload('["", "task_1"]') == ("", "task_1")
    assert parse_payload('["a b", "c d"]') == ("a b", "c d")
    assert parse_payload("nonsense") is None
    assert parse_payload('["only one"]') is None
    assert parse_payload("[1, 2]") is None


@pytest.mark.anyio
async def test_a_killed_listener_reconnects_and_the_waiter_sees_what_changed_meanwhile(
    store: PostgresTaskStore, pg_url: str
) -> None:
    """pg_terminate_backend on the listening connection: the watcher reconnects after its back-off and wakes
    every waiter, so a change committed while nobody listened is still seen."""
    accepted(store, "task_1")
    watcher = PostgresWatcher(pg_url, backoff=Backoff(first=1.0))
    async with anyio.create_task_group() as tg:
        tg.start_soon(watcher.run)
        with anyio.fail_after(30):
            await watcher.ready()
        event = watcher.changed("", "task_1")
        killed = time.monotonic()
        await anyio.to_thread.run_sync(_kill_listener_then_write, store, pg_url)
        with anyio.fail_after(30):
            await event.wait()
        assert watcher.generation == 2
        assert time.monotonic() - killed >= 0.9  # woken by the reconnect, not by the write's NOTIFY
        record = await anyio.to_thread.run_sync(store.get, "", "task_1")
        assert record is not None
        assert record.status == "processing"
        tg.cancel_scope.cancel()


def _kill_listener_then_write(store: PostgresTaskStore, pg_url: str) -> None:
    with admin(pg_url) as conn:
        listeners = "WHERE datname = current_database() AND application_name = 'imini-mcp watcher'"
        assert conn.execute(f"SELECT count(*) FROM pg_stat_activity {listeners}").fetchone() == (1,)
        conn.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity {listeners}")
        deadline = time.monotonic() + 10
        while conn.execute(f"SELECT count(*) FROM pg_stat_activity {listeners}").fetchone() != (0,):
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert store.update_status("", "task_1", status="processing") is not None


def test_the_admin_helpers_name_other_databases() -> None:
    """with_database keeps the server and the options, and changes only the database."""
    assert with_database("postgresql://u@h:1/postgres", "t_1") == "postgresql://u@h:1/t_1"
    assert (
        with_database("postgresql://u@h:1/postgres?sslmode=disable", "t")
        == "postgresql://u@h:1/t?sslmode=disable"
    )


def test_a_missing_server_skips_locally_and_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without PostgreSQL the tests skip on a developer's machine; with CI=true they fail instead."""
    from tests import postgres

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        postgres._missing("no server")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the PostgreSQL tests"):
        postgres._missing("no server")
