"""Scripted faults: what each kind does to the response or the task, how they are consumed, what is refused."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import pytest

from imini_mcp.simulator import Fault, ManualClock, SimulatedConnectionReset, Simulator
from tests.simulator.helpers import ISO_MS_Z_RE, POLL_KEYS, T2V, assert_envelope, poll, submit, submit_ok


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "INVALID_PARAMETER"),
        (401, "UNAUTHORIZED"),
        (402, "INSUFFICIENT_CREDITS"),
        (403, "FORBIDDEN"),
        (404, "TASK_NOT_FOUND"),
        (429, "RATE_LIMITED"),
        (500, "INTERNAL_ERROR"),
        (502, "UPSTREAM_ERROR"),
        (503, "UPSTREAM_ERROR"),
    ],
)
@pytest.mark.anyio
async def test_status_fault_on_submit_uses_default_codes_and_creates_nothing(
    client: httpx2.AsyncClient, sim: Simulator, status: int, code: str
) -> None:
    sim.add_fault(Fault("submit", "status", status=status))
    assert_envelope(await submit(client, T2V), status, code)
    assert sim.ledger.tasks_created == []
    assert (await submit(client, T2V)).status_code == 200  # times=1: only the first request


@pytest.mark.anyio
async def test_status_fault_with_retry_after_code_message_and_times(
    client: httpx2.AsyncClient, sim: Simulator
) -> None:
    task_id = await submit_ok(client)
    sim.add_fault(
        Fault("poll", "status", status=429, code="SLOW_DOWN", message="easy", retry_after=3, times=2)
    )
    for _ in range(2):
        response = await poll(client, task_id)
        error = assert_envelope(response, 429, "SLOW_DOWN")
        assert error["message"] == "easy"
        assert response.headers["retry-after"] == "3"
    assert (await poll(client, task_id)).status_code == 200
    assert sim.ledger.count("poll", task_id, status=429) == 2


@pytest.mark.anyio
async def test_poll_fault_can_target_one_task(client: httpx2.AsyncClient, sim: Simulator) -> None:
    first, second = await submit_ok(client), await submit_ok(client)
    sim.add_fault(Fault("poll", "status", status=503, task_id=second))
    assert (await poll(client, first)).status_code == 200
    assert (await poll(client, second)).status_code == 503
    assert (await poll(client, second)).status_code == 200


@pytest.mark.parametrize("target", ["submit", "poll", "download"])
@pytest.mark.anyio
async def test_html_fault_is_a_502_proxy_page(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock, target: str
) -> None:
    task_id = await submit_ok(client)
    clock.advance(10)
    sim.add_fault(Fault(target, "html"))  # type: ignore[arg-type]
    url = {
        "submit": "/v1/videos/generate",
        "poll": f"/v1/videos/tasks/{task_id}",
        "download": f"http://cdn/files/{task_id}.mp4",
    }[target]
    response = await (client.post(url, json=T2V) if target == "submit" else client.get(url))
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert b"<html>" in response.content
    assert len(sim.ledger.tasks_created) == 1


@pytest.mark.anyio
async def test_malformed_json_faults(client: httpx2.AsyncClient, sim: Simulator) -> None:
    """A malformed_json fault answers 200 with a JSON body cut mid-token."""
    task_id = await submit_ok(client)
    sim.add_fault(Fault("submit", "malformed_json"))
    sim.add_fault(Fault("poll", "malformed_json"))
    for response in (await submit(client, T2V), await poll(client, task_id)):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)
    assert len(sim.ledger.tasks_created) == 1


@pytest.mark.anyio
async def test_missing_fields_faults(client: httpx2.AsyncClient, sim: Simulator) -> None:
    """A missing_fields fault drops the field a client needs most (task_id on submit, status on poll)."""
    task_id = await submit_ok(client)
    sim.add_fault(Fault("submit", "missing_fields"))
    sim.add_fault(Fault("poll", "missing_fields"))
    submitted = await submit(client, T2V)
    assert submitted.status_code == 200
    assert "task_id" not in submitted.json()
    polled = await poll(client, task_id)
    assert polled.status_code == 200
    assert "status" not in polled.json()
    assert polled.json()["task_id"] == task_id


@pytest.mark.anyio
async def test_unknown_status_fault(client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock) -> None:
    """An unknown_status fault reports an undocumented status once, then the real one."""
    task_id = await submit_ok(client)
    clock.advance(100)
    sim.add_fault(Fault("poll", "unknown_status"))
    # A poll that cannot be answered with a task (unknown id) leaves the fault queued.
    assert_envelope(await poll(client, "task_1234567890123456789"), 404, "TASK_NOT_FOUND")
    body = (await poll(client, task_id)).json()
    assert set(body) == POLL_KEYS
    assert body["status"] == "pending_review"
    assert body["videos"] is None
    assert body["completed_at"] is None
    assert (await poll(client, task_id)).json()["status"] == "succeeded"


@pytest.mark.anyio
async def test_delay_fault_sleeps_then_answers_normally(client: httpx2.AsyncClient, sim: Simulator) -> None:
    sim.add_fault(Fault("submit", "delay", seconds=0.2))
    started = time.monotonic()
    response = await submit(client, T2V)
    assert time.monotonic() - started >= 0.2
    assert response.status_code == 200
    assert sim.ledger.entries[-1].fault == "delay"


@pytest.mark.anyio
async def test_reset_faults_abort_mid_response_in_process(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    task_id = await submit_ok(client)
    clock.advance(10)
    requests: list[tuple[Fault, Callable[[], Awaitable[httpx2.Response]]]] = [
        (Fault("submit", "reset"), lambda: submit(client, T2V)),
        (Fault("poll", "reset"), lambda: poll(client, task_id)),
        (Fault("download", "reset"), lambda: client.get(f"http://cdn/files/{task_id}.mp4")),
    ]
    for fault, request in requests:
        sim.add_fault(fault)
        with pytest.raises(SimulatedConnectionReset):
            await request()
    assert [e.status for e in sim.ledger.entries[-3:]] == [200, 200, 200]  # headers had gone out
    assert len(sim.ledger.tasks_created) == 1


@pytest.mark.anyio
async def test_accept_then_status_creates_a_task_the_client_never_hears_about(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    sim.add_fault(Fault("submit", "accept_then_status", status=504))
    assert_envelope(await submit(client, T2V), 504, "UPSTREAM_ERROR")
    assert sim.ledger.submits_received == 1
    [orphan] = sim.ledger.tasks_created
    assert sim.ledger.entries[-1].task_id == orphan
    clock.advance(10)
    assert (await poll(client, orphan)).json()["status"] == "succeeded"  # and it would be billed

    # An invalid body still fails validation first; the fault then stays queued for the next one.
    sim.add_fault(Fault("submit", "accept_then_status", status=500))
    assert (await submit(client, {"model": "kling/kling-v3"})).status_code == 400
    assert len(sim.ledger.tasks_created) == 1
    assert_envelope(await submit(client, T2V), 500, "INTERNAL_ERROR")
    assert len(sim.ledger.tasks_created) == 2
    assert sim.ledger.entries[-1].fault == "accept_then_status"
    assert (await submit(client, T2V)).status_code == 200


@pytest.mark.anyio
async def test_fail_task_fault_ends_the_next_task_in_failed(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    sim.add_fault(Fault("submit", "fail_task", code="CONTENT_BLOCKED", message="nope"))
    failing, fine = await submit_ok(client), await submit_ok(client)
    clock.advance(5)
    assert (await poll(client, failing)).json()["status"] == "processing"
    clock.advance(5)
    body = (await poll(client, failing)).json()
    assert set(body) == POLL_KEYS
    assert body["status"] == "failed"
    assert body["videos"] is None
    assert ISO_MS_Z_RE.match(body["completed_at"])
    assert set(body["error"]) == {"code", "message", "status", "request_id"}
    assert body["error"]["code"] == "CONTENT_BLOCKED"
    assert body["error"]["message"] == "nope"
    assert body["error"]["status"] == 500
    assert (await client.get(f"http://cdn/files/{failing}.mp4")).status_code == 404
    assert (await poll(client, fine)).json()["status"] == "succeeded"

    sim.add_fault(Fault("submit", "fail_task"))
    default = await submit_ok(client)
    clock.advance(10)
    assert (await poll(client, default)).json()["error"]["code"] == "GENERATION_FAILED"


@pytest.mark.anyio
async def test_expire_task_fault(client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock) -> None:
    """An expire_task fault makes the task 404 from then on, its files included."""
    task_id, other = await submit_ok(client), await submit_ok(client)
    clock.advance(10)
    sim.add_fault(Fault("poll", "expire_task", task_id=task_id))
    assert (await poll(client, other)).status_code == 200  # targeted fault skips other tasks
    assert_envelope(await poll(client, task_id), 404, "TASK_NOT_FOUND")
    # Expiry is permanent: later polls and the result files are gone too.
    assert_envelope(await poll(client, task_id), 404, "TASK_NOT_FOUND")
    assert (await client.get(f"http://cdn/files/{task_id}.mp4")).status_code == 404
    assert sim.tasks()[task_id].expired


@pytest.mark.anyio
async def test_download_status_and_delay_faults(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    task_id = await submit_ok(client)
    clock.advance(10)
    sim.add_fault(Fault("download", "status", status=403, task_id=task_id))
    sim.add_fault(Fault("download", "delay", seconds=0.05))
    assert_envelope(await client.get(f"http://cdn/files/{task_id}.jpg"), 403, "FORBIDDEN")
    assert (await client.get(f"http://cdn/files/{task_id}.jpg")).status_code == 200
    assert sim.ledger.count("download", task_id) == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"target": "upload", "kind": "status"},
        {"target": "poll", "kind": "explode"},
        {"target": "poll", "kind": "accept_then_status"},
        {"target": "poll", "kind": "fail_task"},
        {"target": "submit", "kind": "unknown_status"},
        {"target": "submit", "kind": "expire_task"},
        {"target": "download", "kind": "malformed_json"},
        {"target": "submit", "kind": "status", "task_id": "task_1"},
        {"target": "poll", "kind": "status", "times": 0},
        {"target": "poll", "kind": "status", "status": 99},
        {"target": "poll", "kind": "delay", "seconds": -1},
    ],
)
def test_nonsensical_faults_are_refused(kwargs: dict[str, Any]) -> None:
    """A fault that cannot apply where it is aimed is a test bug, so Fault() refuses it."""
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies per field
        Fault(**kwargs)
