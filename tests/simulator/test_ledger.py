"""The ledger, the tasks view, reset, and the control API that exposes them to other processes."""

from __future__ import annotations

import itertools
import json

import httpx2
import pytest

from imini_mcp.simulator import Fault, Ledger, ManualClock, Simulator
from tests.simulator.helpers import T2V, assert_envelope, poll, submit, submit_ok


@pytest.mark.anyio
async def test_ledger_counts_every_request(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    first = await submit_ok(client)
    second = await submit_ok(client)
    await submit(client, {"model": "nope"})
    for _ in range(3):
        await poll(client, first)
    await poll(client, second)
    clock.advance(10)
    await client.get(f"http://cdn/files/{first}.mp4")
    await client.get("http://sim/_simulator/ledger")

    ledger = sim.ledger
    assert ledger.submits_received == 3
    assert ledger.tasks_created == [first, second]
    assert ledger.count("submit") == 3
    assert ledger.count("submit", status=400) == 1
    assert ledger.count("poll") == 4
    assert ledger.count("poll", first) == 3
    assert ledger.count("download", first) == 1
    assert ledger.count("control") == 1
    assert len(ledger) == 9
    entries = ledger.entries
    assert [e.kind for e in entries[:3]] == ["submit"] * 3
    assert entries[0].task_id == first
    assert entries[2].task_id is None
    assert entries[0].method == "POST"
    assert entries[0].path == "/imini/router/v1/videos/generate"
    assert all(a.time <= b.time for a, b in itertools.pairwise(entries))
    assert entries[-2].sim_time == 10

    snapshot = ledger.to_json()
    assert json.loads(json.dumps(snapshot)) == snapshot
    assert snapshot["submits_received"] == 3
    assert snapshot["tasks_created"] == [first, second]
    rebuilt = Ledger.from_json(snapshot)
    assert rebuilt.entries == entries
    assert rebuilt.count("poll", first) == 3


@pytest.mark.anyio
async def test_tasks_view_is_a_snapshot_and_reset_forgets_everything(
    client: httpx2.AsyncClient, sim: Simulator
) -> None:
    task_id = await submit_ok(client)
    view = sim.tasks()
    view[task_id].request["prompt"] = "changed"  # a copy: must not leak into the simulator
    with pytest.raises(AttributeError):
        view[task_id].status = "failed"  # type: ignore[misc]
    assert sim.tasks()[task_id].request["prompt"] == T2V["prompt"]

    sim.add_fault(Fault("submit", "status", status=500))
    sim.reset()
    assert sim.tasks() == {}
    assert len(sim.ledger) == 0
    assert (await submit(client, T2V)).status_code == 200  # the fault is gone too
    assert_envelope(await poll(client, task_id), 404, "TASK_NOT_FOUND")


@pytest.mark.anyio
async def test_control_api(client: httpx2.AsyncClient, sim: Simulator) -> None:
    """Faults, the ledger and reset are reachable over HTTP, for a simulator in another process."""
    control = "http://sim/_simulator"
    added = await client.post(f"{control}/faults", json={"target": "submit", "kind": "status", "status": 429})
    assert added.status_code == 204
    assert_envelope(await submit(client, T2V), 429, "RATE_LIMITED")

    for bad in ({"target": "submit"}, {"target": "submit", "kind": "status", "bogus": 1}, ["x"]):
        assert_envelope(await client.post(f"{control}/faults", json=bad), 400, "INVALID_PARAMETER")
    assert_envelope(await client.post(f"{control}/faults", content=b"{"), 400, "INVALID_PARAMETER")

    task_id = await submit_ok(client)
    ledger = (await client.get(f"{control}/ledger")).json()
    assert ledger["submits_received"] == 2
    assert ledger["tasks_created"] == [task_id]
    assert [e["kind"] for e in ledger["entries"]] == ["control", "submit"] + ["control"] * 4 + ["submit"]
    assert Ledger.from_json(ledger).count("submit", status=429) == 1

    assert (await client.post(f"{control}/reset")).status_code == 204
    assert sim.tasks() == {}
    assert sim.ledger.tasks_created == []
