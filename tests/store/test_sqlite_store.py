"""What is particular to the SQLite store: the file, its migrations, WAL, processes sharing it, its query plans.

Its behaviour as a TaskStore is checked by test_store_contract.py, like every implementation's.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import imini_mcp
import imini_mcp.store.sqlite_connection as connection_module
from imini_mcp.store import SqliteTaskStore, TaskStore
from imini_mcp.store.sqlite_schema import MIGRATIONS, SUBMITTING, UNFINISHED
from tests.store.conftest import MODEL, submit

# sha256 of the released MIGRATIONS entries as JSON: they are append only, never edited.
RELEASED_MIGRATIONS = 2
RELEASED_SHA256 = "d90a26d33158f919b85a9846a94f5e325c92ffce0382f4349612bea516afa6c8"


def test_sqlite_store_is_a_task_store(tmp_path: Path) -> None:
    """SqliteTaskStore keeps the TaskStore protocol: checked at run time, and by mypy on the annotation."""
    store: TaskStore = SqliteTaskStore(tmp_path / "journal.db")
    try:
        assert isinstance(store, TaskStore)
        assert not isinstance(object(), TaskStore)
    finally:
        store.close()


# -- schema and migrations -------------------------------------------------------------------------------


def test_released_migrations_are_unchanged() -> None:
    """The released migrations are byte for byte what existing files were built with."""
    released = json.dumps(MIGRATIONS[:RELEASED_MIGRATIONS]).encode()
    assert hashlib.sha256(released).hexdigest() == RELEASED_SHA256


@pytest.mark.parametrize(
    ("index", "term"), [("tasks_unfinished", UNFINISHED), ("tasks_submitting", SUBMITTING)]
)
def test_query_terms_match_the_partial_indexes(index: str, term: str) -> None:
    """The queries' filters repeat the partial indexes' WHERE text term for term, so SQLite can use them."""
    create = [s for entry in MIGRATIONS for s in entry if s.startswith(f"CREATE INDEX {index} ")]
    assert len(create) == 1
    assert create[0].split(" WHERE ", 1)[1] == term


def test_migrates_empty_file_and_reopens_idempotently(tmp_path: Path) -> None:
    """An empty file gets the current schema in WAL mode; opening again changes nothing."""
    path = tmp_path / "journal.db"
    path.touch()
    with SqliteTaskStore(path) as j:
        submit(j)
    for _ in range(2):
        with SqliteTaskStore(path) as j:
            assert j.count() == 1
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()


def test_new_migration_is_applied_on_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A later version appends a migration; existing rows survive and the version moves on."""
    path = tmp_path / "journal.db"
    with SqliteTaskStore(path) as j:
        first = submit(j)
    extra = ("ALTER TABLE tasks ADD COLUMN note TEXT",)
    monkeypatch.setattr(connection_module, "MIGRATIONS", (*MIGRATIONS, extra))
    with SqliteTaskStore(path) as j:
        assert j.get_by_journal_id(first.journal_id) == first
        submit(j)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
        assert "note" in [col[1] for col in raw.execute("PRAGMA table_info(tasks)")]
    raw.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A file written by a newer version is not touched."""
    path = tmp_path / "journal.db"
    SqliteTaskStore(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    raw.close()
    with pytest.raises(RuntimeError, match="newer than this imini-mcp"):
        SqliteTaskStore(path)


def test_not_a_database_is_an_error(tmp_path: Path) -> None:
    """A file that is not SQLite raises instead of being overwritten."""
    path = tmp_path / "journal.db"
    path.write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        SqliteTaskStore(path)


def test_parent_directory_is_created(tmp_path: Path) -> None:
    """A missing directory chain is created."""
    path = tmp_path / "a" / "b" / "journal.db"
    with SqliteTaskStore(str(path)) as j:
        assert j.path == path
    assert path.is_file()


# -- processes -------------------------------------------------------------------------------------------


WRITER = """
import json, sys, time
from pathlib import Path
from imini_mcp.store import SqliteTaskStore

path, name, go = sys.argv[1:]
print("ready", flush=True)
while not Path(go).exists():
    time.sleep(0.001)
j = SqliteTaskStore(path)  # opened after "go": both processes create and migrate the new file at once
try:
    _, created = j.begin_submit(owner="", model="m", body={}, request_hash="shared", idempotency_key="shared")
    for i in range(200):
        record, _ = j.begin_submit(
            owner=name, model="m", body={"i": i}, request_hash=str(i), idempotency_key=None
        )
        task_id = f"task_{name}_{i}"
        j.mark_accepted(record.journal_id, task_id=task_id, request_id=None, created_at=None)
        j.update_status(name, task_id, status="succeeded" if i % 2 else "processing")
finally:
    j.close()
print(json.dumps({"created": created}), flush=True)
"""


def test_two_processes_share_one_file(tmp_path: Path) -> None:
    """Two processes writing 200 tasks each at the same time: no error, all rows, a sound file."""
    path = tmp_path / "journal.db"
    go = tmp_path / "go"
    repo_root = Path(imini_mcp.__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(repo_root), os.environ.get("PYTHONPATH")])),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), name, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in ("p1", "p2")
    ]
    outputs: list[tuple[str, str]] = []
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        go.touch()
        outputs = [proc.communicate(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    created = [json.loads(out)["created"] for out, _ in outputs]
    assert sorted(created) == [False, True]
    with SqliteTaskStore(path) as j:
        assert j.count() == 401
        assert j.count("p1") == j.count("p2") == 200
        assert len(j.unfinished("p1")) == len(j.unfinished("p2")) == 100
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()


# -- scale -----------------------------------------------------------------------------------------------

BULK = 100_000
OWNERS = ("", "a", "b")
STATUSES = ("queued", "processing", "succeeded", "failed")


@pytest.fixture(scope="module")
def big_journal(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SqliteTaskStore, list[tuple[Any, ...]]]]:
    """100,000 rows inserted in one executemany, with ties in submitted_at; returns (journal, raw rows)."""
    path = tmp_path_factory.mktemp("big") / "journal.db"
    SqliteTaskStore(path).close()  # create the schema through the real migration
    rows = []
    for i in range(1, BULK + 1):
        owner = OWNERS[i % 3]
        state = ("accepted", "accepted", "accepted", "outcome_unknown", "rejected")[i % 5]
        status = STATUSES[i % 4] if state == "accepted" else None
        task_id = f"task_{i}" if state == "accepted" else None
        rows.append(
            (i, owner, state, task_id, MODEL, "{}", f"h{i % 50}", status, float(i // 7), float(i // 7))
        )
    with sqlite3.connect(path) as raw:
        raw.executemany(
            "INSERT INTO tasks (journal_id, owner, state, task_id, model, body, request_hash, status,"
            " submitted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    raw.close()
    j = SqliteTaskStore(path)
    yield j, rows
    j.close()


def expected_ids(
    rows: list[tuple[Any, ...]], owner: str, *, status: str | None = None, since: float | None = None
) -> list[int]:
    def keep(row: tuple[Any, ...]) -> bool:
        if row[1] != owner or (since is not None and row[8] < since):
            return False
        return (
            status is None or row[2 if status in ("accepted", "outcome_unknown", "rejected") else 7] == status
        )

    return [row[0] for row in sorted(filter(keep, rows), key=lambda r: (r[8], r[0]), reverse=True)]


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("status", [None, "succeeded", "processing", "rejected", "outcome_unknown"])
def test_large_journal_lists_correctly(
    big_journal: tuple[SqliteTaskStore, list[tuple[Any, ...]]], owner: str, status: str | None
) -> None:
    """On 100,000 rows, pages, filters and `since` give exactly the rows a full sort would."""
    j, rows = big_journal
    want = expected_ids(rows, owner, status=status)
    page = j.list_tasks(owner, status=status, limit=50)
    assert [r.journal_id for r in page] == want[:50]
    deeper = j.list_tasks(owner, status=status, limit=50, before_journal_id=want[2000])
    assert [r.journal_id for r in deeper] == want[2001:2051]
    since = float(BULK // 7 - 1000)
    recent = j.list_tasks(owner, status=status, since=since, limit=10_000)
    assert [r.journal_id for r in recent] == expected_ids(rows, owner, status=status, since=since)


def test_large_journal_other_queries(big_journal: tuple[SqliteTaskStore, list[tuple[Any, ...]]]) -> None:
    """count, get, unfinished and recent_same_request stay correct at 100,000 rows."""
    j, rows = big_journal
    assert j.count() == BULK
    assert j.count("a") == sum(1 for r in rows if r[1] == "a")
    record = j.get(rows[4][1], "task_5")
    assert record is not None
    assert record.journal_id == 5
    assert len(j.unfinished()) == sum(
        1 for r in rows if r[2] == "accepted" and r[7] in ("queued", "processing")
    )
    recent = j.recent_same_request("a", "h7", since=0)
    assert [r.journal_id for r in recent] == [
        row[0]
        for row in sorted(rows, key=lambda r: (r[8], r[0]), reverse=True)
        if row[1] == "a" and row[6] == "h7" and row[2] in ("accepted", "outcome_unknown")
    ]


@pytest.mark.parametrize(
    ("call", "expected_plan"),
    [
        ({}, ["tasks_owner_order (owner=?)"]),
        ({"status": "succeeded"}, ["tasks_owner_status (owner=? AND status=?)"]),
        ({"status": "rejected", "since": 5.0}, ["tasks_owner_state (owner=? AND state=? AND submitted_at>"]),
        ({"before_journal_id": 50_002}, ["tasks_owner_order (owner=? AND submitted_at<"]),
        ({"status": "failed", "before_journal_id": 50_002}, ["tasks_owner_status", "submitted_at<"]),
        ({"before_journal_id": 50_000}, ["tasks_owner_order (owner=?)"]),  # another owner's cursor
    ],
)
def test_list_queries_use_an_index(
    big_journal: tuple[SqliteTaskStore, list[tuple[Any, ...]]], call: dict[str, Any], expected_plan: list[str]
) -> None:
    """Every list_tasks shape seeks the index made for it, already in output order: no scan, no sort."""
    j, _ = big_journal
    statements: list[str] = []
    j._conn.set_trace_callback(statements.append)  # white-box: read the SQL the journal really runs
    try:
        j.list_tasks("a", **call)
    finally:
        j._conn.set_trace_callback(None)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT * FROM TASKS")]
    assert selects
    for sql in selects:
        plan = " | ".join(row[3] for row in j._conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
        for part in expected_plan:
            assert part in plan
        assert "SCAN" not in plan, plan
        assert "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize(
    ("call", "index"),
    [
        (lambda j: j.unfinished("a"), "tasks_unfinished"),
        (lambda j: j.unfinished(), "tasks_unfinished"),
        (lambda j: j.stale_submitting(10**12), "tasks_submitting"),
    ],
    ids=["unfinished-owner", "unfinished-all", "stale_submitting"],
)
def test_restart_queries_use_the_partial_indexes(
    big_journal: tuple[SqliteTaskStore, list[tuple[Any, ...]]],
    call: Callable[[SqliteTaskStore], Any],
    index: str,
) -> None:
    """What a restart reads comes from the small partial index made for it, already in order."""
    j, _ = big_journal
    statements: list[str] = []
    j._conn.set_trace_callback(statements.append)  # white-box: read the SQL the store really runs
    try:
        call(j)
    finally:
        j._conn.set_trace_callback(None)
    (sql,) = [s for s in statements if s.lstrip().upper().startswith("SELECT * FROM TASKS")]
    plan = " | ".join(row[3] for row in j._conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
    assert f"USING INDEX {index}" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
