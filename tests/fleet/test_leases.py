"""One poll loop per task for the whole fleet (a lease in PostgreSQL): many waiters on many replicas cost
imini the GETs of one; the lease holder's death hands the task over; a killed listener reconnects."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import anyio
import pytest
from mcp import MCPError

from tests.fleet.harness import LEASE_SECONDS, Fleet, kill, mcp_client, structured

pytestmark = pytest.mark.anyio


async def submit(fleet: Fleet, *keys: str) -> list[str]:
    """generate_video through nginx for each key, without waiting; their task ids."""
    async with mcp_client(fleet.url) as client:
        ids = []
        for key in keys:
            answer = await client.call_tool(
                "generate_video",
                {"prompt": f"a lighthouse ({key})", "idempotency_key": key, "wait_seconds": 0},
            )
            ids.append(structured(answer)["task"]["task_id"])
    return ids


async def wait_for(fleet: Fleet, task_id: str, seconds: float = 60) -> dict[str, Any]:
    async with mcp_client(fleet.url) as client:
        return structured(await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": seconds}))


async def test_many_waiters_spread_over_the_replicas_cost_imini_the_gets_of_one_waiter(fleet: Fleet) -> None:
    """30 get_task waits through nginx (so on all three replicas) on one task, one wait on a twin task
    submitted at the same moment: the 30 cost the upstream as many GETs as the one (±1)."""
    crowded, alone = await submit(fleet, "crowd-1", "alone-1")
    mark = fleet.access_log_lines()
    results: list[dict[str, Any]] = []

    async def one(task_id: str) -> None:
        results.append(await wait_for(fleet, task_id))

    async with anyio.create_task_group() as tg:
        tg.start_soon(one, alone)
        for _ in range(30):
            tg.start_soon(one, crowded)
    assert [r["status"] for r in results] == ["succeeded"] * 31
    served = Counter(fleet.upstreams_seen(mark))
    assert len(served) == 3, f"the waits should be spread over every replica: {served}"
    one_waiter, thirty = fleet.polls(alone), fleet.polls(crowded)
    assert abs(thirty - one_waiter) <= 1, (
        f"30 waiters on 3 replicas: {thirty} GETs; 1 waiter: {one_waiter} GETs"
    )


async def progress(progress: float, total: float | None, message: str | None) -> None:
    """Asked for, as hosts do: the server then streams progress while a call waits."""


async def test_sigkill_of_the_lease_holder_hands_the_task_over_and_loses_nothing(fleet: Fleet) -> None:
    """Six clients wait through nginx; the replica polling their task is SIGKILLed. Those it served see
    their stream end and call again through nginx; another replica takes the poll over once the lease
    expires; every client gets the video; one submit, one task."""
    submits = fleet.submits()
    (task_id,) = await submit(fleet, "takeover-1")
    ended: list[str] = []
    finished: list[dict[str, Any]] = []

    async def client_waits(n: int) -> None:
        async with mcp_client(fleet.url) as client:
            try:
                result = await client.call_tool(
                    "get_task", {"task_id": task_id, "wait_seconds": 60}, progress_callback=progress
                )
            except MCPError as exc:  # its replica died under it: call again, as the notes tell hosts to
                ended.append(str(exc))
                result = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 60})
            finished.append(structured(result))

    killed_at = 0.0
    async with anyio.create_task_group() as tg:
        for n in range(6):
            tg.start_soon(client_waits, n)
        deadline = time.monotonic() + 10
        while (held := fleet.lease_holder(task_id)) is None and time.monotonic() < deadline:
            await anyio.sleep(0.05)
        assert held is not None, "nobody claimed the task's poll lease"
        poller, holder = held
        assert holder is not None, f"the lease names no live replica: {poller}"
        await anyio.sleep(0.3)
        kill(holder)
        killed_at = time.monotonic()
        # the lease moves to another replica (or the task ends first and the lease is released)
        taken_over = None
        while time.monotonic() < killed_at + LEASE_SECONDS + 10:
            now_held = fleet.lease_holder(task_id)
            if now_held is not None and now_held[0] != poller:
                taken_over = now_held
                break
            if fleet.query("SELECT status FROM tasks WHERE task_id = %s", task_id) == [("succeeded",)]:
                break
            await anyio.sleep(0.1)
    assert [f["status"] for f in finished] == ["succeeded"] * 6, finished
    assert ended, "no client was on the killed replica (round robin should have put two there)"
    # a stream that had started ends without a response; one that had not yet is nginx's 502
    assert all("SSE stream ended" in e or "error response" in e for e in ended), ended
    polls_after = [
        e["time"]
        for e in fleet.ledger()["entries"]
        if e["kind"] == "poll" and e["task_id"] == task_id and e["time"] > killed_at
    ]
    assert polls_after, "nobody polled the task after its poller died"
    takeover = polls_after[0] - killed_at
    print(f"takeover: first poll {takeover:.1f} s after the SIGKILL; lease {taken_over}")
    assert takeover <= LEASE_SECONDS + 5
    if taken_over is not None:
        assert taken_over[1] is not None
        assert taken_over[1] is not holder
    # nothing lost, nothing repeated: one submit; a retry of the submit replays the task
    assert fleet.submits() == submits + 1
    async with mcp_client(fleet.url) as client:
        again = structured(
            await client.call_tool(
                "generate_video",
                {"prompt": "a lighthouse (takeover-1)", "idempotency_key": "takeover-1", "wait_seconds": 0},
            )
        )
        listed = structured(await client.call_tool("list_tasks", {}))
    assert again["replayed"] is True
    assert again["task"]["task_id"] == task_id
    assert again["task"]["status"] == "succeeded"
    assert task_id in str(listed)
    assert fleet.submits() == submits + 1


async def test_a_listener_connection_killed_under_load_reconnects_and_the_waits_finish(fleet: Fleet) -> None:
    """45 waits through nginx on 15 tasks; every replica's LISTEN connection is terminated by the database
    mid-wait. Each replica reconnects its listener, every wait ends with the video, and the tasks still
    cost one poll loop each."""
    task_ids = await submit(fleet, *(f"listen-{i}" for i in range(15)))
    results: list[dict[str, Any]] = []
    elapsed: list[float] = []

    async def one(task_id: str) -> None:
        started = time.monotonic()
        results.append(await wait_for(fleet, task_id))
        elapsed.append(time.monotonic() - started)

    watchers = "SELECT pid FROM pg_stat_activity WHERE application_name = 'imini-mcp watcher' AND datname = current_database()"
    async with anyio.create_task_group() as tg:
        for n in range(45):
            tg.start_soon(one, task_ids[n % 15])
        await anyio.sleep(1.0)
        before = fleet.query(watchers)
        assert len(before) == 3, f"one listener per replica expected: {before}"
        killed = fleet.query(f"SELECT pg_terminate_backend(pid) FROM ({watchers}) w")
        assert killed == [(True,)] * 3
    assert [r["status"] for r in results] == ["succeeded"] * 45
    assert max(elapsed) < 25, f"a wait hung after its listener died: {max(elapsed):.1f} s"
    deadline = time.monotonic() + 10
    while len(after := fleet.query(watchers)) < 3 and time.monotonic() < deadline:
        await anyio.sleep(0.1)
    assert len(after) == 3
    assert not {pid for (pid,) in after} & {pid for (pid,) in before}, "the listeners are new connections"
    polls = [fleet.polls(task_id) for task_id in task_ids]
    assert max(polls) <= min(polls) + 1, f"GETs per task: {polls}"
