"""imini answers 404 for a task: what get_task and list_tasks say, for a task this server journalled and for one
it never saw, and when the journal records the task as expired (final) rather than keeping it queued."""

from __future__ import annotations

import re
from typing import Any

import pytest
from mcp import Client

from imini_mcp.simulator import Fault
from tests.conftest import Backend

pytestmark = pytest.mark.anyio


async def submit(client: Client) -> str:
    result = await client.call_tool("generate_video", {"prompt": "a kite over dunes", "wait_seconds": 0})
    assert not result.is_error, result.content[0].text
    task_id: str = result.structured_content["task"]["task_id"]
    return task_id


async def seen_then_forgotten(client: Client, backend: Backend) -> str:
    """A task imini has shown once (a get_task saw it), and then forgets (a 404 from then on)."""
    task_id = await submit(client)
    assert not (await client.call_tool("get_task", {"task_id": task_id})).is_error
    backend.sim.add_fault(Fault("poll", "expire_task", task_id=task_id))
    return task_id


async def test_a_journalled_task_imini_forgets_gets_one_answer_whatever_the_wait(
    connect: Any, backend: Backend
) -> None:
    """Once imini has shown a task, its 404 means the task is gone: with or without a wait, the answer is the
    same final view (not an error telling the caller to check an id this server issued)."""
    async with connect() as client:
        quick_id = await seen_then_forgotten(client, backend)
        waited_id = await seen_then_forgotten(client, backend)
        quick = await client.call_tool("get_task", {"task_id": quick_id, "wait_seconds": 0})
        # 60 s of the tests' 100x clock: long enough for the wait's first poll on a slow machine
        waited = await client.call_tool("get_task", {"task_id": waited_id, "wait_seconds": 60})
    for result in (quick, waited):
        assert not result.is_error, result.content[0].text
        view = result.structured_content
        assert (view["status"], view["is_terminal"]) == ("expired", True)
        assert view["error"]["code"] == "TASK_NOT_FOUND"
        assert "Check the task id" not in result.content[0].text
        assert "imini no longer knows this task" in view["next_step"]
        assert f"Task {view['task_id']}: expired (final)" in result.content[0].text
    assert quick.structured_content["next_step"] == waited.structured_content["next_step"]


async def test_an_id_this_server_never_issued_is_a_clear_404_whatever_the_wait(connect: Any) -> None:
    """For an id that is in no journal, the 404 is an error that says to check the id, the same for any wait."""
    async with connect() as client:
        quick = await client.call_tool("get_task", {"task_id": "task_1234567890123456789", "wait_seconds": 0})
        waited = await client.call_tool(
            "get_task", {"task_id": "task_1234567890123456789", "wait_seconds": 5}
        )
    assert quick.is_error
    assert waited.is_error
    texts = [re.sub(r"request_id req_\w+", "request_id …", r.content[0].text) for r in (quick, waited)]
    assert texts[0] == texts[1]
    text = texts[0]
    assert "HTTP 404" in text
    assert "not in this server's journal" in text
    assert "check it (ids look like task_" in text


async def test_an_expired_task_is_final_in_the_journal_and_never_asked_about_again(
    connect: Any, backend: Backend
) -> None:
    """list_tasks shows it as expired with the reason, keeps it (nothing lost), and get_task answers from the
    journal without asking imini again."""
    async with connect() as client:
        task_id = await seen_then_forgotten(client, backend)
        await client.call_tool("get_task", {"task_id": task_id})
        polls = backend.polls(task_id)
        again = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 30})
        listed = await client.call_tool("list_tasks", {})
        only_expired = await client.call_tool("list_tasks", {"status": "expired"})
    assert backend.polls(task_id) == polls  # answered from the journal
    assert again.structured_content["status"] == "expired"
    [entry] = listed.structured_content["tasks"]
    assert (entry["task_id"], entry["state"]) == (task_id, "expired")
    assert entry["error"]["code"] == "TASK_NOT_FOUND"
    assert "imini no longer knows this task" in entry["next_step"]
    assert listed.structured_content["total_in_journal"] == 1
    assert f"- {task_id} [expired: imini no longer knows it]" in listed.content[0].text
    assert [t["task_id"] for t in only_expired.structured_content["tasks"]] == [task_id]


async def test_a_404_right_after_the_submit_keeps_the_task_and_says_so(
    connect: Any, backend: Backend
) -> None:
    """imini answering 404 for a task it issued moments ago and never showed may be a delay at imini: the task
    stays in the journal as it was, not final, and both a quick look and a wait say the same."""
    async with connect() as client:
        task_id = await submit(client)
        backend.sim.add_fault(Fault("poll", "expire_task", task_id=task_id))
        quick = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 0})
        waited = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 30})
        listed = await client.call_tool("list_tasks", {})
    assert backend.polls(task_id) > 2  # the wait kept asking
    steps = []
    for result in (quick, waited):
        assert not result.is_error, result.content[0].text
        view = result.structured_content
        assert (view["status"], view["is_terminal"]) == ("queued", False)
        assert f"imini does not know task {task_id} yet (HTTP 404" in view["next_step"]
        assert "it is recorded as expired" in view["next_step"]
        steps.append(re.sub(r"\d+ s after the submit", "N s after the submit", view["next_step"]))
    assert steps[0] == steps[1]
    [entry] = listed.structured_content["tasks"]
    assert (entry["state"], entry["status"]) == ("accepted", "queued")
