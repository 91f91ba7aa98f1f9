"""What the store contract's race tests run in child processes (spawned: importable, picklable arguments).

Each function opens its own store on the test's data with the factory's ``open``, waits at a barrier shared
with the other processes, does its part, and returns what it saw.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from imini_mcp.store import TaskStore
from tests.store.conftest import BODY, MODEL, VIDEO, FakeClock

Open = Callable[[Path, Callable[[], float]], TaskStore]


def begin(open_store: Open, place: Path, clock: FakeClock, barrier: Any) -> tuple[int, bool]:
    """begin_submit with the key every process uses: (journal_id, created)."""
    store = open_store(place, clock)
    try:
        barrier.wait()
        record, created = store.begin_submit(
            owner="", model=MODEL, body=BODY, request_hash="h1", idempotency_key="raced"
        )
        return record.journal_id, created
    finally:
        store.close()


def merge(open_store: Open, place: Path, clock: FakeClock, barrier: Any, who: str, n: int) -> None:
    """n merges of keys of its own into options["raced"], and n files of its own, on task_1."""
    store = open_store(place, clock)
    try:
        barrier.wait()
        for i in range(n):
            store.merge_options("", "task_1", "raced", {f"{who}{i}": i})
            store.add_files("", "task_1", [f"/{who}/{i}"])
    finally:
        store.close()


def poll(open_store: Open, place: Path, clock: FakeClock, barrier: Any, statuses: list[str]) -> list[str]:
    """Stores each status as a poll of task_1; the status each write returned, in order."""
    store = open_store(place, clock)
    seen = []
    try:
        if barrier is not None:
            barrier.wait()
        for status in statuses:
            record = store.update_status(
                "",
                "task_1",
                status=status,
                videos=[VIDEO] if status == "succeeded" else None,
                error={"code": "X", "message": "failed"} if status == "failed" else None,
            )
            assert record is not None
            seen.append(str(record.status))
        return seen
    finally:
        store.close()


def claim(open_store: Open, place: Path, clock: FakeClock, poller: str) -> float:
    """claim_poll on task_1; the wall time just after it committed."""
    store = open_store(place, clock)
    try:
        assert store.claim_poll("", "task_1", poller, 60)
        return time.time()
    finally:
        store.close()


def write(open_store: Open, place: Path, clock: FakeClock, status: str) -> float:
    """One poll result for task_1; the wall time just after it committed."""
    store = open_store(place, clock)
    try:
        assert store.update_status("", "task_1", status=status) is not None
        return time.time()
    finally:
        store.close()
