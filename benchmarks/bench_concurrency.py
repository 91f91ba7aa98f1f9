"""4. Concurrent waiters over streamable HTTP: 1, 10, 100, 200 sessions waiting on distinct tasks / one task.

Topology (all loopback): a `python -m imini_mcp.simulator` process (its ledger counts every upstream
request), an `imini-mcp --transport streamable-http` process pointed at it with a real key setting, and
the SDK clients (`mcp.Client` over `streamable_http_client` with an httpx2 client) in this process.
Each scenario gets a fresh server; its peak RSS (VmHWM, reset when the clients start) and CPU time
(utime + stime) are read from /proc, so they belong to that scenario alone. Simulated tasks take 1 s
queued + 3 s processing; the server polls on its real schedule (2 s, then ×1.5), so a waiter learns
of success about 5 s after the submit.
Wall time for N waiters is compared with the 1-waiter wall (how waiting scales).

Baseline: the same number of sessions, each doing only `tools/list`, against a fresh server too.
"""

from __future__ import annotations

import math
import random
import resource
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
from harness import (
    BIN,
    Row,
    bench_env,
    bench_main,
    cpu_seconds,
    free_port,
    http_json,
    mib,
    peak_rss_bytes,
    progress,
    reset_peak_rss,
    rss_bytes,
    running,
    simulator,
    temp_dir,
    wait_http,
)
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from imini_mcp.imini import PollSchedule

BENCH = "4 HTTP waiters"
QUEUED, PROCESSING = 1.0, 3.0


@dataclass
class Measured:
    ok: int
    wall: float
    cpu: float
    rss_growth: int  # peak RSS during the scenario − RSS before it
    client_cpu: float = 0.0  # this process: the SDK clients share the machine's 2 cores with the server
    submits: int = 0
    polls: int = 0


@contextmanager
def _server(root: Path, sim_url: str, name: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = bench_env(
        IMINI_BASE_URL=sim_url,
        IMINI_API_KEY="bench-key",
        IMINI_JOURNAL_PATH=str(root / name / "journal.sqlite3"),
        IMINI_LOG_LEVEL="WARNING",
        IMINI_DEFAULT_WAIT_SECONDS="0",
        IMINI_MAX_WAIT_SECONDS="120",
    )
    cmd = [str(BIN / "imini-mcp"), "--transport", "streamable-http", "--port", str(port)]
    with running(cmd, log=root / "servers.log", env=env, cwd=root, grace=20) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/healthz", proc=proc)
        yield base, proc.pid


@asynccontextmanager
async def _client(base: str) -> Any:
    http = httpx2.AsyncClient(timeout=httpx2.Timeout(30.0, read=300.0))
    async with http, Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:  # type: ignore[arg-type]
        yield client


async def _progress(progress: float, total: float | None, message: str | None) -> None:
    return None  # asked for, so the server sends progress notifications as a real client would see


def _workload(kind: str, base: str, task_id: str | None) -> Callable[[], Awaitable[bool]]:
    async def session() -> bool:
        async with _client(base) as client:
            if kind == "list":
                return "generate_video" in {tool.name for tool in (await client.list_tools()).tools}
            if kind == "distinct":
                result = await client.call_tool(
                    "generate_video",
                    {"prompt": "a paper boat on a rainy street", "wait_seconds": 60},
                    progress_callback=_progress,
                )
                task = (result.structured_content or {}).get("task") or {}
                return not result.is_error and task.get("status") == "succeeded"
            result = await client.call_tool(
                "get_task", {"task_id": task_id, "wait_seconds": 60}, progress_callback=_progress
            )
            return not result.is_error and (result.structured_content or {}).get("status") == "succeeded"

    return session


async def _submit_one(base: str) -> str:
    async with _client(base) as client:
        result = await client.call_tool("generate_video", {"prompt": "one shared task", "wait_seconds": 0})
        return str((result.structured_content or {})["task"]["task_id"])


def _scenario(kind: str, n: int, root: Path, sim_url: str) -> Measured:
    origin = sim_url.removesuffix("/imini/router")
    with _server(root, sim_url, f"{kind}-{n}") as (base, pid):
        http_json("POST", f"{origin}/_simulator/reset")
        task_id = anyio.run(_submit_one, base) if kind == "one" else None
        reset_peak_rss(pid)
        cpu0, rss0 = cpu_seconds(pid), rss_bytes(pid)
        session = _workload(kind, base, task_id)
        results: list[bool] = []

        async def one() -> None:
            try:
                results.append(await session())
            except Exception as exc:  # counted as a failure; the first few are shown
                results.append(False)
                if results.count(False) <= 3:
                    progress(f"{kind} session failed: {type(exc).__name__}: {exc}")

        async def all_sessions() -> None:
            async with anyio.create_task_group() as tg:
                for _ in range(n):
                    tg.start_soon(one)

        own = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        anyio.run(all_sessions)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        client_cpu = (after.ru_utime - own.ru_utime) + (after.ru_stime - own.ru_stime)
        cpu = cpu_seconds(pid) - cpu0
        growth = peak_rss_bytes(pid) - rss0
        ledger = http_json("GET", f"{origin}/_simulator/ledger")
    entries = ledger["entries"]
    return Measured(
        ok=sum(results),
        wall=wall,
        cpu=cpu,
        rss_growth=growth,
        client_cpu=client_cpu,
        submits=sum(1 for e in entries if e["kind"] == "submit"),
        polls=sum(1 for e in entries if e["kind"] == "poll"),
    )


def _ratio(value: float, base: float) -> float | None:
    return value / base if base > 0 else None


def run(quick: bool) -> list[Row]:
    sizes = [10] if quick else [1, 10, 100, 200]
    queued, processing = (0.2, 0.8) if quick else (QUEUED, PROCESSING)
    rows: list[Row] = []
    single: dict[str, float] = {}  # kind → wall time of 1 waiter: how waiting scales with N
    with (
        temp_dir("bench-http-") as root,
        simulator(root / "simulator.log", queued=queued, processing=processing) as (sim_url, _),
    ):
        for n in sizes:
            base = _scenario("list", n, root, sim_url)
            progress(f"{n} sessions: tools/list {base.wall:.1f} s")
            rows.append(
                Row(
                    BENCH,
                    f"{n} session{'s' if n > 1 else ''}, tools/list only (baseline)",
                    f"{base.ok}/{n} ok in {base.wall:.2f} s",
                    note=f"server CPU {base.cpu:.2f} s, peak RSS +{mib(base.rss_growth)}; "
                    f"clients' CPU {base.client_cpu:.2f} s",
                )
            )
            per_task = 0.0
            for kind, label in (("distinct", "distinct tasks"), ("one", "one task")):
                m = _scenario(kind, n, root, sim_url)
                progress(f"{n} waiters on {label}: {m.ok}/{n} ok in {m.wall:.1f} s, {m.polls} GETs")
                if kind == "distinct":
                    per_task = m.polls / max(m.submits, 1)
                    gets = f"{per_task:.1f} GETs/task ({m.submits} submits)"
                    goal, ok = "all succeed", m.ok == n
                else:
                    # One shared poll loop: no more GETs than a single task costs, whatever N.
                    limit = math.ceil(per_task) + 1
                    gets = f"{m.polls} GETs in all"
                    goal, ok = f"all succeed, ≤ {limit} GETs", m.ok == n and m.polls <= limit
                single.setdefault(kind, m.wall)
                rows.append(
                    Row(
                        BENCH,
                        f"{n} waiter{'s' if n > 1 else ''}, {label}",
                        f"{m.ok}/{n} ok in {m.wall:.2f} s; {gets}",
                        f"1 waiter: {single[kind]:.2f} s" if n > 1 and n != sizes[0] else "",
                        _ratio(m.wall, single[kind]) if n != sizes[0] else None,
                        goal,
                        ok,
                        f"a {queued + processing:g} s task is seen done at the ~{_seen_at(queued + processing):g} s poll; "
                        f"clients' CPU {m.client_cpu:.2f} s",
                    )
                )
                rows.append(
                    Row(
                        BENCH,
                        f"{n} waiter{'s' if n > 1 else ''}, {label}: server CPU",
                        f"{m.cpu:.2f} s",
                        f"{base.cpu:.2f} s",
                        _ratio(m.cpu, base.cpu),
                        note=f"{m.cpu / n * 1000:.1f} ms per waiter; baseline = {n} tools/list sessions",
                    )
                )
                rows.append(
                    Row(
                        BENCH,
                        f"{n} waiter{'s' if n > 1 else ''}, {label}: server peak RSS growth",
                        mib(m.rss_growth),
                        mib(base.rss_growth),
                        _ratio(m.rss_growth, base.rss_growth),
                        note=f"{m.rss_growth / n / 1024:.0f} KiB per waiter",
                    )
                )
    return rows


def _seen_at(duration: float) -> float:
    """When the default schedule's first poll at or after `duration` happens (no jitter)."""
    t, interval = 0.0, None
    schedule = PollSchedule(jitter=0)
    rng = random.Random(0)
    while t < duration:
        interval = schedule.next_delay(interval, t, rng)
        t += interval
    return t


if __name__ == "__main__":
    bench_main(run)
