"""Two real `imini-mcp --transport streamable-http` processes on one store (an SQLite journal, or PostgreSQL)
and one simulated imini in real time, each replica behind a proxy that counts its GETs: the poller's death
(SIGKILL) hands its task over within 15 s; a frozen poller (SIGSTOP, then SIGCONT once its lease expired)
finds the task taken over and does not poll it again."""

from __future__ import annotations

import signal
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from imini_mcp.settings import Settings
from imini_mcp.simulator import Simulator, SimulatorConfig, serve_simulator
from imini_mcp.store import TaskStore
from tests.conftest import FAKE_KEY
from tests.mcp.test_http import mcp_client, serve_app
from tests.replicas import (
    STORES,
    CountingProxy,
    ReplicaProcess,
    open_shared_store,
    pid_of,
    replica_env,
    replica_process,
    store_overrides,
)

pytestmark = pytest.mark.anyio


@dataclass
class Pair:
    replicas: list[ReplicaProcess]
    proxies: list[CountingProxy]
    store: TaskStore
    sim: Simulator

    def by_poller(self, poller: str) -> int:
        """The index of the replica whose process holds this poller name."""
        pids = [r.process.pid for r in self.replicas]
        return pids.index(pid_of(poller))

    def lease(self, task_id: str) -> str | None:
        lease = self.store.poll_lease("", task_id)
        return None if lease is None else lease.poller


@asynccontextmanager
async def pair(
    tmp_path: Path, shared: dict[str, Any], *, processing: float, **settings: str
) -> AsyncIterator[Pair]:
    """The simulated imini (2 s queued + ``processing`` s), a counting proxy per replica, two replicas."""
    sim = Simulator(SimulatorConfig(api_key=FAKE_KEY, queued_seconds=2, processing_seconds=processing))
    store_settings = Settings(_env_file=None, journal_path=tmp_path / "journal.sqlite3", **shared)  # type: ignore[call-arg]
    if "database_url" in shared:
        settings["database_url"] = shared["database_url"]
    async with AsyncExitStack() as stack:
        sim_url = await stack.enter_async_context(serve_simulator(sim))
        root = sim_url.removesuffix("/imini/router")
        proxies = [CountingProxy(root), CountingProxy(root)]
        replicas = []
        for n, proxy in enumerate(proxies):
            proxy_url = await stack.enter_async_context(serve_app(proxy))
            env = replica_env(
                tmp_path,
                f"{proxy_url}/imini/router",
                journal_path=str(tmp_path / "journal.sqlite3"),
                **settings,
            )
            replicas.append(await stack.enter_async_context(replica_process(f"r{n + 1}", tmp_path, env)))
        store = stack.enter_context(open_shared_store(store_settings))
        yield Pair(replicas, proxies, store, sim)


@pytest.fixture(params=STORES)
def shared(request: pytest.FixtureRequest) -> dict[str, Any]:
    return store_overrides(request.param, request)


async def submit(replica: ReplicaProcess) -> str:
    async with mcp_client(replica.base) as client:
        result = await client.call_tool("generate_video", {"prompt": "a kite", "wait_seconds": 0})
    assert not result.is_error, result.content[0].text
    return str(result.structured_content["task"]["task_id"])


async def wait(replica: ReplicaProcess, task_id: str, out: list[str]) -> None:
    """get_task with a wait; a replica killed under it ends the stream (recorded as "broken")."""
    try:
        async with mcp_client(replica.base) as client:
            result = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 90})
    except Exception as exc:  # MCPError or a transport error: the stream died with the replica
        out.append(f"broken: {type(exc).__name__}")
        return
    out.append(result.structured_content["status"] if not result.is_error else result.content[0].text)


async def lease_holder(p: Pair, task_id: str, *, other_than: str | None = None, within: float = 20) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        poller = await anyio.to_thread.run_sync(p.lease, task_id)
        if poller is not None and poller != other_than:
            return poller
        await anyio.sleep(0.05)
    raise AssertionError(f"no poll lease on {task_id} (other than {other_than}) within {within} s")


async def test_sigkill_of_the_poller_hands_its_task_over_within_15_s(
    tmp_path: Path, shared: dict[str, Any]
) -> None:
    """Default lease (10 s). The replica polling a task is SIGKILLed: the other one, whose waiter follows
    the task, takes the poll over within 15 s, and its waiter gets the video."""
    async with pair(tmp_path, shared, processing=22) as p:
        task_id = await submit(p.replicas[0])
        seen: list[list[str]] = [[], []]
        async with anyio.create_task_group() as tg:
            for n in (0, 1):
                tg.start_soon(wait, p.replicas[n], task_id, seen[n])
            poller = await lease_holder(p, task_id)
            dead = p.by_poller(poller)
            await anyio.sleep(1.0)
            p.replicas[dead].signal(signal.SIGKILL)
            killed_at = time.monotonic()
            new = await lease_holder(p, task_id, other_than=poller)
            takeover = time.monotonic() - killed_at
            survivor = 1 - dead
        first_poll = min(t for t, task in p.proxies[survivor].poll_times if task == task_id and t > killed_at)
    print(
        f"SIGKILL: lease taken over after {takeover:.1f} s, first poll by the survivor {first_poll - killed_at:.1f} s"
    )
    assert p.by_poller(new) == survivor
    assert takeover <= 15
    assert first_poll - killed_at <= 15
    assert seen[survivor] == ["succeeded"]
    assert len(seen[dead]) == 1
    assert seen[dead][0].startswith("broken")


async def test_a_frozen_poller_finds_its_lease_gone_and_does_not_poll_again(
    tmp_path: Path, shared: dict[str, Any]
) -> None:
    """A 3 s lease. The poller is SIGSTOPped right after one of its GETs; the other replica takes over once
    the lease expires; SIGCONT: the frozen one wakes to a lease that is not its own, polls no more, and its
    waiter still gets the video (it follows what the other records)."""
    async with pair(tmp_path, shared, processing=14, poll_lease_seconds="3") as p:
        task_id = await submit(p.replicas[0])
        seen: list[list[str]] = [[], []]
        async with anyio.create_task_group() as tg:
            for n in (0, 1):
                tg.start_soon(wait, p.replicas[n], task_id, seen[n])
            poller = await lease_holder(p, task_id)
            frozen = p.by_poller(poller)
            proxy = p.proxies[frozen]
            with anyio.fail_after(15):  # freeze it after a GET, once recorded: asleep, not mid-poll
                while proxy.polls[task_id] == 0:
                    await anyio.sleep(0.01)
            # (Frozen inside SQLite's write transaction, it would block every writer of the journal, the
            # other replica's claims included, until it wakes: SQLite's lock, not the lease.)
            await anyio.sleep(0.3)
            p.replicas[frozen].signal(signal.SIGSTOP)
            stopped_at = time.monotonic()
            new = await lease_holder(p, task_id, other_than=poller)
            takeover = time.monotonic() - stopped_at
            await anyio.sleep(1.0)
            polls_when_woken = proxy.polls[task_id]
            p.replicas[frozen].signal(signal.SIGCONT)
    print(
        f"SIGSTOP: lease taken over after {takeover:.1f} s; the frozen replica's GETs: {polls_when_woken} "
        f"before, {proxy.polls[task_id]} in all; the other's: {p.proxies[1 - frozen].polls[task_id]}"
    )
    assert p.by_poller(new) == 1 - frozen
    assert proxy.polls[task_id] == polls_when_woken, "the frozen replica polled again after waking"
    assert p.proxies[1 - frozen].polls[task_id] >= 1
    assert seen == [["succeeded"], ["succeeded"]]
