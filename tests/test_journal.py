"""The task journal: lifecycle, idempotency, owner isolation, ordering, restarts, and concurrency."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import imini_mcp.store.sqlite as journal_module
from imini_mcp.store.sqlite import MIGRATIONS, IdempotencyConflict, SqliteTaskStore, TaskRecord

BODY: dict[str, Any] = {"model": "kling/kling-v3", "prompt": "a red fox in snow", "duration": 5}
MODEL = "kling/kling-v3"
VIDEO = {"url": "https://file.iminicdn.com/file/1.mp4", "width": 1284, "height": 716, "duration": 5}


class FakeClock:
    """A controllable time.time()."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = 1.0) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def journal(tmp_path: Path, clock: FakeClock) -> Iterator[SqliteTaskStore]:
    j = SqliteTaskStore(tmp_path / "journal.db", clock=clock)
    yield j
    j.close()


def submit(
    j: SqliteTaskStore,
    *,
    owner: str = "",
    request_hash: str = "h1",
    key: str | None = None,
    body: dict[str, Any] | None = None,
) -> TaskRecord:
    record, created = j.begin_submit(
        owner=owner, model=MODEL, body=body or BODY, request_hash=request_hash, idempotency_key=key
    )
    assert created
    return record


def accepted(j: SqliteTaskStore, task_id: str, *, owner: str = "", request_hash: str = "h1") -> TaskRecord:
    record = submit(j, owner=owner, request_hash=request_hash)
    return j.mark_accepted(record.journal_id, task_id=task_id, request_id=f"req-{task_id}", created_at="t0")


# -- lifecycle -------------------------------------------------------------------------------------------


def test_full_lifecycle(journal: SqliteTaskStore, clock: FakeClock) -> None:
    """Intent, acceptance, polls, result and files are each recorded, with times from the clock."""
    body = {
        "model": MODEL,
        "prompt": "ünïcödé 🦊",
        "aspect_ratio": "9:16",
        "extra_params": {"cfg_scale": 0.5},
    }
    record, created = journal.begin_submit(
        owner="", model=MODEL, body=body, request_hash="abc", idempotency_key="k1"
    )
    assert created
    assert record.state == "submitting"
    assert (record.task_id, record.status, record.videos, record.files, record.error) == (
        None,
        None,
        [],
        [],
        None,
    )
    assert record.body == body
    assert list(record.body) == list(body)  # key order survives: the body is what was sent upstream
    assert record.submitted_at == record.updated_at == 1_000.0
    assert record.last_polled_at is None
    assert not record.is_terminal

    clock.advance()
    record = journal.mark_accepted(
        record.journal_id, task_id="task_1", request_id="rq-1", created_at="2026-04-11T07:17:39.146Z"
    )
    assert (record.state, record.task_id, record.status) == ("accepted", "task_1", "queued")
    assert (record.request_id, record.created_at) == ("rq-1", "2026-04-11T07:17:39.146Z")
    assert record.updated_at == 1_001.0
    assert record.submitted_at == 1_000.0
    assert journal.unfinished() == [record]

    clock.advance()
    record = journal.update_status("", "task_1", status="processing")
    assert record is not None
    assert (record.status, record.last_polled_at) == ("processing", 1_002.0)

    clock.advance()
    record = journal.update_status(
        "", "task_1", status="succeeded", completed_at="2026-04-11T07:19:57.844Z", videos=[VIDEO]
    )
    assert record is not None
    assert (record.status, record.completed_at, record.videos) == (
        "succeeded",
        "2026-04-11T07:19:57.844Z",
        [VIDEO],
    )
    assert record.is_terminal
    assert journal.unfinished() == []

    record = journal.add_files("", "task_1", ["/out/task_1.mp4"])
    assert record is not None
    assert record.files == ["/out/task_1.mp4"]
    assert journal.get("", "task_1") == record
    assert journal.get_by_journal_id(record.journal_id) == record
    assert journal.find_idempotent("", "k1") == record


def test_failed_task_keeps_imini_error(journal: SqliteTaskStore) -> None:
    """A failed poll stores imini's error object and is terminal."""
    accepted(journal, "task_1")
    error = {"code": "INVALID_PROMPT", "message": "disallowed", "status": 400, "request_id": "r"}
    record = journal.update_status("", "task_1", status="failed", error=error)
    assert record is not None
    assert (record.status, record.error, record.is_terminal) == ("failed", error, True)


def test_rejected_submit(journal: SqliteTaskStore) -> None:
    """A 4xx refusal is terminal, keeps the HTTP status in `error` only, and is never unfinished."""
    record = submit(journal)
    record = journal.mark_rejected(
        record.journal_id, code="INSUFFICIENT_CREDITS", message="top up", status=402, request_id="rq"
    )
    assert record.state == "rejected"
    assert record.error == {
        "code": "INSUFFICIENT_CREDITS",
        "message": "top up",
        "status": 402,
        "request_id": "rq",
    }
    assert (record.status, record.task_id, record.request_id) == (None, None, "rq")
    assert record.is_terminal
    assert journal.unfinished() == []
    assert journal.stale_submitting(older_than=10**12) == []


def test_outcome_unknown(journal: SqliteTaskStore) -> None:
    """A submit without a task id is recorded with our own error and is not terminal."""
    record = submit(journal)
    record = journal.mark_outcome_unknown(record.journal_id, code="SUBMIT_TIMEOUT", message="no answer")
    assert record.state == "outcome_unknown"
    assert record.error == {"code": "SUBMIT_TIMEOUT", "message": "no answer"}
    assert not record.is_terminal
    assert journal.unfinished() == []  # nothing to poll: there is no task id


@pytest.mark.parametrize("late", ["outcome_unknown", "rejected"])
def test_late_failure_never_downgrades_an_accepted_task(journal: SqliteTaskStore, late: str) -> None:
    """A late timeout/refusal handler cannot hide a task id that was already recorded."""
    record = accepted(journal, "task_1")
    if late == "outcome_unknown":
        after = journal.mark_outcome_unknown(record.journal_id, code="X", message="late")
    else:
        after = journal.mark_rejected(record.journal_id, code="X", message="late", status=400)
    assert after == record


def test_task_id_wins_over_outcome_unknown(journal: SqliteTaskStore) -> None:
    """If a task id turns up after the submit was marked unknown, the row becomes accepted."""
    record = submit(journal)
    journal.mark_outcome_unknown(record.journal_id, code="SUBMIT_TIMEOUT", message="slow")
    record = journal.mark_accepted(
        record.journal_id, task_id="task_9", request_id=None, created_at=None, model="kling/kling-v3-x"
    )
    assert (record.state, record.task_id, record.status, record.error) == (
        "accepted",
        "task_9",
        "queued",
        None,
    )
    assert record.model == "kling/kling-v3-x"


def test_mark_accepted_is_idempotent_and_checked(journal: SqliteTaskStore) -> None:
    """Repeating mark_accepted is a no-op; a second task id or an unknown row is an error."""
    record = accepted(journal, "task_1")
    polled = journal.update_status("", "task_1", status="processing")
    assert (
        journal.mark_accepted(record.journal_id, task_id="task_1", request_id="x", created_at="y") == polled
    )
    with pytest.raises(ValueError, match="already accepted as task_1"):
        journal.mark_accepted(record.journal_id, task_id="task_2", request_id=None, created_at=None)
    with pytest.raises(KeyError):
        journal.mark_accepted(999, task_id="task_3", request_id=None, created_at=None)
    with pytest.raises(KeyError):
        journal.mark_outcome_unknown(999, code="X", message="y")


def test_task_id_is_unique_per_owner(journal: SqliteTaskStore) -> None:
    """One owner cannot journal the same task id twice; another owner can hold the same id."""
    accepted(journal, "task_1", owner="a")
    second = submit(journal, owner="a")
    with pytest.raises(ValueError, match="already journalled"):
        journal.mark_accepted(second.journal_id, task_id="task_1", request_id=None, created_at=None)
    assert journal.get_by_journal_id(second.journal_id) == second  # the failed write left no trace
    assert accepted(journal, "task_1", owner="b").owner == "b"


# -- polling ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("final", ["succeeded", "failed"])
@pytest.mark.parametrize("stale", ["queued", "processing", "pending"])
def test_terminal_status_never_regresses(
    journal: SqliteTaskStore, clock: FakeClock, final: str, stale: str
) -> None:
    """A stale poll after a terminal one only records the poll time."""
    accepted(journal, "task_1")
    done = journal.update_status("", "task_1", status=final, completed_at="c", videos=[VIDEO], error=None)
    assert done is not None
    clock.advance(5)
    after = journal.update_status("", "task_1", status=stale, videos=[], error={"code": "late"})
    assert after is not None
    assert after.model_dump(exclude={"last_polled_at", "updated_at"}) == done.model_dump(
        exclude={"last_polled_at", "updated_at"}
    )
    assert after.last_polled_at == clock.now


def test_first_terminal_status_is_final(journal: SqliteTaskStore) -> None:
    """imini documents terminal states as final, so a later different terminal status is ignored."""
    accepted(journal, "task_1")
    journal.update_status("", "task_1", status="succeeded", videos=[VIDEO])
    after = journal.update_status("", "task_1", status="failed", error={"code": "X", "message": "?"})
    assert after is not None
    assert (after.status, after.videos, after.error) == ("succeeded", [VIDEO], None)


def test_repeated_terminal_poll_refreshes_results(journal: SqliteTaskStore) -> None:
    """Polling a succeeded task again may replace its videos (e.g. fresh CDN URLs)."""
    accepted(journal, "task_1")
    journal.update_status("", "task_1", status="succeeded", videos=[VIDEO])
    fresh = {**VIDEO, "url": "https://file.iminicdn.com/file/2.mp4"}
    after = journal.update_status("", "task_1", status="succeeded", videos=[fresh])
    assert after is not None
    assert after.videos == [fresh]


def test_update_status_keeps_fields_not_given(journal: SqliteTaskStore) -> None:
    """None means 'not in this poll': stored values stay, and the submit request_id is kept."""
    accepted(journal, "task_1")
    journal.update_status("", "task_1", status="processing", completed_at=None, request_id="poll-1")
    record = journal.update_status("", "task_1", status="succeeded", completed_at="c", videos=[VIDEO])
    assert record is not None
    record = journal.update_status("", "task_1", status="succeeded", request_id="poll-2")
    assert record is not None
    assert (record.completed_at, record.videos, record.request_id) == ("c", [VIDEO], "req-task_1")


def test_unknown_status_is_not_terminal(journal: SqliteTaskStore) -> None:
    """A status imini never documented is stored as is and keeps the task unfinished."""
    accepted(journal, "task_1")
    record = journal.update_status("", "task_1", status="pending")
    assert record is not None
    assert (record.status, record.is_terminal) == ("pending", False)
    assert [r.task_id for r in journal.unfinished()] == ["task_1"]


def test_update_status_of_unknown_task_is_none(journal: SqliteTaskStore) -> None:
    """Polling a task that is not journalled changes nothing."""
    assert journal.update_status("", "task_404", status="succeeded") is None
    assert journal.add_files("", "task_404", ["/x"]) is None
    assert journal.count() == 0


@pytest.mark.parametrize(
    ("batches", "expected"),
    [
        ([["a", "b"], ["b", "c"]], ["a", "b", "c"]),
        ([["b", "a"], ["a"], []], ["b", "a"]),
        ([["a", "a", "b"]], ["a", "b"]),
        ([[], ["c"], ["a", "c"]], ["c", "a"]),
    ],
)
def test_add_files_is_an_ordered_union(
    journal: SqliteTaskStore, batches: list[list[str]], expected: list[str]
) -> None:
    """Files accumulate in first-seen order without duplicates."""
    accepted(journal, "task_1")
    record = None
    for batch in batches:
        record = journal.add_files("", "task_1", batch)
    assert record is not None
    assert record.files == expected


# -- idempotency -----------------------------------------------------------------------------------------


def test_same_key_same_hash_returns_existing(journal: SqliteTaskStore) -> None:
    """Repeating a submit with the same key and body gives back the first row, whatever its state."""
    first = submit(journal, key="k")
    again, created = journal.begin_submit(
        owner="", model=MODEL, body=BODY, request_hash="h1", idempotency_key="k"
    )
    assert (again, created) == (first, False)
    first = journal.mark_accepted(first.journal_id, task_id="task_1", request_id=None, created_at=None)
    again, created = journal.begin_submit(
        owner="", model=MODEL, body=BODY, request_hash="h1", idempotency_key="k"
    )
    assert (again, created) == (first, False)
    assert journal.count() == 1


def test_same_key_other_hash_conflicts(journal: SqliteTaskStore) -> None:
    """Reusing a key for a different body raises, carrying the existing row."""
    first = submit(journal, key="k")
    with pytest.raises(IdempotencyConflict) as info:
        journal.begin_submit(owner="", model=MODEL, body={"x": 1}, request_hash="h2", idempotency_key="k")
    assert info.value.existing == first
    assert "'k'" in str(info.value)
    assert journal.count() == 1


def test_idempotency_keys_are_per_owner(journal: SqliteTaskStore) -> None:
    """Two owners may use the same key for different requests."""
    a = submit(journal, owner="a", key="k", request_hash="h1")
    b = submit(journal, owner="b", key="k", request_hash="h2")
    assert a.journal_id != b.journal_id
    assert journal.find_idempotent("a", "k") == a
    assert journal.find_idempotent("b", "k") == b
    assert journal.find_idempotent("c", "k") is None


def test_no_key_means_no_deduplication(journal: SqliteTaskStore) -> None:
    """Without a key every begin_submit writes a new intent."""
    submit(journal)
    submit(journal)
    assert journal.count() == 2


def test_recent_same_request(journal: SqliteTaskStore, clock: FakeClock) -> None:
    """Only accepted/outcome_unknown rows with the hash, at or after `since`, newest first."""
    old = accepted(journal, "task_old")
    clock.advance(100)
    since = clock.now
    unknown = submit(journal)
    unknown = journal.mark_outcome_unknown(unknown.journal_id, code="T", message="m")
    clock.advance()
    rejected = submit(journal)
    journal.mark_rejected(rejected.journal_id, code="X", message="m", status=400)
    submit(journal)  # still submitting
    accepted(journal, "task_other_hash", request_hash="h2")
    accepted(journal, "task_other_owner", owner="b")
    newest = accepted(journal, "task_new")
    assert journal.recent_same_request("", "h1", since=since) == [newest, unknown]
    assert journal.recent_same_request("", "h1", since=0) == [newest, unknown, old]


# -- owners ----------------------------------------------------------------------------------------------


def test_owner_isolation(journal: SqliteTaskStore) -> None:
    """Owner A cannot read, list, update or attach files to owner B's task."""
    b = accepted(journal, "task_b", owner="B")
    submit(journal, owner="B", key="kb")
    assert journal.get("A", "task_b") is None
    assert journal.list_tasks("A") == []
    assert journal.update_status("A", "task_b", status="succeeded") is None
    assert journal.add_files("A", "task_b", ["/stolen"]) is None
    assert journal.find_idempotent("A", "kb") is None
    assert journal.recent_same_request("A", "h1", since=0) == []
    assert journal.unfinished("A") == []
    assert journal.count("A") == 0
    assert journal.count("B") == 2
    assert journal.get("B", "task_b") == b  # untouched by A's attempts
    assert [r.owner for r in journal.unfinished()] == ["B"]


def test_foreign_cursor_reveals_nothing(journal: SqliteTaskStore) -> None:
    """A cursor naming another owner's row still lists only the caller's own tasks."""
    mine = [submit(journal, owner="A") for _ in range(3)]
    theirs = submit(journal, owner="B")
    listed = journal.list_tasks("A", before_journal_id=theirs.journal_id)
    assert listed == mine[::-1]
    assert all(r.owner == "A" for r in journal.list_tasks("A", before_journal_id=mine[2].journal_id))


# -- listing ---------------------------------------------------------------------------------------------


def test_list_is_newest_first_with_journal_id_breaking_ties(
    journal: SqliteTaskStore, clock: FakeClock
) -> None:
    """Order is submitted_at desc then journal_id desc, even when the clock goes backwards."""
    a = submit(journal)
    b = submit(journal)  # same instant as a
    clock.advance(10)
    c = submit(journal)
    clock.advance(-5)  # wall clock stepped back
    d = submit(journal)
    ids = [r.journal_id for r in journal.list_tasks("")]
    assert ids == [c.journal_id, d.journal_id, b.journal_id, a.journal_id]


@pytest.fixture
def mixed(journal: SqliteTaskStore, clock: FakeClock) -> dict[str, list[int]]:
    """One task of each kind, one second apart; maps each filter value to the expected ids, newest first."""
    expect: dict[str, list[int]] = {}

    def note(record: TaskRecord, *names: str) -> None:
        for name in names:
            expect.setdefault(name, []).insert(0, record.journal_id)
        clock.advance()

    note(submit(journal), "submitting")
    note(journal.mark_outcome_unknown(submit(journal).journal_id, code="T", message="m"), "outcome_unknown")
    note(journal.mark_rejected(submit(journal).journal_id, code="X", message="m"), "rejected")
    note(accepted(journal, "task_q"), "queued", "accepted")
    for task_id, status in [("task_p", "processing"), ("task_s", "succeeded"), ("task_f", "failed")]:
        accepted(journal, task_id)
        record = journal.update_status("", task_id, status=status)
        assert record is not None
        note(record, status, "accepted")
    return expect


@pytest.mark.parametrize(
    "status",
    ["submitting", "outcome_unknown", "rejected", "accepted", "queued", "processing", "succeeded", "failed"],
)
def test_list_status_filter(journal: SqliteTaskStore, mixed: dict[str, list[int]], status: str) -> None:
    """The filter matches imini statuses and journal state names."""
    assert [r.journal_id for r in journal.list_tasks("", status=status)] == mixed[status]


def test_list_unknown_status_filter_is_empty(journal: SqliteTaskStore, mixed: dict[str, list[int]]) -> None:
    """Filtering on a status nobody has gives an empty list, not an error."""
    assert journal.list_tasks("", status="cancelled") == []


def test_list_since_and_limit(journal: SqliteTaskStore, clock: FakeClock) -> None:
    """`since` is inclusive; `limit` caps the page; a non-positive limit gives nothing."""
    records = []
    for _ in range(10):
        records.append(submit(journal))
        clock.advance()
    ids = [r.journal_id for r in records][::-1]
    assert [r.journal_id for r in journal.list_tasks("", since=records[6].submitted_at)] == ids[:4]
    assert [r.journal_id for r in journal.list_tasks("", limit=3)] == ids[:3]
    assert [r.journal_id for r in journal.list_tasks("", since=records[2].submitted_at, limit=2)] == ids[:2]
    assert journal.list_tasks("", limit=0) == []
    assert len(journal.list_tasks("")) == 10  # default limit 20


def test_paging_cursor_walks_every_row_once(journal: SqliteTaskStore, clock: FakeClock) -> None:
    """Pages chained by before_journal_id cover all rows in order, across ties and clock steps back."""
    for i in range(23):
        submit(journal)
        clock.advance(1 if i % 3 else 0)  # many ties
        if i == 11:
            clock.advance(-4)  # wall clock stepped back
    expected = [r.journal_id for r in journal.list_tasks("", limit=100)]
    walked: list[int] = []
    cursor: int | None = None
    for _ in range(10):  # bounded: a broken cursor must fail the test, not loop forever
        page = journal.list_tasks("", limit=5, before_journal_id=cursor)
        if not page:
            break
        walked += [r.journal_id for r in page]
        cursor = page[-1].journal_id
    assert walked == expected
    assert len(walked) == 23


def test_paging_combines_with_filters(journal: SqliteTaskStore, mixed: dict[str, list[int]]) -> None:
    """The cursor works together with the status filter."""
    first = journal.list_tasks("", status="accepted", limit=2)
    rest = journal.list_tasks("", status="accepted", limit=10, before_journal_id=first[-1].journal_id)
    assert [r.journal_id for r in first + rest] == mixed["accepted"]


def test_unfinished_and_stale_submitting(journal: SqliteTaskStore, clock: FakeClock) -> None:
    """After a restart: accepted non-terminal tasks to follow, and intents left mid-submit."""
    stale = submit(journal, owner="a")
    clock.advance(60)
    cutoff = clock.now
    fresh = submit(journal, owner="b")
    q = accepted(journal, "task_q", owner="a")
    accepted(journal, "task_s", owner="a")
    journal.update_status("a", "task_s", status="succeeded")
    p = accepted(journal, "task_p", owner="b")
    p = journal.update_status("b", "task_p", status="processing")
    assert p is not None
    assert journal.stale_submitting(cutoff) == [stale]
    assert journal.stale_submitting(cutoff + 1) == [stale, fresh]
    assert journal.unfinished() == [q, p]
    assert journal.unfinished("a") == [q]
    assert journal.unfinished("b") == [p]


# -- the file --------------------------------------------------------------------------------------------


def test_reopen_keeps_everything(tmp_path: Path, clock: FakeClock) -> None:
    """A restart reads back exactly what was written."""
    path = tmp_path / "journal.db"
    with SqliteTaskStore(path, clock=clock) as j:
        a = submit(j, key="k")
        j.mark_accepted(a.journal_id, task_id="task_1", request_id="r", created_at="c")
        j.update_status("", "task_1", status="succeeded", videos=[VIDEO], completed_at="d")
        j.add_files("", "task_1", ["/f.mp4"])
        j.mark_outcome_unknown(submit(j).journal_id, code="T", message="m")
        submit(j, owner="other")
        before = j.list_tasks("") + j.list_tasks("other")
    with SqliteTaskStore(path, clock=clock) as j:
        assert j.list_tasks("") + j.list_tasks("other") == before
        assert j.find_idempotent("", "k") == next(r for r in before if r.journal_id == a.journal_id)
        nxt = submit(j)
        assert nxt.journal_id > max(r.journal_id for r in before)


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
    monkeypatch.setattr(journal_module, "MIGRATIONS", (*MIGRATIONS, extra))
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


def test_close_is_idempotent(tmp_path: Path) -> None:
    """close() twice is fine; use after close raises."""
    j = SqliteTaskStore(tmp_path / "journal.db")
    j.close()
    j.close()
    with pytest.raises(sqlite3.ProgrammingError):
        j.count()


# -- concurrency -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shared", [True, False], ids=["one-journal", "journal-per-thread"])
def test_threads_racing_one_key_create_one_row(tmp_path: Path, shared: bool) -> None:
    """Of 8 concurrent begin_submit calls with one key, exactly one creates the row."""
    path = tmp_path / "journal.db"
    journals = [SqliteTaskStore(path)] * 8 if shared else [SqliteTaskStore(path) for _ in range(8)]
    barrier = threading.Barrier(8)

    def race(j: SqliteTaskStore) -> tuple[TaskRecord, bool]:
        barrier.wait()
        return j.begin_submit(owner="", model=MODEL, body=BODY, request_hash="h1", idempotency_key="k")

    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(race, journals))
    finally:
        for j in set(journals):
            j.close()
    assert sum(created for _, created in results) == 1
    assert len({record.journal_id for record, _ in results}) == 1


def test_threads_writing_concurrently(journal: SqliteTaskStore) -> None:
    """Many threads submitting, accepting and polling through one journal lose nothing."""

    def work(n: int) -> None:
        for i in range(25):
            record = submit(journal, owner=f"o{n % 3}")
            task_id = f"task_{n}_{i}"
            journal.mark_accepted(record.journal_id, task_id=task_id, request_id=None, created_at=None)
            journal.update_status(record.owner, task_id, status="succeeded")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    assert journal.count() == 200
    assert journal.unfinished() == []


WRITER = """
import json, sys, time
from pathlib import Path
from imini_mcp.store.sqlite import SqliteTaskStore

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
    repo_root = Path(journal_module.__file__).resolve().parents[1]
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
