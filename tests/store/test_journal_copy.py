"""`imini-mcp copy-journal`: an SQLite journal into PostgreSQL, every row with its id, once."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from imini_mcp.cli import main
from imini_mcp.store import CopyConflict, SqliteTaskStore, TaskRecord, TaskStore, copy_journal
from imini_mcp.store.postgres import PostgresTaskStore
from imini_mcp.store.sqlite_schema import MIGRATIONS
from tests.store.conftest import MODEL, VIDEO, FakeClock, accepted, submit

ENCODED_PASSWORD = "copy-s3cret%2Fpw"


def _everything(store: TaskStore) -> list[TaskRecord]:
    return sorted(
        (r for owner in ("", "user:b") for r in store.list_tasks(owner, limit=1000)),
        key=lambda r: r.journal_id,
    )


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    """A journal with one task in each state, two owners, keys, options in a telling order, files."""
    path = tmp_path / "journal.sqlite3"
    clock = FakeClock()
    with SqliteTaskStore(path, clock=clock) as store:
        submit(store, key="k-submitting")
        clock.advance()
        unknown = submit(store)
        store.mark_outcome_unknown(unknown.journal_id, code="SUBMIT_TIMEOUT", message="slow")
        rejected = submit(store, owner="user:b")
        store.mark_rejected(rejected.journal_id, code="X", message="no", status=400, request_id="rq")
        record, _ = store.begin_submit(
            owner="",
            model=MODEL,
            body={"z": 1, "model": MODEL, "a": "ü 🦊"},
            request_hash="h9",
            idempotency_key="k-done",
            options={"output": {"name": "n.mp4", "mode": "file"}, "b": 1},
        )
        store.mark_accepted(record.journal_id, task_id="task_done", request_id="r", created_at="c")
        store.update_status("", "task_done", status="succeeded", videos=[VIDEO], completed_at="d")
        store.add_files("", "task_done", ["/out/b.mp4", "/out/a.mp4"])
        accepted(store, "task_running", owner="user:b")
        store.claim_poll("user:b", "task_running", "old-poller", ttl=3600)  # a lease is not copied
    return path


def test_every_row_is_copied_with_its_id(journal: Path, pg_url: str) -> None:
    """Rows read back from PostgreSQL equal the journal's, ids, JSON key order and times included; leases
    stay behind; new tasks get ids after the copied ones."""
    with SqliteTaskStore(journal) as source:
        expected = _everything(source)
    report = copy_journal(journal, pg_url)
    assert (report.rows, report.copied, report.already_there) == (5, 5, 0)
    assert report.next_journal_id == 6
    with PostgresTaskStore(pg_url) as target:
        copied = _everything(target)
        assert copied == expected
        done = next(r for r in copied if r.task_id == "task_done")
        assert list(done.body) == ["z", "model", "a"]
        assert list(done.options["output"]) == ["name", "mode"]
        assert target.poll_lease("user:b", "task_running") is None
        assert target.unfinished() == [r for r in expected if r.task_id == "task_running"]
        assert submit(target).journal_id == 6


def test_copying_again_copies_nothing_and_leaves_the_journal_untouched(journal: Path, pg_url: str) -> None:
    """A second run finds every row there; the journal file is read, never written."""
    before = hashlib.sha256(journal.read_bytes()).hexdigest()
    copy_journal(journal, pg_url)
    again = copy_journal(journal, pg_url)
    assert (again.copied, again.already_there, again.next_journal_id) == (0, 5, 6)
    assert hashlib.sha256(journal.read_bytes()).hexdigest() == before
    with PostgresTaskStore(pg_url) as target:
        assert target.count() == 5


def test_ids_taken_by_other_tasks_stop_the_copy(journal: Path, pg_url: str) -> None:
    """A database already used by replicas holds other tasks under those ids: nothing is copied."""
    with PostgresTaskStore(pg_url) as target:
        submit(target, owner="someone else")
    with pytest.raises(CopyConflict, match=r"journal ids #1 \(or under"):
        copy_journal(journal, pg_url)
    with PostgresTaskStore(pg_url) as target:
        assert target.count() == 1


def test_a_journal_from_before_options_is_copied(tmp_path: Path, pg_url: str) -> None:
    """A schema-1 journal (no options column) copies with empty options."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO tasks (owner, state, model, body, request_hash, submitted_at, updated_at)"
            " VALUES ('', 'submitting', 'm', '{\"b\":1,\"a\":2}', 'h', 5, 5)"
        )
    conn.close()
    assert copy_journal(path, pg_url).copied == 1
    with PostgresTaskStore(pg_url) as target:
        record = target.get_by_journal_id(1)
    assert record is not None
    assert (record.options, list(record.body)) == ({}, ["b", "a"])


def test_what_is_not_a_journal_is_refused(tmp_path: Path, pg_url: str) -> None:
    with pytest.raises(FileNotFoundError):
        copy_journal(tmp_path / "missing.sqlite3", pg_url)
    (tmp_path / "text.sqlite3").write_text("not a database", encoding="utf-8")
    with pytest.raises(ValueError, match="not an imini-mcp task journal"):
        copy_journal(tmp_path / "text.sqlite3", pg_url)


def test_the_command(journal: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`imini-mcp copy-journal --from … --to …` says what it did, never showing the password."""
    url = pg_url.replace("postgresql://postgres@", f"postgresql://postgres:{ENCODED_PASSWORD}@")
    main(["copy-journal", "--from", str(journal), "--to", url])
    main(["copy-journal", "--from", str(journal), "--to", url])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"copied 5 of 5 tasks from {journal} to postgresql://postgres:***@127.0.0.1:")
    assert out[1].startswith("copied 0 of 5 tasks")
    assert "(5 were already there); new tasks start at journal id 6" in out[1]
    assert "s3cret" not in "\n".join(out)


def test_the_command_needs_a_target(
    journal: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("IMINI_DATABASE_URL", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["copy-journal", "--from", str(journal)])
    assert exit_info.value.code == 2
    assert "--to postgresql://" in capsys.readouterr().err
