"""6. The SQLite journal: write and read cost per task, and list_tasks with 100 000 tasks in it.

Baselines are bare `sqlite3` statements on a file with the same schema (the journal's own MIGRATIONS)
and the same durability (WAL, synchronous=FULL, one transaction per write), so a ratio is the cost
of the journal's Python layer (locks, BEGIN IMMEDIATE, re-reading the row, TaskRecord, JSON), not of
SQLite or the disk. The 100 000 rows are bulk-inserted (realistic bodies and a realistic mix of
outcomes, all for one owner: the single-user worst case), then read through a freshly opened SqliteTaskStore.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import anyio
from harness import Row, bench_main, median, ms, progress, ratio_row, temp_dir, us
from payloads import DOC_EXAMPLE

from imini_mcp.app import Account, VideoService
from imini_mcp.imini.client import IminiClient
from imini_mcp.imini.polling import TaskFollower
from imini_mcp.store import SqliteTaskStore
from imini_mcp.store.sqlite_schema import MIGRATIONS

BENCH = "6 journal"
OWNER = ""  # single-user mode
NOW = 1_760_000_000.0
VIDEOS = [
    {
        "url": "https://cdn.example.com/v/task.mp4",
        "width": 720,
        "height": 1280,
        "duration": 8,
        "cover_url": "https://cdn.example.com/v/task.jpg",
    }
]
# The rows a restart re-reads: tasks last seen queued/processing (3 % of the fill: never followed up).
UNFINISHED_SQL = (
    "SELECT * FROM tasks INDEXED BY tasks_unfinished WHERE state = 'accepted'"
    " AND (status IS NULL OR status NOT IN ('succeeded', 'failed')) AND owner = ?"
    " ORDER BY submitted_at, journal_id"
)
LIST_SQL = "SELECT * FROM tasks WHERE owner = ? ORDER BY submitted_at DESC, journal_id DESC LIMIT ?"


def _timed(fn: Callable[[], Any], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def _bare_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def _bare_schema(conn: sqlite3.Connection) -> None:
    for statements in MIGRATIONS:
        for statement in statements:
            conn.execute(statement)


# ---------------------------------------------------------------------------------------------------
# Writes and point reads


def _journal_writes(
    journal: SqliteTaskStore, n: int, body: dict[str, Any], prefix: str = "task"
) -> list[float]:
    samples = []
    for i in range(n):
        started = time.perf_counter()
        record, _ = journal.begin_submit(
            owner=OWNER, model="kling/kling-v3", body=body, request_hash=f"h{i}", idempotency_key=None
        )
        journal.mark_accepted(
            record.journal_id,
            task_id=f"{prefix}_{i}",
            request_id=f"req_{i}",
            created_at="2026-11-24T10:00:00Z",
        )
        journal.update_status(
            OWNER,
            f"{prefix}_{i}",
            status="succeeded",
            completed_at="2026-11-24T10:02:00Z",
            videos=VIDEOS,
            request_id="r",
        )
        samples.append(time.perf_counter() - started)
    return samples


def _bare_writes(conn: sqlite3.Connection, n: int, body: dict[str, Any], prefix: str = "task") -> list[float]:
    body_json, videos_json = json.dumps(body), json.dumps(VIDEOS)
    samples = []
    for i in range(n):
        started = time.perf_counter()
        cursor = conn.execute(
            "INSERT INTO tasks (owner, state, model, body, request_hash, submitted_at, updated_at)"
            " VALUES (?, 'submitting', 'kling/kling-v3', ?, ?, ?, ?)",
            (OWNER, body_json, f"h{i}", NOW, NOW),
        )
        conn.execute(
            "UPDATE tasks SET state = 'accepted', task_id = ?, status = 'queued', updated_at = ? WHERE journal_id = ?",
            (f"{prefix}_{i}", NOW, cursor.lastrowid),
        )
        conn.execute(
            "UPDATE tasks SET status = 'succeeded', videos = ?, updated_at = ? WHERE journal_id = ?",
            (videos_json, NOW, cursor.lastrowid),
        )
        samples.append(time.perf_counter() - started)
    return samples


# ---------------------------------------------------------------------------------------------------
# 100 000 tasks


def _fill(path: Path, n: int, rng: random.Random) -> None:
    """Bulk-insert n finished-looking tasks in one transaction (the journal API would fsync 3n times)."""
    SqliteTaskStore(path).close()  # creates the file with the real schema
    body = json.dumps(DOC_EXAMPLE, separators=(",", ":"))
    videos = json.dumps(VIDEOS, separators=(",", ":"))
    rows = []
    for i in range(n):
        roll = rng.random()
        state, status, error, task_id = "accepted", "succeeded", None, f"task_{i:06d}"
        if roll < 0.05:
            status, error = "failed", json.dumps({"code": "CONTENT_FILTERED", "message": "refused"})
        elif roll < 0.08:
            status = "processing"
        elif roll < 0.09:
            state, status, task_id = "outcome_unknown", None, None
            error = json.dumps({"code": "TIMEOUT", "message": "no answer"})
        elif roll < 0.10:
            state, status, task_id = "rejected", None, None
            error = json.dumps({"code": "INVALID_PARAMETER", "message": "bad", "status": 400})
        at = NOW - (n - i) * 60.0
        rows.append(
            (
                OWNER,
                state,
                task_id,
                body,
                f"hash{i}",
                status,
                videos if status == "succeeded" else "[]",
                error,
                at,
                at,
            )
        )
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO tasks (owner, state, task_id, model, body, request_hash, status, videos, error,"
            " submitted_at, updated_at) VALUES (?, ?, ?, 'kling/kling-v3', ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


def _service_lists(journal: SqliteTaskStore, runs: int, limit: int, status: str | None) -> list[float]:
    """VideoService.list_tasks: what the list_tasks tool does (page + count + summaries), minus MCP."""
    service = VideoService(store=journal, follower=cast(TaskFollower, None))
    account = Account(owner=OWNER, client=cast(IminiClient, None))
    samples: list[float] = []

    async def main() -> None:
        for _ in range(runs):
            started = time.perf_counter()
            listing = await service.list_tasks(account, status=status, since=None, limit=limit)
            samples.append(time.perf_counter() - started)
            assert listing.tasks

    anyio.run(main)
    return samples


def run(quick: bool) -> list[Row]:
    writes = 40 if quick else 300
    reads = 300 if quick else 3000
    total = 20_000 if quick else 100_000
    list_runs = 30 if quick else 200
    rng = random.Random(3)
    rows: list[Row] = []
    with temp_dir("bench-journal-") as root:
        body = DOC_EXAMPLE
        journal = SqliteTaskStore(root / "writes.sqlite3")
        bare = _bare_connection(root / "bare.sqlite3")
        try:
            _bare_schema(bare)
            _journal_writes(journal, 5, body, "warm")  # warm-up: first pages, statement cache
            _bare_writes(bare, 5, body, "warm")
            j_w = _journal_writes(journal, writes, body)
            b_w = _bare_writes(bare, writes, body)
            rows.append(
                ratio_row(
                    BENCH,
                    f"write per task: begin_submit + mark_accepted + update_status ({writes} tasks)",
                    median(j_w),
                    median(b_w),
                    ms,
                    note="baseline: INSERT + 2 UPDATEs, 3 fsynced commits as well",
                )
            )
            ids = [f"task_{rng.randrange(writes)}" for _ in range(reads)]
            it = iter(ids * 2)
            j_r = _timed(lambda: journal.get(OWNER, next(it)), reads)
            it = iter(ids * 2)
            b_r = _timed(
                lambda: bare.execute(
                    "SELECT * FROM tasks WHERE owner = ? AND task_id = ?", (OWNER, next(it))
                ).fetchone(),
                reads,
            )
            rows.append(
                ratio_row(BENCH, "read one task by id (SqliteTaskStore.get)", median(j_r), median(b_r), us)
            )
        finally:
            journal.close()
            bare.close()

        progress(f"filling a journal with {total:,} tasks")
        big = root / "big.sqlite3"
        _fill(big, total, rng)
        started = time.perf_counter()
        journal = SqliteTaskStore(big)
        opened = time.perf_counter() - started
        bare = _bare_connection(big)
        try:
            journal.stale_submitting(NOW)  # what the lifespan runs first; tiny partial index
            unfinished_runs = 3 if quick else 7
            found = len(journal.unfinished(OWNER))
            j = _timed(lambda: journal.unfinished(OWNER), unfinished_runs)
            b = _timed(lambda: bare.execute(UNFINISHED_SQL, (OWNER,)).fetchall(), unfinished_runs)
            rows.append(
                ratio_row(
                    BENCH,
                    f"{total:,} tasks: SqliteTaskStore.unfinished() at start, {found:,} rows",
                    median(j),
                    median(b),
                    ms,
                    note=f"runs in the lifespan before the first answer; open took {ms(opened)}",
                )
            )
            for limit, status in ((20, None), (200, None), (20, "failed"), (20, "outcome_unknown")):
                label = f"status={status}, " if status else ""
                j = _timed(
                    lambda lim=limit, st=status: journal.list_tasks(OWNER, status=st, limit=lim), list_runs
                )
                if status is None:
                    sql, params = LIST_SQL, (OWNER, limit)
                else:
                    column = "state" if status == "outcome_unknown" else "status"
                    sql = (
                        f"SELECT * FROM tasks WHERE owner = ? AND {column} = ?"
                        " ORDER BY submitted_at DESC, journal_id DESC LIMIT ?"
                    )
                    params = (OWNER, status, limit)
                b = _timed(lambda s=sql, p=params: bare.execute(s, p).fetchall(), list_runs)
                rows.append(
                    ratio_row(
                        BENCH,
                        f"{total:,} tasks: SqliteTaskStore.list_tasks({label}limit={limit})",
                        median(j),
                        median(b),
                        ms,
                    )
                )
            count = _timed(lambda: journal.count(OWNER), list_runs)
            rows.append(
                Row(
                    BENCH,
                    f"{total:,} tasks: SqliteTaskStore.count(owner)",
                    ms(median(count)),
                    note="a full index scan",
                )
            )
            for limit in (20, 200):
                s = _service_lists(journal, list_runs, limit, None)
                b = _timed(
                    lambda lim=limit: (
                        bare.execute(LIST_SQL, (OWNER, lim)).fetchall(),
                        bare.execute("SELECT count(*) FROM tasks WHERE owner = ?", (OWNER,)).fetchone(),
                    ),
                    list_runs,
                )
                rows.append(
                    ratio_row(
                        BENCH,
                        f"{total:,} tasks: list_tasks tool's work (VideoService, limit={limit})",
                        median(s),
                        median(b),
                        ms,
                        note="page + count + summaries; baseline: the same 2 SELECTs",
                    )
                )
        finally:
            journal.close()
            bare.close()
    return rows


if __name__ == "__main__":
    bench_main(run)
