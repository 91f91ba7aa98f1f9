"""The TaskStore contract: every implementation must pass this whole file unchanged.

The tests reach the store only through TaskStore's methods, once per entry of STORE_FACTORIES (a new
implementation appends its factory there). What is particular to SQLite is in test_sqlite_store.py.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from psycopg_pool import PoolClosed

from imini_mcp.store import IdempotencyConflict, SqliteTaskStore, TaskRecord, TaskStore
from tests.store import races
from tests.store.conftest import BODY, MODEL, VIDEO, FakeClock, accepted, submit

Clock = Callable[[], float]


@dataclass(frozen=True)
class StoreFactory:
    """How the suite opens one implementation of TaskStore."""

    name: str
    # open(place, clock): a store on the data kept at `place`, an empty directory of its own for each test.
    # Opening the same place again gives another store on the same data, like a restart or another process.
    # A module-level function (child processes of the race tests get it by reference).
    open: Callable[[Path, Clock], TaskStore]
    closed_error: type[Exception]  # what a call on a closed store raises
    needs: str | None = None  # a fixture that prepares `place` first (e.g. a fresh database named there)


def _sqlite(place: Path, clock: Clock) -> TaskStore:
    return SqliteTaskStore(place / "journal.db", clock=clock)


def _postgres(place: Path, clock: Clock) -> TaskStore:
    from imini_mcp.store.postgres import PostgresTaskStore

    return PostgresTaskStore((place / "postgres.url").read_text(encoding="utf-8"), clock=clock)


STORE_FACTORIES: list[StoreFactory] = [
    StoreFactory("sqlite", _sqlite, closed_error=sqlite3.ProgrammingError),
    StoreFactory("postgres", _postgres, closed_error=PoolClosed, needs="pg_place"),  # tests/postgres.py
]


@pytest.fixture(params=STORE_FACTORIES, ids=lambda factory: factory.name)
def factory(request: pytest.FixtureRequest) -> StoreFactory:
    """Each implementation in turn: every test of this file runs once per factory."""
    chosen: StoreFactory = request.param
    if chosen.needs is not None:
        request.getfixturevalue(chosen.needs)
    return chosen


@pytest.fixture
def open_store(factory: StoreFactory, tmp_path: Path, clock: FakeClock) -> Iterator[Callable[[], TaskStore]]:
    """Opens stores on this test's data (each call a new one: a restart, another thread or process)."""
    opened: list[TaskStore] = []

    def open_one() -> TaskStore:
        store = factory.open(tmp_path, clock)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], TaskStore]) -> TaskStore:
    """A store on this test's empty data, closed after the test."""
    return open_store()


# -- lifecycle -------------------------------------------------------------------------------------------


def test_full_lifecycle(store: TaskStore, clock: FakeClock) -> None:
    """Intent, acceptance, polls, result and files are each recorded, with times from the clock."""
    body = {
        "model": MODEL,
        "prompt": "ünïcödé 🦊",
        "aspect_ratio": "9:16",
        "extra_params": {"cfg_scale": 0.5},
    }
    record: TaskRecord | None
    record, created = store.begin_submit(
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
    record = store.mark_accepted(
        record.journal_id, task_id="task_1", request_id="rq-1", created_at="2026-04-11T07:17:39.146Z"
    )
    assert (record.state, record.task_id, record.status) == ("accepted", "task_1", "queued")
    assert (record.request_id, record.created_at) == ("rq-1", "2026-04-11T07:17:39.146Z")
    assert record.updated_at == 1_001.0
    assert record.submitted_at == 1_000.0
    assert store.unfinished() == [record]

    clock.advance()
    record = store.update_status("", "task_1", status="processing")
    assert record is not None
    assert (record.status, record.last_polled_at) == ("processing", 1_002.0)

    clock.advance()
    record = store.update_status(
        "", "task_1", status="succeeded", completed_at="2026-04-11T07:19:57.844Z", videos=[VIDEO]
    )
    assert record is not None
    assert (record.status, record.completed_at, record.videos) == (
        "succeeded",
        "2026-04-11T07:19:57.844Z",
        [VIDEO],
    )
    assert record.is_terminal
    assert store.unfinished() == []

    record = store.add_files("", "task_1", ["/out/task_1.mp4"])
    assert record is not None
    assert record.files == ["/out/task_1.mp4"]
    assert store.get("", "task_1") == record
    assert store.get_by_journal_id(record.journal_id) == record
    assert store.find_idempotent("", "k1") == record


def test_failed_task_keeps_imini_error(store: TaskStore) -> None:
    """A failed poll stores imini's error object and is terminal."""
    accepted(store, "task_1")
    error = {"code": "INVALID_PROMPT", "message": "disallowed", "status": 400, "request_id": "r"}
    record = store.update_status("", "task_1", status="failed", error=error)
    assert record is not None
    assert (record.status, record.error, record.is_terminal) == ("failed", error, True)


def test_rejected_submit(store: TaskStore) -> None:
    """A 4xx refusal is terminal, keeps the HTTP status in `error` only, and is never unfinished."""
    record = submit(store)
    record = store.mark_rejected(
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
    assert store.unfinished() == []
    assert store.stale_submitting(older_than=10**12) == []


def test_outcome_unknown(store: TaskStore) -> None:
    """A submit without a task id is recorded with our own error and is not terminal."""
    record = submit(store)
    record = store.mark_outcome_unknown(record.journal_id, code="SUBMIT_TIMEOUT", message="no answer")
    assert record.state == "outcome_unknown"
    assert record.error == {"code": "SUBMIT_TIMEOUT", "message": "no answer"}
    assert not record.is_terminal
    assert store.unfinished() == []  # nothing to poll: there is no task id


@pytest.mark.parametrize("late", ["outcome_unknown", "rejected"])
def test_late_failure_never_downgrades_an_accepted_task(store: TaskStore, late: str) -> None:
    """A late timeout/refusal handler cannot hide a task id that was already recorded."""
    record = accepted(store, "task_1")
    if late == "outcome_unknown":
        after = store.mark_outcome_unknown(record.journal_id, code="X", message="late")
    else:
        after = store.mark_rejected(record.journal_id, code="X", message="late", status=400)
    assert after == record


def test_task_id_wins_over_outcome_unknown(store: TaskStore) -> None:
    """If a task id turns up after the submit was marked unknown, the row becomes accepted."""
    record = submit(store)
    store.mark_outcome_unknown(record.journal_id, code="SUBMIT_TIMEOUT", message="slow")
    record = store.mark_accepted(
        record.journal_id, task_id="task_9", request_id=None, created_at=None, model="kling/kling-v3-x"
    )
    assert (record.state, record.task_id, record.status, record.error) == (
        "accepted",
        "task_9",
        "queued",
        None,
    )
    assert record.model == "kling/kling-v3-x"


def test_mark_accepted_is_idempotent_and_checked(store: TaskStore) -> None:
    """Repeating mark_accepted is a no-op; a second task id or an unknown row is an error."""
    record = accepted(store, "task_1")
    polled = store.update_status("", "task_1", status="processing")
    assert store.mark_accepted(record.journal_id, task_id="task_1", request_id="x", created_at="y") == polled
    with pytest.raises(ValueError, match="already accepted as task_1"):
        store.mark_accepted(record.journal_id, task_id="task_2", request_id=None, created_at=None)
    with pytest.raises(KeyError):
        store.mark_accepted(999, task_id="task_3", request_id=None, created_at=None)
    with pytest.raises(KeyError):
        store.mark_outcome_unknown(999, code="X", message="y")


def test_task_id_is_unique_per_owner(store: TaskStore) -> None:
    """One owner cannot store the same task id twice; another owner can hold the same id."""
    accepted(store, "task_1", owner="a")
    second = submit(store, owner="a")
    with pytest.raises(ValueError, match="already journalled"):
        store.mark_accepted(second.journal_id, task_id="task_1", request_id=None, created_at=None)
    assert store.get_by_journal_id(second.journal_id) == second  # the failed write left no trace
    assert accepted(store, "task_1", owner="b").owner == "b"


# -- polling ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("final", ["succeeded", "failed"])
@pytest.mark.parametrize("stale", ["queued", "processing", "pending"])
def test_terminal_status_never_regresses(store: TaskStore, clock: FakeClock, final: str, stale: str) -> None:
    """A stale poll after a terminal one only records the poll time."""
    accepted(store, "task_1")
    done = store.update_status("", "task_1", status=final, completed_at="c", videos=[VIDEO], error=None)
    assert done is not None
    clock.advance(5)
    after = store.update_status("", "task_1", status=stale, videos=[], error={"code": "late"})
    assert after is not None
    assert after.model_dump(exclude={"last_polled_at", "updated_at"}) == done.model_dump(
        exclude={"last_polled_at", "updated_at"}
    )
    assert after.last_polled_at == clock.now


def test_first_terminal_status_is_final(store: TaskStore) -> None:
    """imini documents terminal states as final, so a later different terminal status is ignored."""
    accepted(store, "task_1")
    store.update_status("", "task_1", status="succeeded", videos=[VIDEO])
    after = store.update_status("", "task_1", status="failed", error={"code": "X", "message": "?"})
    assert after is not None
    assert (after.status, after.videos, after.error) == ("succeeded", [VIDEO], None)


def test_repeated_terminal_poll_refreshes_results(store: TaskStore) -> None:
    """Polling a succeeded task again may replace its videos (e.g. fresh CDN URLs)."""
    accepted(store, "task_1")
    store.update_status("", "task_1", status="succeeded", videos=[VIDEO])
    fresh = {**VIDEO, "url": "https://file.iminicdn.com/file/2.mp4"}
    after = store.update_status("", "task_1", status="succeeded", videos=[fresh])
    assert after is not None
    assert after.videos == [fresh]


def test_update_status_keeps_fields_not_given(store: TaskStore) -> None:
    """None means 'not in this poll': stored values stay, and the submit request_id is kept."""
    accepted(store, "task_1")
    store.update_status("", "task_1", status="processing", completed_at=None, request_id="poll-1")
    record = store.update_status("", "task_1", status="succeeded", completed_at="c", videos=[VIDEO])
    assert record is not None
    record = store.update_status("", "task_1", status="succeeded", request_id="poll-2")
    assert record is not None
    assert (record.completed_at, record.videos, record.request_id) == ("c", [VIDEO], "req-task_1")


def test_unknown_status_is_not_terminal(store: TaskStore) -> None:
    """A status imini never documented is stored as is and keeps the task unfinished."""
    accepted(store, "task_1")
    record = store.update_status("", "task_1", status="pending")
    assert record is not None
    assert (record.status, record.is_terminal) == ("pending", False)
    assert [r.task_id for r in store.unfinished()] == ["task_1"]


def test_update_status_of_unknown_task_is_none(store: TaskStore) -> None:
    """Polling a task that is not journalled changes nothing."""
    assert store.update_status("", "task_404", status="succeeded") is None
    assert store.add_files("", "task_404", ["/x"]) is None
    assert store.count() == 0


# -- imini no longer knows the task (404) -----------------------------------------------------------------


NOT_FOUND = {
    "code": "TASK_NOT_FOUND",
    "message": "does not exist or has expired",
    "status": 404,
    "request_id": "rq",
}


def test_expired_task_is_final_and_keeps_what_was_seen(store: TaskStore, clock: FakeClock) -> None:
    """A 404 for an accepted task makes it 'expired': terminal, never unfinished, listed, nothing else lost."""
    accepted(store, "task_1")
    polled = store.update_status("", "task_1", status="processing")
    assert polled is not None
    store.merge_options("", "task_1", "mcp_task", {"ttl": 60})
    clock.advance(7)
    record = store.mark_expired(
        "",
        "task_1",
        code="TASK_NOT_FOUND",
        message="does not exist or has expired",
        status=404,
        request_id="rq",
    )
    assert record is not None
    assert (record.state, record.status, record.error, record.is_terminal) == (
        "expired",
        "processing",
        NOT_FOUND,
        True,
    )
    assert (record.request_id, record.last_polled_at, record.updated_at) == (
        "req-task_1",
        polled.last_polled_at,
        clock.now,
    )
    assert record.options == {"mcp_task": {"ttl": 60}}
    assert store.get("", "task_1") == record
    assert store.unfinished() == []
    assert [r.task_id for r in store.list_tasks("")] == ["task_1"]
    assert [r.task_id for r in store.list_tasks("", status="expired")] == ["task_1"]
    assert store.list_tasks("", status="accepted") == []
    assert store.count() == 1
    again = store.mark_expired("", "task_1", code="OTHER", message="later")
    assert again == record  # already expired: returned as it is


@pytest.mark.parametrize("final", ["succeeded", "failed"])
def test_a_finished_task_never_expires(store: TaskStore, final: str) -> None:
    """imini forgetting a finished task later changes nothing: its result stays."""
    accepted(store, "task_1")
    done = store.update_status("", "task_1", status=final, videos=[VIDEO] if final == "succeeded" else None)
    assert store.mark_expired("", "task_1", code="TASK_NOT_FOUND", message="gone", status=404) == done


def test_mark_expired_touches_only_this_owners_task(store: TaskStore) -> None:
    """Another owner's task with the same id, or an unknown id: None, and nothing changes."""
    other = accepted(store, "task_1", owner="b")
    assert store.mark_expired("a", "task_1", code="TASK_NOT_FOUND", message="gone") is None
    assert store.mark_expired("", "task_404", code="TASK_NOT_FOUND", message="gone") is None
    assert store.get("b", "task_1") == other


def test_a_poll_result_revives_an_expired_task(store: TaskStore) -> None:
    """imini answering for the task after all is evidence: accepted again, the 404 forgotten, unfinished."""
    accepted(store, "task_1")
    store.mark_expired("", "task_1", code="TASK_NOT_FOUND", message="gone", status=404)
    record = store.update_status("", "task_1", status="processing")
    assert record is not None
    assert (record.state, record.status, record.error, record.is_terminal) == (
        "accepted",
        "processing",
        None,
        False,
    )
    assert [r.task_id for r in store.unfinished()] == ["task_1"]


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
    store: TaskStore, batches: list[list[str]], expected: list[str]
) -> None:
    """Files accumulate in first-seen order without duplicates."""
    accepted(store, "task_1")
    record = None
    for batch in batches:
        record = store.add_files("", "task_1", batch)
    assert record is not None
    assert record.files == expected


# -- options -------------------------------------------------------------------------------------------


def test_options_are_kept_and_merged(store: TaskStore, clock: FakeClock) -> None:
    """Options given at submit read back as given; merge_options merges one key's dict and keeps the rest."""
    options = {"output": {"mode": "file", "name": "fox.mp4"}, "note": "x"}
    record, _ = store.begin_submit(
        owner="", model=MODEL, body=BODY, request_hash="h1", idempotency_key=None, options=options
    )
    assert record.options == options
    assert submit(store).options == {}
    store.mark_accepted(record.journal_id, task_id="task_1", request_id=None, created_at=None)
    clock.advance()
    merged = store.merge_options("", "task_1", "output", {"name": "hare.mp4", "dir": "/out"})
    assert merged is not None
    assert merged.options == {"output": {"mode": "file", "name": "hare.mp4", "dir": "/out"}, "note": "x"}
    assert merged.updated_at == clock.now
    created = store.merge_options("", "task_1", "mcp_task", {"ttl": 60})
    assert created is not None
    assert created.options["mcp_task"] == {"ttl": 60}
    assert store.get("", "task_1") == created


def test_merge_options_is_per_owner(store: TaskStore) -> None:
    """merge_options on a task that is not this owner's changes nothing and gives None."""
    record = accepted(store, "task_b", owner="B")
    assert store.merge_options("A", "task_b", "mcp_task", {"ttl": 60}) is None
    assert store.merge_options("B", "task_404", "mcp_task", {"ttl": 60}) is None
    assert store.get("B", "task_b") == record


def test_with_option_filters_lists_and_unfinished(store: TaskStore) -> None:
    """with_option keeps only the tasks whose options hold a value under that key."""
    plain = accepted(store, "task_plain")
    record, _ = store.begin_submit(
        owner="", model=MODEL, body=BODY, request_hash="h2", idempotency_key=None, options={"mcp_task": {}}
    )
    tagged = store.mark_accepted(record.journal_id, task_id="task_tagged", request_id=None, created_at=None)
    merged = store.merge_options("", "task_plain", "other", {"a": 1})
    assert merged is not None
    assert [r.task_id for r in store.list_tasks("", with_option="mcp_task")] == ["task_tagged"]
    assert store.unfinished(with_option="mcp_task") == [tagged]
    assert store.unfinished("", with_option="other") == [merged]
    assert store.unfinished("B", with_option="mcp_task") == []
    assert [r.task_id for r in store.list_tasks("")] == ["task_tagged", "task_plain"]
    assert plain.options == {}


# -- idempotency -----------------------------------------------------------------------------------------


def test_same_key_same_hash_returns_existing(store: TaskStore) -> None:
    """Repeating a submit with the same key and body gives back the first row, whatever its state."""
    first = submit(store, key="k")
    again, created = store.begin_submit(
        owner="", model=MODEL, body=BODY, request_hash="h1", idempotency_key="k"
    )
    assert (again, created) == (first, False)
    first = store.mark_accepted(first.journal_id, task_id="task_1", request_id=None, created_at=None)
    again, created = store.begin_submit(
        owner="", model=MODEL, body=BODY, request_hash="h1", idempotency_key="k"
    )
    assert (again, created) == (first, False)
    assert store.count() == 1


def test_same_key_other_hash_conflicts(store: TaskStore) -> None:
    """Reusing a key for a different body raises, carrying the existing row."""
    first = submit(store, key="k")
    with pytest.raises(IdempotencyConflict) as info:
        store.begin_submit(owner="", model=MODEL, body={"x": 1}, request_hash="h2", idempotency_key="k")
    assert info.value.existing == first
    assert "'k'" in str(info.value)
    assert store.count() == 1


def test_idempotency_keys_are_per_owner(store: TaskStore) -> None:
    """Two owners may use the same key for different requests."""
    a = submit(store, owner="a", key="k", request_hash="h1")
    b = submit(store, owner="b", key="k", request_hash="h2")
    assert a.journal_id != b.journal_id
    assert store.find_idempotent("a", "k") == a
    assert store.find_idempotent("b", "k") == b
    assert store.find_idempotent("c", "k") is None


def test_no_key_means_no_deduplication(store: TaskStore) -> None:
    """Without a key every begin_submit writes a new intent."""
    submit(store)
    submit(store)
    assert store.count() == 2


def test_recent_same_request(store: TaskStore, clock: FakeClock) -> None:
    """Only accepted/outcome_unknown rows with the hash, at or after `since`, newest first."""
    old = accepted(store, "task_old")
    clock.advance(100)
    since = clock.now
    unknown = submit(store)
    unknown = store.mark_outcome_unknown(unknown.journal_id, code="T", message="m")
    clock.advance()
    rejected = submit(store)
    store.mark_rejected(rejected.journal_id, code="X", message="m", status=400)
    submit(store)  # still submitting
    accepted(store, "task_other_hash", request_hash="h2")
    accepted(store, "task_other_owner", owner="b")
    newest = accepted(store, "task_new")
    assert store.recent_same_request("", "h1", since=since) == [newest, unknown]
    assert store.recent_same_request("", "h1", since=0) == [newest, unknown, old]


# -- owners ----------------------------------------------------------------------------------------------


def test_owner_isolation(store: TaskStore) -> None:
    """Owner A cannot read, list, update or attach files to owner B's task."""
    b = accepted(store, "task_b", owner="B")
    submit(store, owner="B", key="kb")
    assert store.get("A", "task_b") is None
    assert store.list_tasks("A") == []
    assert store.update_status("A", "task_b", status="succeeded") is None
    assert store.add_files("A", "task_b", ["/stolen"]) is None
    assert store.find_idempotent("A", "kb") is None
    assert store.recent_same_request("A", "h1", since=0) == []
    assert store.unfinished("A") == []
    assert store.count("A") == 0
    assert store.count("B") == 2
    assert store.get("B", "task_b") == b  # untouched by A's attempts
    assert [r.owner for r in store.unfinished()] == ["B"]


def test_foreign_cursor_reveals_nothing(store: TaskStore) -> None:
    """A cursor naming another owner's row still lists only the caller's own tasks."""
    mine = [submit(store, owner="A") for _ in range(3)]
    theirs = submit(store, owner="B")
    listed = store.list_tasks("A", before_journal_id=theirs.journal_id)
    assert listed == mine[::-1]
    assert all(r.owner == "A" for r in store.list_tasks("A", before_journal_id=mine[2].journal_id))


# -- listing ---------------------------------------------------------------------------------------------


def test_list_is_newest_first_with_journal_id_breaking_ties(store: TaskStore, clock: FakeClock) -> None:
    """Order is submitted_at desc then journal_id desc, even when the clock goes backwards."""
    a = submit(store)
    b = submit(store)  # same instant as a
    clock.advance(10)
    c = submit(store)
    clock.advance(-5)  # wall clock stepped back
    d = submit(store)
    ids = [r.journal_id for r in store.list_tasks("")]
    assert ids == [c.journal_id, d.journal_id, b.journal_id, a.journal_id]


@pytest.fixture
def mixed(store: TaskStore, clock: FakeClock) -> dict[str, list[int]]:
    """One task of each kind, one second apart; maps each filter value to the expected ids, newest first."""
    expect: dict[str, list[int]] = {}

    def note(record: TaskRecord, *names: str) -> None:
        for name in names:
            expect.setdefault(name, []).insert(0, record.journal_id)
        clock.advance()

    note(submit(store), "submitting")
    note(store.mark_outcome_unknown(submit(store).journal_id, code="T", message="m"), "outcome_unknown")
    note(store.mark_rejected(submit(store).journal_id, code="X", message="m"), "rejected")
    note(accepted(store, "task_q"), "queued", "accepted")
    for task_id, status in [("task_p", "processing"), ("task_s", "succeeded"), ("task_f", "failed")]:
        accepted(store, task_id)
        record = store.update_status("", task_id, status=status)
        assert record is not None
        note(record, status, "accepted")
    return expect


@pytest.mark.parametrize(
    "status",
    ["submitting", "outcome_unknown", "rejected", "accepted", "queued", "processing", "succeeded", "failed"],
)
def test_list_status_filter(store: TaskStore, mixed: dict[str, list[int]], status: str) -> None:
    """The filter matches imini statuses and task state names."""
    assert [r.journal_id for r in store.list_tasks("", status=status)] == mixed[status]


def test_list_unknown_status_filter_is_empty(store: TaskStore, mixed: dict[str, list[int]]) -> None:
    """Filtering on a status nobody has gives an empty list, not an error."""
    assert store.list_tasks("", status="cancelled") == []


def test_list_since_and_limit(store: TaskStore, clock: FakeClock) -> None:
    """`since` is inclusive; `limit` caps the page; a non-positive limit gives nothing."""
    records = []
    for _ in range(10):
        records.append(submit(store))
        clock.advance()
    ids = [r.journal_id for r in records][::-1]
    assert [r.journal_id for r in store.list_tasks("", since=records[6].submitted_at)] == ids[:4]
    assert [r.journal_id for r in store.list_tasks("", limit=3)] == ids[:3]
    assert [r.journal_id for r in store.list_tasks("", since=records[2].submitted_at, limit=2)] == ids[:2]
    assert store.list_tasks("", limit=0) == []
    assert len(store.list_tasks("")) == 10  # default limit 20


def test_paging_cursor_walks_every_row_once(store: TaskStore, clock: FakeClock) -> None:
    """Pages chained by before_journal_id cover all rows in order, across ties and clock steps back."""
    for i in range(23):
        submit(store)
        clock.advance(1 if i % 3 else 0)  # many ties
        if i == 11:
            clock.advance(-4)  # wall clock stepped back
    expected = [r.journal_id for r in store.list_tasks("", limit=100)]
    walked: list[int] = []
    cursor: int | None = None
    for _ in range(10):  # bounded: a broken cursor must fail the test, not loop forever
        page = store.list_tasks("", limit=5, before_journal_id=cursor)
        if not page:
            break
        walked += [r.journal_id for r in page]
        cursor = page[-1].journal_id
    assert walked == expected
    assert len(walked) == 23


def test_paging_combines_with_filters(store: TaskStore, mixed: dict[str, list[int]]) -> None:
    """The cursor works together with the status filter."""
    first = store.list_tasks("", status="accepted", limit=2)
    rest = store.list_tasks("", status="accepted", limit=10, before_journal_id=first[-1].journal_id)
    assert [r.journal_id for r in first + rest] == mixed["accepted"]


def test_unfinished_and_stale_submitting(store: TaskStore, clock: FakeClock) -> None:
    """After a restart: accepted non-terminal tasks to follow, and intents left mid-submit."""
    stale = submit(store, owner="a")
    clock.advance(60)
    cutoff = clock.now
    fresh = submit(store, owner="b")
    q = accepted(store, "task_q", owner="a")
    accepted(store, "task_s", owner="a")
    store.update_status("a", "task_s", status="succeeded")
    accepted(store, "task_p", owner="b")
    p = store.update_status("b", "task_p", status="processing")
    assert p is not None
    assert store.stale_submitting(cutoff) == [stale]
    assert store.stale_submitting(cutoff + 1) == [stale, fresh]
    assert store.unfinished() == [q, p]
    assert store.unfinished("a") == [q]
    assert store.unfinished("b") == [p]


# -- restarts and closing --------------------------------------------------------------------------------


def test_reopen_keeps_everything(open_store: Callable[[], TaskStore]) -> None:
    """A restart reads back exactly what was written."""
    j = open_store()
    a = submit(j, key="k")
    j.mark_accepted(a.journal_id, task_id="task_1", request_id="r", created_at="c")
    j.update_status("", "task_1", status="succeeded", videos=[VIDEO], completed_at="d")
    j.add_files("", "task_1", ["/f.mp4"])
    j.mark_outcome_unknown(submit(j).journal_id, code="T", message="m")
    submit(j, owner="other")
    before = j.list_tasks("") + j.list_tasks("other")
    j.close()
    j = open_store()
    assert j.list_tasks("") + j.list_tasks("other") == before
    assert j.find_idempotent("", "k") == next(r for r in before if r.journal_id == a.journal_id)
    nxt = submit(j)
    assert nxt.journal_id > max(r.journal_id for r in before)


def test_close_is_idempotent(open_store: Callable[[], TaskStore], factory: StoreFactory) -> None:
    """close() twice is fine; use after close raises."""
    j = open_store()
    j.close()
    j.close()
    with pytest.raises(factory.closed_error):
        j.count()


# -- concurrency -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shared", [True, False], ids=["one-store", "store-per-thread"])
def test_threads_racing_one_key_create_one_row(open_store: Callable[[], TaskStore], shared: bool) -> None:
    """Of 8 concurrent begin_submit calls with one key, exactly one creates the row."""
    stores = [open_store()] * 8 if shared else [open_store() for _ in range(8)]
    barrier = threading.Barrier(8)

    def race(j: TaskStore) -> tuple[TaskRecord, bool]:
        barrier.wait()
        return j.begin_submit(owner="", model=MODEL, body=BODY, request_hash="h1", idempotency_key="k")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(race, stores))
    assert sum(created for _, created in results) == 1
    assert len({record.journal_id for record, _ in results}) == 1


def test_threads_writing_concurrently(store: TaskStore) -> None:
    """Many threads submitting, accepting and polling through one store lose nothing."""

    def work(n: int) -> None:
        for i in range(25):
            record = submit(store, owner=f"o{n % 3}")
            task_id = f"task_{n}_{i}"
            store.mark_accepted(record.journal_id, task_id=task_id, request_id=None, created_at=None)
            store.update_status(record.owner, task_id, status="succeeded")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    assert store.count() == 200
    assert store.unfinished() == []


# -- coordination: one poller per task -------------------------------------------------------------------


def expire(clock: FakeClock, seconds: float) -> None:
    """Let ``seconds`` pass on every lease clock: the store's (the fake one) and the database's (real time)."""
    clock.advance(seconds)
    time.sleep(seconds)


def test_one_poller_holds_the_lease_until_it_expires(store: TaskStore, clock: FakeClock) -> None:
    """One claims; another is refused while the lease is live, takes over once it expired, and the old
    holder's next claim (the fence before each poll) is refused."""
    before = accepted(store, "task_1")
    assert store.poll_lease("", "task_1") is None
    assert store.claim_poll("", "task_1", "r1", ttl=60)
    assert not store.claim_poll("", "task_1", "r2", ttl=60)
    assert store.claim_poll("", "task_1", "r1", ttl=60)  # its own lease: renewed
    lease = store.poll_lease("", "task_1")
    assert lease is not None
    assert lease.poller == "r1"
    assert 50 < lease.expires_in <= 60
    assert store.get("", "task_1") == before  # a lease is not a change of the record
    assert store.claim_poll("", "task_1", "r1", ttl=0.2)  # r1 renews for a moment, then stalls
    expire(clock, 0.3)
    assert store.poll_lease("", "task_1") is None
    assert store.claim_poll("", "task_1", "r2", ttl=60)  # taken over
    assert not store.claim_poll("", "task_1", "r1", ttl=60)  # fenced off
    assert store.renew_leases("r1", ttl=60) == 0
    lease = store.poll_lease("", "task_1")
    assert lease is not None
    assert lease.poller == "r2"


def test_leases_are_per_owner_and_task(store: TaskStore) -> None:
    """A claim needs the owner's task; the same task id of another owner is another lease."""
    accepted(store, "task_1", owner="A")
    assert not store.claim_poll("B", "task_1", "r1", ttl=60)
    assert not store.claim_poll("A", "task_404", "r1", ttl=60)
    assert store.claim_poll("A", "task_1", "r1", ttl=60)
    assert store.poll_lease("B", "task_1") is None
    accepted(store, "task_1", owner="B")
    assert store.claim_poll("B", "task_1", "r2", ttl=60)
    assert store.release_poll("r2", "A", "task_1") == 0
    assert store.claim_poll("A", "task_1", "r1", ttl=60)
    with pytest.raises(ValueError, match="poller"):
        store.claim_poll("A", "task_1", "", ttl=60)
    with pytest.raises(ValueError, match="ttl"):
        store.claim_poll("A", "task_1", "r1", ttl=0)
    with pytest.raises(ValueError, match="ttl"):
        store.renew_leases("r1", ttl=-1)
    with pytest.raises(ValueError, match="owner and task_id"):
        store.release_poll("r1", owner="A")


def test_release_lets_another_claim_at_once(store: TaskStore) -> None:
    """Releasing one task, or every lease of a poller, frees them with no wait; only one's own are released."""
    accepted(store, "task_1")
    accepted(store, "task_2")
    assert store.claim_poll("", "task_1", "r1", ttl=60)
    assert store.claim_poll("", "task_2", "r1", ttl=60)
    assert store.release_poll("r2", "", "task_1") == 0  # not r2's to release
    assert not store.claim_poll("", "task_1", "r2", ttl=60)
    assert store.release_poll("r1", "", "task_1") == 1
    assert store.poll_lease("", "task_1") is None
    assert store.claim_poll("", "task_1", "r2", ttl=60)
    assert store.release_poll("r1") == 1  # every lease r1 still holds: task_2
    assert store.poll_lease("", "task_2") is None
    lease = store.poll_lease("", "task_1")
    assert lease is not None
    assert lease.poller == "r2"


def test_renew_leases_renews_only_its_own(store: TaskStore, clock: FakeClock) -> None:
    """The heartbeat extends every lease of its poller in one call, and no other poller's."""
    for task_id in ("task_1", "task_2", "task_3"):
        accepted(store, task_id)
    assert store.claim_poll("", "task_1", "r1", ttl=60)
    assert store.claim_poll("", "task_2", "r1", ttl=60)
    assert store.claim_poll("", "task_3", "r2", ttl=60)
    assert store.renew_leases("r1", ttl=0.2) == 2
    expire(clock, 0.3)
    assert store.poll_lease("", "task_1") is None
    assert store.poll_lease("", "task_2") is None
    lease = store.poll_lease("", "task_3")
    assert lease is not None
    assert lease.expires_in > 50  # r2's lease was not touched
    assert store.claim_poll("", "task_1", "r2", ttl=60)
    assert store.renew_leases("r1", ttl=60) == 1  # task_2 only: task_1 was taken over
    assert store.renew_leases("nobody", ttl=60) == 0
    assert [store.poll_lease("", t).poller for t in ("task_1", "task_2", "task_3")] == ["r2", "r1", "r2"]  # type: ignore[union-attr]


def test_threads_claiming_at_once_give_one_holder(open_store: Callable[[], TaskStore]) -> None:
    """Of 6 concurrent claims by 6 pollers (a store each), exactly one wins."""
    stores = [open_store() for _ in range(6)]
    accepted(stores[0], "task_1")
    barrier = threading.Barrier(6)

    def race(n: int) -> bool:
        barrier.wait()
        return stores[n].claim_poll("", "task_1", f"r{n}", ttl=60)

    with ThreadPoolExecutor(6) as pool:
        won = list(pool.map(race, range(6)))
    assert sum(won) == 1
    lease = stores[0].poll_lease("", "task_1")
    assert lease is not None
    assert lease.poller == f"r{won.index(True)}"


# -- coordination: processes racing ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def processes() -> Iterator[tuple[ProcessPoolExecutor, Any]]:
    """3 spawned worker processes (kept for the session) and a manager for barriers shared with them."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(3, mp_context=context) as pool:
        yield pool, manager


def _in_processes(
    processes: tuple[ProcessPoolExecutor, Any], work: Callable[..., Any], *args_per_process: tuple[Any, ...]
) -> list[Any]:
    pool, manager = processes
    barrier = manager.Barrier(len(args_per_process), timeout=60)
    futures = [pool.submit(work, *args[:3], barrier, *args[3:]) for args in args_per_process]
    return [future.result(timeout=120) for future in futures]


def test_processes_racing_one_key_create_one_row(
    factory: StoreFactory, store: TaskStore, tmp_path: Path, clock: FakeClock, processes: Any
) -> None:
    """Of 3 processes calling begin_submit with one key at the same instant, exactly one creates the row."""
    results = _in_processes(processes, races.begin, *[(factory.open, tmp_path, clock)] * 3)
    assert sorted(created for _, created in results) == [False, False, True]
    assert len({journal_id for journal_id, _ in results}) == 1
    assert store.count() == 1


def test_processes_merging_at_once_lose_nothing(
    factory: StoreFactory, store: TaskStore, tmp_path: Path, clock: FakeClock, processes: Any
) -> None:
    """3 processes merging options keys and adding files on one task: every key and file is kept."""
    accepted(store, "task_1")
    _in_processes(processes, races.merge, *[(factory.open, tmp_path, clock, who, 30) for who in "abc"])
    record = store.get("", "task_1")
    assert record is not None
    assert sorted(record.options["raced"]) == sorted(f"{who}{i}" for who in "abc" for i in range(30))
    for who in "abc":  # each process's files in its own order
        assert [f for f in record.files if f.startswith(f"/{who}/")] == [f"/{who}/{i}" for i in range(30)]
    assert len(record.files) == 90


def test_processes_polling_at_once_keep_the_first_terminal_status(
    factory: StoreFactory, store: TaskStore, tmp_path: Path, clock: FakeClock, processes: Any
) -> None:
    """Processes storing polls at once, two of them different terminal statuses: the first terminal status
    stored stays, with its own results, and every write after it returns it."""
    accepted(store, "task_1")
    plans = [
        ["processing"] * 10 + ["succeeded"] + ["processing"] * 10,
        ["processing"] * 10 + ["failed"] + ["processing"] * 10,
        ["queued", "processing"] * 10,
    ]
    seen = _in_processes(processes, races.poll, *[(factory.open, tmp_path, clock, plan) for plan in plans])
    record = store.get("", "task_1")
    assert record is not None
    assert record.status in ("succeeded", "failed")
    for statuses in seen:
        settled = [s for s in statuses if s in ("succeeded", "failed")]
        if settled:  # once a write returned a terminal status, every later one returned the same
            first = statuses.index(settled[0])
            assert statuses[first:] == [record.status] * (len(statuses) - first)
    if record.status == "succeeded":
        assert (record.videos, record.error) == ([VIDEO], None)
    else:
        assert (record.videos, record.error) == ([], {"code": "X", "message": "failed"})


# -- coordination: the change watcher --------------------------------------------------------------------

WAKE_BOUND = 2.0  # seconds from a commit to the waiter waking: SQLite ticks every 0.5 s, PostgreSQL ~1 ms


@pytest.mark.anyio
async def test_a_change_in_another_process_wakes_the_waiter(
    factory: StoreFactory, store: TaskStore, tmp_path: Path, clock: FakeClock, processes: Any
) -> None:
    """A poll result, then a lease claim, written by another process wake this process's waiter (within
    WAKE_BOUND); a task that did not change stays asleep."""
    accepted(store, "task_1")
    accepted(store, "task_2")
    watcher = store.watcher()
    pool, _ = processes
    async with anyio.create_task_group() as tg:
        tg.start_soon(watcher.run)
        with anyio.fail_after(30):
            await watcher.ready()
        other = watcher.changed("", "task_2")
        for work, arg in [(races.write, "processing"), (races.claim, "r9")]:
            event = watcher.changed("", "task_1")  # arm, then (a waiter would read here) wait
            await anyio.sleep(0.6)  # more than a tick: nothing changed, nothing wakes
            assert not event.is_set()
            committed = await anyio.to_thread.run_sync(
                lambda work=work, arg=arg: pool.submit(work, factory.open, tmp_path, clock, arg).result(120)
            )
            with anyio.fail_after(30):
                await event.wait()
            assert time.time() - committed < WAKE_BOUND
        assert not other.is_set()
        tg.cancel_scope.cancel()
    record = store.get("", "task_1")
    assert record is not None
    assert record.status == "processing"
