"""Soak under faults: many concurrent videos through one server while imini misbehaves; the books still balance.

One in-process server, one simulated imini on loopback (fast clock). ``SOAK_TASKS`` distinct videos are submitted
concurrently while imini rate-limits some submits, fails some after creating the task (the answer is a 502), fails
others outright (503, dropped connection), fails some generations, and answers polls with 5xx, 429, HTML, broken
JSON, dropped connections and an undocumented status. Then every accepted task is followed in bounded rounds of
``get_task`` with a wait, under a time cap.

Afterwards the journal, imini's ledger and the answers must agree exactly:

* one journal entry per call, and no call ever created two tasks;
* every task id imini issued is journalled as ``accepted``, and nothing else is;
* every task imini created whose id never arrived (the 502-after-create case) is matched by an
  ``outcome_unknown`` entry, and every submit that may have reached imini was sent once and journalled so;
* every finished task's journalled status (and error) is exactly the simulator's, and so is the last answer;
* no answer was ever an opaque error, and the faults really happened.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp import Client

from imini_mcp.simulator import Fault
from tests.conftest import Backend

pytestmark = pytest.mark.anyio

SOAK_TASKS = min(int(os.environ.get("IMINI_SOAK_TASKS", "200")), 200)  # list_tasks shows at most 200
ROUNDS = 5  # get_task rounds at most
TIME_CAP = 90.0  # seconds for the whole soak
CONCURRENCY = 60  # calls in flight at once
OPAQUE = re.compile(r"^Error executing tool [\w-]+\s*[:.]?\s*$")

SUBMIT_FAULTS = [
    Fault("submit", "status", status=429, retry_after=0.01, times=12),
    Fault("submit", "status", status=429, times=6),
    Fault("submit", "accept_then_status", status=502, times=3),
    Fault("submit", "status", status=503, times=2),
    Fault("submit", "reset", times=2),
    Fault("submit", "fail_task", code="CONTENT_BLOCKED", message="output flagged", times=5),
]
POLL_FAULTS = [
    Fault("poll", "status", status=500, times=25),
    Fault("poll", "status", status=502, times=10),
    Fault("poll", "status", status=429, retry_after=0.01, times=15),
    Fault("poll", "reset", times=10),
    Fault("poll", "html", times=5),
    Fault("poll", "malformed_json", times=5),
    Fault("poll", "unknown_status", times=5),
]


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


async def test_a_fault_ridden_soak_loses_nothing_and_bills_nothing_twice(
    make_server: Callable[..., Any], backend: Backend
) -> None:
    sim = backend.sim
    for fault in SUBMIT_FAULTS + POLL_FAULTS:
        sim.add_fault(fault)
    answers: list[Any] = []
    limiter = anyio.CapacityLimiter(CONCURRENCY)
    async with Client(make_server()) as client:  # type: ignore[arg-type]
        with anyio.fail_after(TIME_CAP):
            submitted: dict[int, Any] = {}

            async def submit(n: int) -> None:
                async with limiter:
                    submitted[n] = await client.call_tool(
                        "generate_video", {"prompt": f"soak video number {n}", "wait_seconds": 0}
                    )

            async with anyio.create_task_group() as tg:
                for n in range(SOAK_TASKS):
                    tg.start_soon(submit, n)
            answers += submitted.values()
            accepted = {r.structured_content["task"]["task_id"] for r in submitted.values() if not r.is_error}

            final: dict[str, Any] = {}
            for _ in range(ROUNDS):
                pending = sorted(accepted - {t for t, v in final.items() if v["is_terminal"]})
                if not pending:
                    break

                async def follow(task_id: str) -> None:
                    async with limiter:
                        result = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 300})
                    answers.append(result)
                    if not result.is_error:
                        final[task_id] = result.structured_content

                async with anyio.create_task_group() as tg:
                    for task_id in pending:
                        tg.start_soon(follow, task_id)
            listed = await client.call_tool("list_tasks", {"limit": 200})
    journal = listed.structured_content["tasks"]
    entries = sim.ledger.entries
    submits = [e for e in entries if e.kind == "submit"]
    # A "reset" answer starts with 200 headers before the connection drops: issued means a clean 200 with an id.
    issued = {e.task_id for e in submits if e.status == 200 and e.fault is None and e.task_id}
    created = set(sim.ledger.tasks_created)
    tasks = sim.tasks()

    # Nothing opaque, ever.
    for answer in answers:
        assert not OPAQUE.match(_text(answer).strip()), _text(answer)
        if answer.is_error:
            assert "Next step:" in _text(answer), _text(answer)

    # One journal entry per call; no call created two tasks; no video submitted twice.
    assert listed.structured_content["total_in_journal"] == SOAK_TASKS
    assert len(journal) == min(SOAK_TASKS, 200)
    assert len(created) == len(sim.ledger.tasks_created), "a task id was created twice"
    prompts = Counter(t.request["prompt"] for t in tasks.values())
    assert max(prompts.values()) == 1, f"a video was created twice: {prompts.most_common(3)}"
    states = Counter(e["state"] for e in journal)

    # Every issued id is journalled as accepted, and only those.
    accepted_ids = {e["task_id"] for e in journal if e["state"] == "accepted"}
    assert accepted_ids == issued == accepted
    # Every created-but-unannounced task is matched by an outcome_unknown entry; every submit that may have
    # reached imini (anything but 200 or 429) was its call's last and is journalled as outcome_unknown.
    maybe_delivered = [e for e in submits if e.task_id not in issued and e.status != 429]
    assert states["outcome_unknown"] == len(maybe_delivered)
    assert len(created - issued) == sum(1 for e in submits if e.fault == "accept_then_status") == 3
    assert states["outcome_unknown"] >= len(created - issued)
    assert states["rejected"] == SOAK_TASKS - len(issued) - len(maybe_delivered)  # 429 three times in a row
    assert set(states) <= {"accepted", "outcome_unknown", "rejected"}

    # Every finished task's status is exactly imini's, in the journal and in the last answer.
    assert set(final) == accepted, "some tasks never got a final answer within the rounds"
    failed = 0
    for entry in journal:
        if entry["state"] != "accepted":
            continue
        truth = tasks[entry["task_id"]]
        assert entry["status"] == truth.status == final[entry["task_id"]]["status"]
        assert truth.status in ("succeeded", "failed")
        if truth.status == "failed":
            failed += 1
            assert entry["error"]["code"] == truth.error["code"] == "CONTENT_BLOCKED"
        else:
            assert entry["videos"][0]["url"].endswith(f"{entry['task_id']}.mp4")
    assert failed == sum(1 for t in tasks.values() if t.task_id in issued and t.outcome == "failed")

    # The faults really happened (a soak that met none would prove nothing).
    applied = Counter((e.kind, e.fault) for e in entries if e.fault)
    assert applied[("submit", "accept_then_status")] == 3
    assert applied[("submit", "status")] >= 12
    assert sum(n for (kind, _), n in applied.items() if kind == "poll") >= 50
