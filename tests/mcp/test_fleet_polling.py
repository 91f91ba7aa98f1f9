"""Several servers on one store (an SQLite journal, or PostgreSQL), in this process, pointed at one simulated
imini: each task is polled by one server at a time, whichever servers its waiters are on; a stopped poller
hands it over; a starting server leaves alone what another follows; a cancel anywhere stops the poller;
MCP Tasks answer on a server that did not submit them."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp.server.mcpserver import MCPServer

from imini_mcp.imini import Clock, PollSchedule
from imini_mcp.mcp import build_server
from imini_mcp.settings import Settings
from imini_mcp.simulator import Simulator, SimulatorConfig, serve_simulator
from imini_mcp.store import TaskStore
from tests.conftest import FAKE_KEY, FAST_DOWNLOADS, FAST_RETRY, Backend
from tests.replicas import STORES, Instance, open_shared_store, running, start_instance, store_overrides
from tests.tasks_client import TasksClientExtension, get_task, raw

pytestmark = pytest.mark.anyio

PROMPT = {"prompt": "a lighthouse at dusk, waves below"}


@pytest.fixture(params=STORES)
def shared(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings putting every server of a test on one store."""
    return store_overrides(request.param, request)


def server_maker(backend: Backend, settings: Settings, **kwargs: Any) -> Callable[[str], MCPServer]:
    """`make(name)`: a server with ``settings`` on ``backend``, its poll leases carrying ``name``."""

    def server(name: str) -> MCPServer:
        return build_server(
            settings,
            clock=backend.clock,
            retry=FAST_RETRY,
            schedule=PollSchedule(jitter=0),
            poller=name,
            **kwargs,
        )

    return server


@asynccontextmanager
async def simulated(scale: float, processing: float) -> AsyncIterator[Backend]:
    """A simulated imini whose tasks take 10 + ``processing`` s on a clock ``1/scale`` × real time."""
    clock = Clock(scale=scale)
    sim = Simulator(
        SimulatorConfig(api_key=FAKE_KEY, queued_seconds=10, processing_seconds=processing, clock=clock.now)
    )
    async with serve_simulator(sim) as url:
        yield Backend(sim, url, clock)


@pytest.fixture
async def paced_backend() -> AsyncIterator[Backend]:
    """A 50 s task on a clock 25× real time (2 s real): scheduling noise of a loaded machine stays well
    under a poll interval, so GET counts compare exactly enough."""
    async with simulated(0.04, 40) as backend:
        yield backend


@pytest.fixture
async def slow_backend() -> AsyncIterator[Backend]:
    """A 250 s task on a clock 50× real time: 5 s real, a poll every 0.2 s at most."""
    async with simulated(0.02, 240) as backend:
        yield backend


@pytest.fixture
def make(
    backend: Backend, make_settings: Callable[..., Settings], shared: dict[str, Any]
) -> Callable[..., Any]:
    return server_maker(backend, make_settings(**shared), downloads=FAST_DOWNLOADS)


@pytest.fixture
def make_paced(paced_backend: Backend, make_settings: Callable[..., Settings], shared: dict[str, Any]) -> Any:
    return server_maker(paced_backend, make_settings(**(shared | {"base_url": paced_backend.url})))


@pytest.fixture
def make_slow(slow_backend: Backend, make_settings: Callable[..., Settings], shared: dict[str, Any]) -> Any:
    return server_maker(slow_backend, make_settings(**(shared | {"base_url": slow_backend.url})))


@pytest.fixture
def store(make_settings: Callable[..., Settings], shared: dict[str, Any]) -> AsyncIterator[TaskStore]:
    with open_shared_store(make_settings(**shared)) as opened:
        yield opened


async def submit(instance: Instance, **args: Any) -> str:
    result = await instance.c.call_tool("generate_video", PROMPT | args)
    assert not result.is_error, result.content[0].text
    return str(result.structured_content["task"]["task_id"])


async def wait(instance: Instance, task_id: str, out: list[dict[str, Any]], seconds: float = 600) -> None:
    result = await instance.c.call_tool("get_task", {"task_id": task_id, "wait_seconds": seconds})
    assert not result.is_error, result.content[0].text
    out.append(result.structured_content)


async def wait_until_stopped(instance: Instance, task_id: str, out: list[str]) -> None:
    """A wait that may see its server stopped under it: records the status it got, or "stopped"."""

    async def call() -> None:
        result = await instance.c.call_tool("get_task", {"task_id": task_id, "wait_seconds": 600})
        out.append(result.structured_content["status"] if not result.is_error else "error")
        tg.cancel_scope.cancel()

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        await instance.stopped.wait()
        out.append("stopped")
        tg.cancel_scope.cancel()


async def holder_of(store: TaskStore, task_id: str, *, not_: str | None = None, within: float = 10) -> str:
    """The poller holding the task's lease (other than ``not_``), once there is one."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        lease = await anyio.to_thread.run_sync(store.poll_lease, "", task_id)
        if lease is not None and lease.poller != not_:
            return lease.poller
        await anyio.sleep(0.01)
    raise AssertionError(f"nobody (but {not_}) held the poll lease of {task_id} within {within} s")


# ---------------------------------------------------------------------------------------------------
# One poll loop per task


@pytest.mark.parametrize("servers", [1, 2, 3])
async def test_waiters_spread_over_servers_cost_imini_the_gets_of_one_waiter(
    make_paced: Any, paced_backend: Backend, servers: int
) -> None:
    """Six waiters round robin over 1, 2 or 3 servers on one task; one waiter on a twin task submitted at
    the same moment: both tasks cost imini the same GETs (±1)."""
    names = [f"r{i + 1}" for i in range(servers)]
    async with running(make_paced, names) as instances:
        crowded, alone = await submit(instances[0]), await submit(instances[0])
        results: list[dict[str, Any]] = []
        async with anyio.create_task_group() as tg:
            tg.start_soon(wait, instances[0], alone, results)
            for n in range(6):
                tg.start_soon(wait, instances[n % servers], crowded, results)
    assert [r["status"] for r in results] == ["succeeded"] * 7
    one, six = paced_backend.polls(alone), paced_backend.polls(crowded)
    print(f"{servers} server(s): 6 waiters {six} GETs, 1 waiter {one} GETs")
    assert abs(six - one) <= 1, (six, one)


# ---------------------------------------------------------------------------------------------------
# A longer task: time to stop a poller, start another server, cancel


async def test_a_stopped_poller_hands_the_task_over_and_the_other_waiters_get_the_video(
    make_slow: Any, slow_backend: Backend, store: TaskStore
) -> None:
    """Waiters on two servers; the server polling their task stops (its task group ends, its lease is
    released): the other server polls from then on, and its waiters get the video."""
    async with anyio.create_task_group() as tg:
        r1, r2 = [await start_instance(tg, make_slow, name) for name in ("r1", "r2")]
        task_id = await submit(r1)
        seen: dict[str, list[str]] = {"r1": [], "r2": []}
        for instance in (r1, r2):
            tg.start_soon(wait_until_stopped, instance, task_id, seen[instance.name])
        first = await holder_of(store, task_id)
        holder, survivor = (r1, r2) if first == "r1" else (r2, r1)
        await anyio.sleep(0.5)
        polls_before = slow_backend.polls(task_id)
        stopped_at = time.monotonic()
        await holder.stop()
        other = await holder_of(store, task_id, not_=holder.name)
        takeover = time.monotonic() - stopped_at
        with anyio.fail_after(30):
            while not seen[survivor.name]:
                await anyio.sleep(0.05)
        await survivor.stop()
    print(f"clean stop of {holder.name}: {other} took over in {takeover * 1000:.0f} ms")
    assert other == survivor.name
    assert takeover < 2.0  # released, then woken: well under the lease's ttl
    assert seen[survivor.name] == ["succeeded"]
    assert slow_backend.polls(task_id) > polls_before  # the survivor polled to the end
    assert seen[holder.name]  # the stopped server's own waiter was let go


async def test_a_starting_server_leaves_alone_a_job_another_follows_and_adopts_it_when_asked(
    make_slow: Any, slow_backend: Backend, store: TaskStore, caplog: pytest.LogCaptureFixture
) -> None:
    """r1 follows an MCP task (2025-11-25 form). r2 starts meanwhile and resumes nothing; r1 stops (clean):
    nobody polls the orphan until a client asks r2 about it: tasks/get there adopts it, and tasks/result
    there gets the video."""
    caplog.set_level(logging.INFO, logger="imini_mcp.mcp.lifespan")
    async with anyio.create_task_group() as tg:
        r1 = await start_instance(tg, make_slow, "r1", mode="legacy")
        created = await raw(r1.c, "tools/call", {"name": "generate_video", "arguments": PROMPT, "task": {}})
        task_id = created["task"]["taskId"]
        assert await holder_of(store, task_id) == "r1"
        caplog.clear()
        r2 = await start_instance(tg, make_slow, "r2", mode="legacy")
        assert "0 background job(s) resumed" in caplog.text
        await anyio.sleep(0.3)
        assert await holder_of(store, task_id) == "r1"  # r2 did not take it
        await r1.stop()
        assert await anyio.to_thread.run_sync(store.poll_lease, "", task_id) is None
        orphaned = slow_backend.polls(task_id)
        await anyio.sleep(0.5)  # 25 simulated seconds: a poller would have polled twice or more
        assert slow_backend.polls(task_id) == orphaned
        got = await raw(r2.c, "tasks/get", {"taskId": task_id})
        assert got["status"] == "working"
        assert await holder_of(store, task_id) == "r2"
        with anyio.fail_after(30):
            result = await raw(r2.c, "tasks/result", {"taskId": task_id})
        await r2.stop()
    assert result["structuredContent"]["task"]["status"] == "succeeded"
    assert slow_backend.polls(task_id) > orphaned


async def test_a_cancel_on_one_server_stops_the_poller_on_another(
    make_slow: Any, slow_backend: Backend, store: TaskStore
) -> None:
    """r1 follows an MCP task; tasks/cancel arrives at r2: r1 stops polling it at once (the stored cancel
    wakes it through the store's watcher) and releases the lease; both servers call the task cancelled."""
    async with anyio.create_task_group() as tg:
        r1 = await start_instance(tg, make_slow, "r1", mode="legacy")
        r2 = await start_instance(tg, make_slow, "r2", mode="legacy")
        created = await raw(r1.c, "tools/call", {"name": "generate_video", "arguments": PROMPT, "task": {}})
        task_id = created["task"]["taskId"]
        assert await holder_of(store, task_id) == "r1"
        await anyio.sleep(0.3)
        cancelled = await raw(r2.c, "tasks/cancel", {"taskId": task_id})
        with anyio.fail_after(5):
            while await anyio.to_thread.run_sync(store.poll_lease, "", task_id) is not None:
                await anyio.sleep(0.02)
        stopped = slow_backend.polls(task_id)
        await anyio.sleep(1.0)  # 50 simulated seconds: a poller would have polled several times
        after = slow_backend.polls(task_id)
        seen = [await raw(r.c, "tasks/get", {"taskId": task_id}) for r in (r1, r2)]
        await r1.stop()
        await r2.stop()
    assert cancelled["status"] == "cancelled"
    assert after == stopped, f"r1 kept polling after the cancel: {stopped} → {after}"
    assert [s["status"] for s in seen] == ["cancelled", "cancelled"]


async def test_modern_tasks_get_on_a_server_that_did_not_submit_inlines_the_result(
    make: Any, backend: Backend
) -> None:
    """A 2026-07-28 task created on r1 is followed to its result through tasks/get on r2 and r3."""
    names = ["r1", "r2", "r3"]
    async with running(make, names, extensions=[TasksClientExtension()]) as (r1, r2, r3):
        handle = await r1.c.session.call_tool("generate_video", PROMPT, allow_claimed=True)
        task_id = handle.task_id
        with anyio.fail_after(30):
            while (task := await get_task(r2.c, task_id)).status == "working":
                await anyio.sleep(0.05)
        on_r3 = await get_task(r3.c, task_id)
    assert task.status == on_r3.status == "completed"
    assert task.result is not None
    assert task.result["structuredContent"]["task"]["status"] == "succeeded"
    assert backend.submits == 1
