"""Shared by the store tests: sample request data, a controllable clock, and short submit helpers."""

from __future__ import annotations

from typing import Any

import pytest

from imini_mcp.store import TaskRecord, TaskStore

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


def submit(
    j: TaskStore,
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


def accepted(j: TaskStore, task_id: str, *, owner: str = "", request_hash: str = "h1") -> TaskRecord:
    record = submit(j, owner=owner, request_hash=request_hash)
    return j.mark_accepted(record.journal_id, task_id=task_id, request_id=f"req-{task_id}", created_at="t0")
