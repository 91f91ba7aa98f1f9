"""The use cases without MCP: VideoService, BackgroundJobs and crash recovery on a real store and the simulator.

No MCP server, client or context here: the app layer is driven directly, as another front end would.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import anyio
import httpx2
import pytest

from imini_mcp.app import Account, BackgroundJobs, VideoService, recover_interrupted_submits
from imini_mcp.imini import (
    DOCUMENTED_STATUSES,
    IminiClient,
    IminiError,
    PollSchedule,
    RequestRejected,
    SubmitOutcomeUnknown,
    TaskFollower,
    TaskNotFound,
)
from imini_mcp.request import GenerateVideoArguments, ListTasksArguments, WaitLimits, check_generate_arguments
from imini_mcp.simulator import Fault
from imini_mcp.store import SqliteTaskStore, TaskState
from tests.conftest import FAKE_KEY, FAST_RETRY, Backend

pytestmark = pytest.mark.anyio


@dataclass
class World:
    service: VideoService
    jobs: BackgroundJobs
    account: Account
    store: SqliteTaskStore
    backend: Backend


@pytest.fixture
async def world(backend: Backend, tmp_path: Path) -> AsyncIterator[World]:
    store = SqliteTaskStore(tmp_path / "tasks.sqlite3")
    async with httpx2.AsyncClient() as http, anyio.create_task_group() as tg:
        follower = TaskFollower(tg, schedule=PollSchedule(jitter=0), clock=backend.clock)
        service = VideoService(store=store, follower=follower, limits=WaitLimits(0, 600))
        client = IminiClient(http, base_url=backend.url, api_key=FAKE_KEY, policy=FAST_RETRY)
        yield World(service, BackgroundJobs(service, tg), Account("", client), store, backend)
        tg.cancel_scope.cancel()
    store.close()


def request(**fields: Any) -> GenerateVideoArguments:
    return check_generate_arguments({"prompt": "a lighthouse at dusk, waves below"} | fields)


def test_the_app_layer_runs_without_the_mcp_sdk() -> None:
    """Importing the use cases loads no part of the MCP SDK."""
    code = (
        "import sys, imini_mcp.app; assert not [m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_a_dry_run_needs_no_account_and_sends_nothing(world: World) -> None:
    result = await world.service.generate(request(dry_run=True), None)
    assert result.submitted is False
    assert result.request_body == {"model": "kling/kling-v3", "prompt": "a lighthouse at dusk, waves below"}
    assert result.estimated_cost.credits == 600
    assert world.backend.submits == 0
    assert world.store.count() == 0


async def test_a_submit_is_recorded_and_waited_for_with_progress(world: World) -> None:
    messages: list[str] = []

    async def progress(elapsed: float, message: str) -> None:
        messages.append(message)

    result = await world.service.generate(request(wait_seconds=300), world.account, progress=progress)
    assert result.task is not None
    assert result.task.status == "succeeded"
    assert result.task.videos
    record = world.store.get("", result.task.task_id)
    assert record is not None
    assert (record.state, record.status) == ("accepted", "succeeded")
    assert messages
    assert world.backend.submits == 1


async def test_an_idempotency_key_replays_the_first_task(world: World) -> None:
    first = await world.service.generate(request(idempotency_key="k-1"), world.account)
    again = await world.service.generate(request(idempotency_key="k-1"), world.account)
    assert again.replayed is True
    assert first.task is not None
    assert again.task is not None
    assert again.task.task_id == first.task.task_id
    assert world.backend.submits == 1
    with pytest.raises(RequestRejected, match="already used for a different request"):
        await world.service.generate(request(idempotency_key="k-1", duration=10), world.account)
    assert world.backend.submits == 1


async def test_a_lost_submit_answer_is_recorded_and_never_retried(world: World) -> None:
    world.backend.sim.add_fault(Fault("submit", "accept_then_status", status=502))
    with pytest.raises(SubmitOutcomeUnknown) as caught:
        await world.service.generate(request(), world.account)
    assert "journal entry #1" in str(caught.value)
    [record] = world.store.list_tasks("")
    assert record.state == "outcome_unknown"
    assert world.backend.submits == 1


async def test_a_refused_submit_is_recorded_as_rejected(world: World) -> None:
    world.backend.sim.add_fault(Fault("submit", "status", status=402))
    with pytest.raises(IminiError, match="HTTP 402"):
        await world.service.generate(request(), world.account)
    [record] = world.store.list_tasks("")
    assert record.state == "rejected"


async def test_get_task_reads_imini_once_or_waits(world: World) -> None:
    submitted = await world.service.generate(request(), world.account)
    assert submitted.task is not None
    now = await world.service.get_task(submitted.task.task_id, world.account, wait_seconds=0)
    assert now.status in ("queued", "processing")  # queued lasts 0.1 s of real time here
    done = await world.service.get_task(submitted.task.task_id, world.account, wait_seconds=300)
    assert done.status == "succeeded"
    with pytest.raises(TaskNotFound):
        await world.service.get_task("task_404", world.account, wait_seconds=0)


async def test_a_task_imini_never_knew_settles_once_the_grace_is_over(world: World, tmp_path: Path) -> None:
    """A journal entry imini answers 404 for, from a submit long ago (e.g. by a simulated imini that died with
    its process), is recorded as expired: final, listed with the reason, never asked about again."""
    long_ago = time.time() - 3600
    with SqliteTaskStore(tmp_path / "tasks.sqlite3", clock=lambda: long_ago) as earlier_process:
        intent, _ = earlier_process.begin_submit(
            owner="", model="kling/kling-v3", body={"prompt": "p"}, request_hash="h", idempotency_key=None
        )
        earlier_process.mark_accepted(
            intent.journal_id, task_id="task_1000000000000000001", request_id="rq", created_at=None
        )
    view = await world.service.get_task("task_1000000000000000001", world.account, wait_seconds=0)
    assert (view.status, view.is_terminal) == ("expired", True)
    assert view.error is not None
    assert view.error.code == "TASK_NOT_FOUND"
    [record] = world.store.list_tasks("")
    assert (record.state, record.is_terminal, record.request_id) == ("expired", True, "rq")
    [summary] = (await world.service.list_tasks(world.account, status=None, since=None, limit=10)).tasks
    assert (summary.state, summary.task_id) == ("expired", "task_1000000000000000001")
    polls = world.backend.polls()
    again = await world.service.get_task("task_1000000000000000001", world.account, wait_seconds=60)
    assert again.status == "expired"
    assert world.backend.polls() == polls


async def test_a_job_whose_task_imini_forgets_ends_expired(world: World) -> None:
    """A background job stops following a task imini no longer knows (once that is final), without an error."""
    world.service.expiry.grace = 0  # no grace: the first 404 is final
    job = await world.jobs.submit(request(), world.account, lambda r: {})
    world.backend.sim.add_fault(Fault("poll", "expire_task", task_id=job.task_id))
    with anyio.fail_after(10):
        await world.jobs.wait_done("", job.task_id)
    loaded = await world.jobs.load(world.account, job.task_id)
    assert loaded is not None
    assert loaded.finished
    assert loaded.record.state == "expired"
    assert "error" not in loaded.meta
    assert world.store.unfinished() == []


async def test_list_tasks_is_newest_first_and_per_owner(world: World) -> None:
    for prompt in ("first video", "second video"):
        await world.service.generate(request(prompt=prompt), world.account)
    listing = await world.service.list_tasks(world.account, status=None, since=None, limit=10)
    assert [t.summary.split(" (")[0] for t in listing.tasks] == ["second video", "first video"]
    assert listing.total_in_journal == 2
    other = Account("someone-else", world.account.client)
    assert (await world.service.list_tasks(other, status=None, since=None, limit=10)).tasks == []


async def test_a_background_job_is_followed_to_the_end(world: World) -> None:
    job = await world.jobs.submit(request(), world.account, lambda r: {"cost": r.estimated_cost.credits})
    assert job.meta == {"cost": 600}
    await world.jobs.wait_done("", job.task_id)
    loaded = await world.jobs.load(world.account, job.task_id)
    assert loaded is not None
    assert loaded.finished
    assert loaded.record.status == "succeeded"
    assert await world.jobs.load(Account("someone-else", world.account.client), job.task_id) is None


async def test_a_cancelled_job_stops_being_followed(world: World) -> None:
    job = await world.jobs.submit(request(), world.account, lambda r: {})
    cancelled = await world.jobs.cancel(world.account, job.task_id, at="2026-12-02T00:00:00Z")
    await world.jobs.wait_done("", job.task_id)
    assert cancelled.meta["cancelled_at"] == "2026-12-02T00:00:00Z"
    record = world.store.get("", job.task_id)
    assert record is not None
    assert record.status != "succeeded"


def test_a_submit_left_in_flight_by_a_dead_process_is_settled_as_outcome_unknown(tmp_path: Path) -> None:
    with SqliteTaskStore(tmp_path / "tasks.sqlite3") as store:
        record, _ = store.begin_submit(
            owner="",
            model="kling/kling-v3",
            body={},
            request_hash="h",
            idempotency_key=None,
            options={"submitter": {"pid": 2**22 + 1, "host": socket.gethostname()}},
        )
        recover_interrupted_submits(store, longest_submit_seconds=3600)
        settled = store.get_by_journal_id(record.journal_id)
    assert settled is not None
    assert settled.state == "outcome_unknown"


def test_the_list_filter_offers_every_imini_status_and_every_settled_state() -> None:
    """list_tasks' status enum is imini's statuses plus the store states a person may look for."""
    [enum] = [
        arg for arg in get_args(ListTasksArguments.model_fields["status"].annotation) if arg is not type(None)
    ]
    assert set(get_args(enum)) == set(DOCUMENTED_STATUSES) | (
        set(get_args(TaskState)) - {"submitting", "accepted"}
    )
