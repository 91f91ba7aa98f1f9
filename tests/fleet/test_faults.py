"""Faults that need no poll lease: two replicas racing one idempotency key, the database gone at submit
time, the database restarted while clients wait."""

from __future__ import annotations

import time

import anyio
import httpx2
import pytest
from mcp import MCPError

from tests.fleet.harness import Fleet, mcp_client, structured

pytestmark = pytest.mark.anyio


async def test_two_replicas_racing_one_idempotency_key_submit_once(fleet: Fleet) -> None:
    """The same generate_video (same key) sent to all three replicas at the same instant, five times: one
    submit each time; every answer is that task, or says plainly that nothing was submitted again."""
    submits = fleet.submits()
    trials = 5
    for trial in range(trials):
        call = {
            "prompt": f"three replicas, one key ({trial})",
            "idempotency_key": f"race-{trial}",
            "wait_seconds": 0,
        }
        answers: list[object] = [None] * 3
        start = anyio.Event()

        async def send(i: int, call: dict[str, object], start: anyio.Event, answers: list[object]) -> None:
            async with mcp_client(fleet.replicas[i].url) as client:
                await start.wait()
                answers[i] = await client.call_tool("generate_video", call)

        async with anyio.create_task_group() as tg:
            for i in range(3):
                tg.start_soon(send, i, call, start, answers)
            await anyio.sleep(1.0)  # every client connected (discover done) before the race starts
            start.set()
        task_ids = set()
        for answer in answers:
            if answer.is_error:  # type: ignore[attr-defined]
                text = answer.content[0].text  # type: ignore[attr-defined]
                assert "nothing was submitted again" in text, text
            else:
                task_ids.add(structured(answer)["task"]["task_id"])
        assert len(task_ids) == 1, answers
    assert fleet.submits() == submits + trials
    keys = fleet.query(
        "SELECT idempotency_key, count(*) FROM tasks WHERE idempotency_key LIKE 'race-%%' GROUP BY 1"
    )
    assert sorted(keys) == [(f"race-{t}", 1) for t in range(trials)]


async def test_with_the_database_unreachable_a_submit_is_not_sent_and_the_caller_is_told(
    fleet: Fleet,
) -> None:
    """No intent can be recorded, so the paid submit must not go out; the caller reads why."""
    submits = fleet.submits()
    async with mcp_client(fleet.url) as client:
        fleet.pg.stop("immediate")
        started = time.monotonic()
        try:
            result = await client.call_tool(
                "generate_video",
                {"prompt": "a submit with no database", "idempotency_key": "no-db", "wait_seconds": 0},
            )
            elapsed = time.monotonic() - started
            async with httpx2.AsyncClient(timeout=30) as http:  # what a balancer's health check sees
                health = await http.get(fleet.url.replace("/mcp", "/healthz"))
        finally:
            fleet.pg.start()
    assert health.status_code == 503, health.text
    assert fleet.password not in health.text
    assert result.is_error
    text = result.content[0].text
    print(f"answer after {elapsed:.1f} s: {text}")
    # plain words: what is wrong, that nothing was sent, and what to do
    assert "task store is unreachable" in text or "task store cannot be reached" in text, text
    assert "nothing was sent" in text.lower(), text
    assert "again" in text, text
    assert elapsed < 30
    assert fleet.submits() == submits, "a submit went out without a recorded intent"
    assert fleet.password not in text
    # the database is back: the same call now submits, once
    async with mcp_client(fleet.url) as client:
        again = structured(
            await client.call_tool(
                "generate_video",
                {"prompt": "a submit with no database", "idempotency_key": "no-db", "wait_seconds": 0},
            )
        )
    assert again["replayed"] is False
    assert fleet.submits() == submits + 1


async def test_a_database_restart_while_clients_wait_loses_nothing_and_the_waits_resume(fleet: Fleet) -> None:
    """Six clients wait through nginx on three tasks; PostgreSQL stops (as in a crash) for 3 s, then comes
    back. Every wait ends with the video, or (if the store was needed during the outage) its follow-up
    call does; every task is in the database; nothing was submitted twice."""
    submits = fleet.submits()
    async with mcp_client(fleet.url) as client:
        task_ids = []
        for i in range(3):
            answer = structured(
                await client.call_tool(
                    "generate_video",
                    {
                        "prompt": f"through a restart ({i})",
                        "idempotency_key": f"restart-{i}",
                        "wait_seconds": 0,
                    },
                )
            )
            task_ids.append(answer["task"]["task_id"])
    outcomes: dict[int, str] = {}

    async def wait(n: int) -> None:
        task_id = task_ids[n % 3]
        async with mcp_client(fleet.url) as client:
            try:
                result = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 60})
            except MCPError as exc:
                outcomes[n] = f"error {exc}"
                return
            if result.is_error:
                outcomes[n] = "tool error " + result.content[0].text
                result = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 60})
            outcomes[n] = outcomes.get(n, "") + " → " + structured(result)["status"]

    async with anyio.create_task_group() as tg:
        for n in range(6):
            tg.start_soon(wait, n)
        await anyio.sleep(1.5)  # the waits are on; the first poll comes at ~2 s
        fleet.pg.stop("immediate")
        await anyio.sleep(3.0)
        fleet.pg.start()
    print(outcomes)
    assert all(outcome.endswith("→ succeeded") for outcome in outcomes.values()), outcomes
    assert fleet.submits() == submits + 3
    rows = fleet.query("SELECT task_id, status FROM tasks WHERE idempotency_key LIKE 'restart-%%' ORDER BY 1")
    assert sorted(rows) == sorted((task_id, "succeeded") for task_id in task_ids)
