"""Long-running jobs: bounded waits with progress, one poller per task, the journal, no double billing."""

from __future__ import annotations

import itertools
from typing import Any

import anyio
import pytest

from imini_mcp.request import DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS
from imini_mcp.store import SqliteTaskStore
from tests.conftest import Backend

pytestmark = pytest.mark.anyio


async def _submit(client: Any, **args: Any) -> str:
    result = await client.call_tool("generate_video", {"prompt": "a lighthouse at dusk"} | args)
    assert not result.is_error, result.content[0].text
    return str(result.structured_content["task"]["task_id"])


async def test_waiting_sends_progress_at_least_every_10_seconds(connect: Any) -> None:
    seen: list[tuple[float, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, message))

    async with connect() as client:
        task_id = await _submit(client)
        result = await client.call_tool(
            "get_task", {"task_id": task_id, "wait_seconds": 300}, progress_callback=on_progress
        )
    assert result.structured_content["status"] == "succeeded"
    assert len(seen) >= 4  # a 50 s task, ticks every ≤ 10 s
    times = [0.0] + [p for p, _ in seen]
    assert all(b > a for a, b in itertools.pairwise(times)), "progress must increase"
    assert max(b - a for a, b in itertools.pairwise(times)) <= 10.5
    assert any("processing" in (m or "") for _, m in seen)
    assert all(task_id in (m or "") for _, m in seen)


async def test_a_wait_that_ends_early_is_not_an_error_and_says_how_to_continue(connect: Any) -> None:
    async with connect() as client:
        result = await client.call_tool("generate_video", {"prompt": "p", "wait_seconds": 5})
    assert not result.is_error
    task = result.structured_content["task"]
    assert task["status"] in ("queued", "processing")
    assert not task["is_terminal"]
    assert f'get_task with {{"task_id": "{task["task_id"]}", "wait_seconds"' in task["next_step"]


async def test_wait_is_bounded_by_the_configured_maximum(connect: Any, backend: Backend) -> None:
    async with connect(max_wait_seconds=3) as client:
        started = backend.clock.now()
        result = await client.call_tool("generate_video", {"prompt": "p", "wait_seconds": 3000})
    assert not result.is_error
    assert not result.structured_content["task"]["is_terminal"]
    # 3 s allowed, 3000 s asked: a tenth of the asked wait leaves room for a loaded CI machine.
    assert backend.clock.now() - started < 300


async def test_a_wait_longer_than_the_cap_is_cut_and_the_answer_says_so(connect: Any) -> None:
    """The schema states the default wait and the default cap, and no maximum of its own (a server may be
    configured with another cap); a longer wait is not an error: the server waits its cap and says so."""
    async with connect(max_wait_seconds=3) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        generated = await client.call_tool("generate_video", {"prompt": "p", "wait_seconds": 3000})
        task_id = generated.structured_content["task"]["task_id"]
        checked = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 3000})
        within = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 2})
    for name in ("generate_video", "get_task"):
        published = tools[name].input_schema["properties"]["wait_seconds"]
        assert "maximum" not in published
        assert published["minimum"] == 0
        assert (
            f"Default {DEFAULT_WAIT_SECONDS:g} s, at most {MAX_WAIT_SECONDS:g} s" in published["description"]
        )
        assert "a longer wait is cut, and the answer says so" in published["description"]
    said = "wait_seconds 3000 is more than this server's longest wait: it waited at most 3 s"
    assert not generated.is_error
    assert any(note.startswith(said) for note in generated.structured_content["notes"])
    assert not checked.is_error
    assert not checked.structured_content["is_terminal"]
    assert checked.structured_content["next_step"].startswith(said)
    assert "longest wait" not in within.structured_content["next_step"]  # 2 s is within the cap


async def test_cancelling_the_call_stops_only_the_wait(
    connect: Any, backend: Backend, journal_path: Any
) -> None:
    async with connect() as client:
        task_id = await _submit(client)
        with anyio.move_on_after(0.05):  # the client gives up (0.05 s real = 5 s simulated)
            await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 300})
        listed = await client.call_tool("list_tasks", {})
        assert listed.structured_content["tasks"][0]["task_id"] == task_id
        later = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 300})
    assert later.structured_content["status"] == "succeeded"
    with SqliteTaskStore(journal_path) as journal:
        assert journal.get("", task_id).status == "succeeded"


async def test_concurrent_waiters_share_one_poll_loop(connect: Any, backend: Backend) -> None:
    async with connect() as client:
        task_id = await _submit(client)
        results: list[Any] = []

        async def wait() -> None:
            results.append(await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 300}))

        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(wait)
    assert all(r.structured_content["status"] == "succeeded" for r in results)
    # One waiter alone needs about 8 polls for this 50 s task; ten waiters must not need more.
    assert backend.polls(task_id) <= 10


async def test_restart_loses_nothing_and_waits_resume(
    connect: Any, make_server: Any, backend: Backend
) -> None:
    async with connect() as first:
        task_id = await _submit(first)
        key_result = await first.call_tool("generate_video", {"prompt": "with key", "idempotency_key": "k-1"})
    async with connect(make_server()) as second:  # a new process would see the same journal file
        listed = await second.call_tool("list_tasks", {})
        assert {t["task_id"] for t in listed.structured_content["tasks"]} >= {task_id}
        done = await second.call_tool("get_task", {"task_id": task_id, "wait_seconds": 300})
        again = await second.call_tool("generate_video", {"prompt": "with key", "idempotency_key": "k-1"})
    assert done.structured_content["status"] == "succeeded"
    assert again.structured_content["replayed"] is True
    assert again.structured_content["task"]["task_id"] == key_result.structured_content["task"]["task_id"]
    assert backend.submits == 2


async def test_idempotency_key_never_submits_twice(connect: Any, backend: Backend) -> None:
    async with connect() as client:
        first = await client.call_tool("generate_video", {"prompt": "p", "idempotency_key": "video-42"})
        second = await client.call_tool("generate_video", {"prompt": "p", "idempotency_key": "video-42"})
        other = await client.call_tool("generate_video", {"prompt": "other", "idempotency_key": "video-42"})
    assert first.structured_content["task"]["task_id"] == second.structured_content["task"]["task_id"]
    assert second.structured_content["replayed"] is True
    assert "nothing was sent or billed again" in second.content[0].text
    assert other.is_error
    assert "idempotency_key 'video-42' was already used" in other.content[0].text
    assert backend.submits == 1


async def test_an_idempotent_replay_says_it_is_a_replay(connect: Any, backend: Backend) -> None:
    """A repeated idempotency_key sends nothing, and the structured content, the text and the output schema say
    so: a replay, not a submit."""
    async with connect() as client:
        first = await client.call_tool("generate_video", {"prompt": "p", "idempotency_key": "video-7"})
        again = await client.call_tool("generate_video", {"prompt": "p", "idempotency_key": "video-7"})
        [tool] = [t for t in (await client.list_tools()).tools if t.name == "generate_video"]
    assert (first.structured_content["submitted"], first.structured_content["replayed"]) == (True, False)
    assert first.content[0].text.startswith("Submitted to imini.")
    assert (again.structured_content["submitted"], again.structured_content["replayed"]) == (False, True)
    text = again.content[0].text
    assert text.startswith("Replay: this idempotency_key was already used for the same request")
    assert "Submitted" not in text
    assert again.structured_content["task"]["task_id"] in text
    fields = tool.output_schema["properties"] if tool.output_schema else {}
    assert "replay" in fields["submitted"]["description"]
    assert "nothing was sent" in fields["replayed"]["description"]
    assert backend.submits == 1


async def test_concurrent_calls_with_one_key_submit_once(connect: Any, backend: Backend) -> None:
    async with connect() as client:
        results: list[Any] = []

        async def call() -> None:
            results.append(
                await client.call_tool("generate_video", {"prompt": "p", "idempotency_key": "race"})
            )

        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(call)
    assert backend.submits == 1
    ids = {r.structured_content["task"]["task_id"] for r in results if not r.is_error}
    assert len(ids) == 1
    # A call that raced the in-flight submit is told so, rather than submitting again.
    assert all(
        "in flight" in r.content[0].text or "submitting" in r.content[0].text for r in results if r.is_error
    )


async def test_an_identical_body_without_key_is_submitted_but_flagged(connect: Any, backend: Backend) -> None:
    async with connect() as client:
        first = await _submit(client)
        second = await client.call_tool("generate_video", {"prompt": "a lighthouse at dusk"})
    assert backend.submits == 2
    notes = " ".join(second.structured_content["notes"])
    assert first in notes
    assert "separately billed" in notes


async def test_list_tasks_filters_and_orders_newest_first(connect: Any) -> None:
    async with connect() as client:
        a = await _submit(client, prompt="first")
        b = await _submit(client, prompt="second", wait_seconds=300)
        everything = await client.call_tool("list_tasks", {})
        done = await client.call_tool("list_tasks", {"status": "succeeded"})
        since = await client.call_tool("list_tasks", {"since": "2999-01-01"})
        bad = await client.call_tool("list_tasks", {"since": "yesterday", "limit": 0})
    assert [t["task_id"] for t in everything.structured_content["tasks"]] == [b, a]
    assert [t["task_id"] for t in done.structured_content["tasks"]] == [b]
    assert since.structured_content["tasks"] == []
    assert bad.is_error
    assert "since:" in bad.content[0].text
    assert "limit:" in bad.content[0].text
