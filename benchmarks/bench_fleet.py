"""7. A fleet: three replicas on one PostgreSQL behind nginx, against the single-process SQLite server.

Topology (all loopback, one run): one `python -m imini_mcp.simulator` (2 s queued + 18 s processing; its ledger
counts every upstream request), then in turn

* **single**: one `imini-mcp --transport streamable-http` on its SQLite journal (the baseline);
* **fleet**: a PostgreSQL 15 server of the benchmark's own (PostgreSQL's default durability: fsync on,
  synchronous_commit on), three `imini-mcp` replicas with IMINI_DATABASE_URL and IMINI_SECRET_KEY, and nginx
  running deploy/nginx.conf (addresses and paths swapped, as in tests/fleet) in front of them. Without nginx
  on the machine the clients spread themselves round robin over the replicas (said in the notes).

The same load on both, all at once: T tasks, each submitted without waiting and then followed by 3 `get_task`
waits (N = 3T concurrent waiters, each its own SDK client, so through nginx the three waits of a task land on
different replicas). Measured: how many
succeed, wall time, upstream GETs per task (the ledger), peak RSS of each server process (VmHWM, reset when the
waits start) and their CPU time.

Then, in-process: a task's three journal writes (begin_submit + mark_accepted + update_status) on
PostgresTaskStore against SqliteTaskStore (synchronous=FULL), interleaved in rounds; and the takeover: the
replica holding a task's poll lease (read from the database) is SIGKILLed while the other two have waiters on
that task, and the time to the first GET by a survivor is read from the ledger (default lease, 10 s).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from bench_journal import _journal_writes
from harness import (
    BIN,
    REPO,
    Row,
    bench_env,
    bench_main,
    cpu_seconds,
    free_port,
    http_json,
    median,
    mib,
    ms,
    peak_rss_bytes,
    progress,
    ratio_row,
    reset_peak_rss,
    running,
    simulator,
    stop_process,
    temp_dir,
    wait_http,
)
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from payloads import DOC_EXAMPLE

from imini_mcp.store import SqliteTaskStore

sys.path.insert(0, str(REPO))  # tests/postgres.py (a server of our own) and tests/fleet/nginx.py (the config)
from tests.fleet.nginx import (
    NGINX_CONF,
    nginx_binary,
    nginx_test,
    prepare_nginx_prefix,
    render_nginx_conf,
)
from tests.postgres import LocalPostgres, _bin_dir, admin, with_database

BENCH = "8 fleet"
QUEUED, PROCESSING = 2.0, 18.0  # a 20 s task: ~5 GETs on the default schedule, so a second poller would show
SECRET_KEY = secrets.token_hex(32)
PER_TASK = 3  # waits per task: through nginx, on three different replicas
TAKEOVER_GOAL = 15.0  # seconds from the SIGKILL to a survivor's first GET, with the default 10 s lease


@dataclass
class Server:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[Any] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "imini-mcp")], env=self.env, cwd=self.log.parent, stderr=log, stdout=log
            )

    def wait_up(self) -> None:
        wait_http(f"{self.base}/healthz", proc=self.process, timeout=60)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=20)


@dataclass
class Measured:
    ok: int
    n: int
    tasks: int
    wall: float
    polls: int
    rss_peak: list[int] = field(default_factory=list)  # per server process
    cpu: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    first_poll_lag: float = float("nan")  # median seconds from a task's submit to its first GET

    @property
    def gets_per_task(self) -> float:
        return self.polls / max(self.tasks, 1)


def _server_env(root: Path, name: str, port: int, sim_url: str, **extra: str) -> dict[str, str]:
    (root / name).mkdir(parents=True, exist_ok=True)
    return bench_env(
        HOME=str(root / name),
        IMINI_TRANSPORT="streamable-http",
        IMINI_PORT=str(port),
        IMINI_BASE_URL=sim_url,
        IMINI_API_KEY="bench-key",
        IMINI_JOURNAL_PATH=str(root / name / "journal.sqlite3"),
        IMINI_OUTPUT_DIR=str(root / name / "videos"),
        IMINI_LOG_LEVEL="WARNING",
        IMINI_DEFAULT_WAIT_SECONDS="0",
        IMINI_MAX_WAIT_SECONDS="120",
        **extra,
    )


@contextlib.contextmanager
def _servers(servers: list[Server]) -> Iterator[list[Server]]:
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_up()
        yield servers
    finally:
        for server in servers:
            server.stop()


@contextlib.contextmanager
def _nginx(root: Path, replicas: list[Server]) -> Iterator[str | None]:
    """nginx with deploy/nginx.conf in front of the replicas; yields its MCP URL (None: no nginx here)."""
    nginx = nginx_binary()
    if nginx is None:
        yield None
        return
    prefix, port = root / "nginx", free_port()
    prepare_nginx_prefix(prefix)
    conf = prefix / "nginx.conf"
    conf.write_text(
        render_nginx_conf(
            NGINX_CONF.read_text(), replicas=[r.port for r in replicas], listen=port, prefix=prefix
        )
    )
    checked = nginx_test(nginx, conf, prefix)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t: {checked.stderr}")
    with running(
        [nginx, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"], log=prefix / "stderr.log"
    ) as proc:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc)
        yield f"http://127.0.0.1:{port}/mcp"


@contextlib.contextmanager
def _postgres() -> Iterator[LocalPostgres]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL server binaries (apt-get install -y postgresql)")
    # run.py's TMPDIR is private to root; the server runs as the postgres user and must reach its folder
    tmp = Path(tempfile.gettempdir())
    tmp.chmod(tmp.stat().st_mode | 0o011)
    server = LocalPostgres(bin_dir, max_connections=100, durable=True)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@asynccontextmanager
async def _client(url: str) -> Any:
    http = httpx2.AsyncClient(timeout=httpx2.Timeout(30.0, read=300.0))
    async with http, Client(streamable_http_client(url, http_client=http)) as client:  # type: ignore[arg-type]
        yield client


async def _progress(progress: float, total: float | None, message: str | None) -> None:
    return None


async def _submit_all(urls: list[str], tasks: int, key: str) -> list[str]:
    ids: list[str] = []

    async def submitter(k: int) -> None:
        async with _client(urls[k % len(urls)]) as client:
            for i in range(k, tasks, 10):
                result = await client.call_tool(
                    "generate_video",
                    {"prompt": f"fleet task {i}", "idempotency_key": f"{key}-{i}", "wait_seconds": 0},
                )
                ids.append(str((result.structured_content or {})["task"]["task_id"]))

    async with anyio.create_task_group() as tg:
        for k in range(min(10, tasks)):
            tg.start_soon(submitter, k)
    return ids


def _load(urls: list[str], sim_origin: str, servers: list[Server], tasks: int, per_task: int) -> Measured:
    """T tasks at once, each submitted without waiting and then followed by ``per_task`` waits at once.

    Every client (one per submit, one per wait) connects first; the measured phase starts when all are
    connected, so a waiter's wait begins right after its task's submit on both sides (how many GETs a task
    costs depends on when its poll loop starts, not only on how many loops there are)."""
    http_json("POST", f"{sim_origin}/_simulator/reset")
    results: list[bool] = []
    failures: list[str] = []
    task_ids: list[str] = []
    run_key = f"load-{time.time_ns()}"
    connected = 0
    go = anyio.Event()
    everyone = anyio.Event()

    def failed(text: str) -> None:
        results.append(False)
        if len(failures) < 3:
            failures.append(text[:200])

    async def wait(client: Client, task_id: str) -> None:
        try:
            result = await client.call_tool(
                "get_task", {"task_id": task_id, "wait_seconds": 90}, progress_callback=_progress
            )
        except Exception as exc:
            failed(f"{type(exc).__name__}: {exc}")
            return
        if not result.is_error and (result.structured_content or {}).get("status") == "succeeded":
            results.append(True)
        else:
            failed(str(result.content[0].text if result.content else result))

    async def task(i: int) -> None:
        nonlocal connected
        async with contextlib.AsyncExitStack() as stack:
            submitter = await stack.enter_async_context(_client(urls[i % len(urls)]))
            waiters = [
                await stack.enter_async_context(_client(urls[(i * per_task + j + 1) % len(urls)]))
                for j in range(per_task)
            ]
            connected += 1
            if connected == tasks:
                everyone.set()
            await go.wait()
            try:
                result = await submitter.call_tool(
                    "generate_video",
                    {"prompt": f"fleet task {i}", "idempotency_key": f"{run_key}-{i}", "wait_seconds": 0},
                )
                task_id = str((result.structured_content or {})["task"]["task_id"])
            except Exception as exc:
                for _ in range(per_task):
                    failed(f"submit: {type(exc).__name__}: {exc}")
                return
            task_ids.append(task_id)
            async with anyio.create_task_group() as tg:
                for client in waiters:
                    tg.start_soon(wait, client, task_id)

    wall = 0.0
    cpu0: list[float] = []

    async def everything() -> None:
        nonlocal wall, cpu0
        async with anyio.create_task_group() as tg:
            for i in range(tasks):
                tg.start_soon(task, i)
            await everyone.wait()
            for server in servers:
                reset_peak_rss(server.pid)
            cpu0 = [cpu_seconds(s.pid) for s in servers]
            started = time.perf_counter()
            go.set()
        wall = time.perf_counter() - started

    anyio.run(everything)
    ledger = http_json("GET", f"{sim_origin}/_simulator/ledger")
    ids = set(task_ids)
    polls = [e for e in ledger["entries"] if e["kind"] == "poll" and e["task_id"] in ids]
    submitted = {e["task_id"]: e["time"] for e in ledger["entries"] if e["kind"] == "submit" and e["task_id"]}
    first: dict[str, float] = {}
    for e in polls:
        first[e["task_id"]] = min(e["time"], first.get(e["task_id"], e["time"]))
    lags = [first[t] - submitted[t] for t in first if t in submitted]
    return Measured(
        ok=sum(results),
        n=tasks * per_task,
        tasks=len(task_ids),
        wall=wall,
        polls=len(polls),
        rss_peak=[peak_rss_bytes(s.pid) for s in servers],
        cpu=[cpu_seconds(s.pid) - c for s, c in zip(servers, cpu0, strict=True)],
        failures=failures,
        first_poll_lag=median(lags) if lags else float("nan"),
    )


def _lease_holder(admin_url: str, task_id: str) -> str | None:
    with admin(admin_url) as conn:
        row = conn.execute(
            "SELECT poller FROM tasks WHERE task_id = %s AND poller IS NOT NULL AND lease_until >= now()",
            (task_id,),
        ).fetchone()
    return None if row is None else str(row[0])


def _takeover(replicas: list[Server], admin_url: str, sim_origin: str) -> float:
    """Seconds from the SIGKILL of a task's lease holder to the first GET of that task by a survivor."""

    async def main() -> float:
        (task_id,) = await _submit_all([f"{replicas[0].base}/mcp"], 1, f"takeover-{time.time_ns()}")
        killed_at: float | None = None

        async def waiter(replica: Server) -> None:
            with contextlib.suppress(Exception):  # the killed replica's waiter loses its stream
                async with _client(f"{replica.base}/mcp") as client:
                    await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 60})

        async with anyio.create_task_group() as tg:
            for replica in replicas:
                tg.start_soon(waiter, replica)
            deadline = time.monotonic() + 15
            holder: Server | None = None
            while holder is None and time.monotonic() < deadline:
                poller = await anyio.to_thread.run_sync(_lease_holder, admin_url, task_id)
                if poller is not None:
                    holder = next((r for r in replicas if f":{r.pid}:" in poller), None)
                await anyio.sleep(0.05)
            if holder is None:
                tg.cancel_scope.cancel()
                raise RuntimeError("no replica claimed the task's poll lease")
            await anyio.sleep(0.3)
            assert holder.process is not None
            holder.process.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            holder.process.wait()
            taken_at: float | None = None
            while taken_at is None and time.monotonic() < killed_at + 60:
                ledger = await anyio.to_thread.run_sync(http_json, "GET", f"{sim_origin}/_simulator/ledger")
                after = [
                    e["time"]
                    for e in ledger["entries"]
                    if e["kind"] == "poll" and e["task_id"] == task_id and e["time"] > killed_at
                ]
                taken_at = min(after) if after else None
                await anyio.sleep(0.1)
            tg.cancel_scope.cancel()
        holder.start()  # back to three for the next round
        holder.wait_up()
        if taken_at is None:
            raise RuntimeError("no survivor polled the task within 60 s")
        return taken_at - killed_at

    return anyio.run(main)


def _journal_rows(pg_url: str, root: Path, writes: int) -> Row:
    from imini_mcp.store.postgres import PostgresTaskStore

    sqlite = SqliteTaskStore(root / "writes.sqlite3")
    postgres = PostgresTaskStore(pg_url)
    try:
        _journal_writes(sqlite, 5, DOC_EXAMPLE, "warm")
        _journal_writes(postgres, 5, DOC_EXAMPLE, "warm")  # type: ignore[arg-type]
        pg_samples: list[float] = []
        sq_samples: list[float] = []
        rounds = 5
        for r in range(rounds):  # interleaved, so a noisy moment hits both
            pg_samples += _journal_writes(postgres, writes // rounds, DOC_EXAMPLE, f"pg{r}")  # type: ignore[arg-type]
            sq_samples += _journal_writes(sqlite, writes // rounds, DOC_EXAMPLE, f"sq{r}")
    finally:
        postgres.close()
        sqlite.close()
    return ratio_row(
        BENCH,
        f"journal write per task: begin_submit + mark_accepted + update_status, PostgreSQL vs SQLite ({writes} tasks)",
        median(pg_samples),
        median(sq_samples),
        ms,
        note="PostgreSQL over loopback TCP, fsync and synchronous_commit on (its defaults); SQLite WAL + synchronous=FULL",
    )


def run(quick: bool) -> list[Row]:
    tasks = 10 if quick else int(os.environ.get("BENCH_FLEET_TASKS", "150"))
    n = PER_TASK * tasks
    rounds = 1 if quick else 3
    queued, processing = (1.0, 3.0) if quick else (QUEUED, PROCESSING)
    rows: list[Row] = []
    with (
        temp_dir("bench-fleet-") as root,
        simulator(root / "simulator.log", queued=queued, processing=processing) as (sim_url, _),
        _postgres() as pg,
    ):
        sim_origin = sim_url.removesuffix("/imini/router")
        with admin(pg.url) as conn:
            conn.execute("CREATE DATABASE imini_bench")
            conn.execute("CREATE DATABASE imini_journal")
        db_url = with_database(pg.url, "imini_bench")

        port = free_port()
        single = Server(
            "single", port, _server_env(root, "single", port, sim_url), root / "single" / "stderr.log"
        )
        with _servers([single]):
            base = _load([f"{single.base}/mcp"], sim_origin, [single], tasks, PER_TASK)
        progress(f"single: {base.ok}/{n} in {base.wall:.1f} s, {base.gets_per_task:.2f} GETs/task")

        replicas = []
        for i in (1, 2, 3):
            port = free_port()
            env = _server_env(
                root, f"r{i}", port, sim_url, IMINI_DATABASE_URL=db_url, IMINI_SECRET_KEY=SECRET_KEY
            )
            replicas.append(Server(f"r{i}", port, env, root / f"r{i}" / "stderr.log"))
        with _servers(replicas), _nginx(root, replicas) as balancer:
            urls = [balancer] if balancer else [f"{r.base}/mcp" for r in replicas]
            fleet = _load(urls, sim_origin, replicas, tasks, PER_TASK)
            progress(f"fleet: {fleet.ok}/{n} in {fleet.wall:.1f} s, {fleet.gets_per_task:.2f} GETs/task")
            takeovers = []
            for r in range(rounds):
                takeovers.append(_takeover(replicas, db_url, sim_origin))
                progress(f"takeover {r + 1}: {takeovers[-1]:.1f} s")
        via = (
            "through nginx (deploy/nginx.conf)"
            if balancer
            else "no nginx here: clients round robin themselves"
        )
        for measured in (base, fleet):
            if measured.failures:
                progress("failures: " + " | ".join(measured.failures))
        rows.append(
            Row(
                BENCH,
                f"{n} waits on {tasks} tasks ({n // tasks} each), fleet of 3 + PostgreSQL vs one SQLite process",
                f"{fleet.ok}/{n} ok in {fleet.wall:.2f} s",
                f"{base.ok}/{n} ok in {base.wall:.2f} s",
                fleet.wall / base.wall,
                "all succeed",
                fleet.ok == n and base.ok == n,
                f"{via}; a {queued + processing:g} s task; the clients share the 2 cores",
            )
        )
        rows.append(
            ratio_row(
                BENCH,
                "upstream GETs per task (3 waits per task, on different replicas in the fleet)",
                fleet.gets_per_task,
                base.gets_per_task,
                lambda v: f"{v:.2f}",
                goal_max=1.1,
                note=f"{fleet.polls} vs {base.polls} GETs for {tasks} tasks; first GET {fleet.first_poll_lag:.1f} s vs "
                f"{base.first_poll_lag:.1f} s after the submit (median): one poll loop per task fleet-wide",
            )
        )
        rows.append(
            ratio_row(
                BENCH,
                "peak RSS per replica (largest of 3) vs the single process",
                max(fleet.rss_peak),
                base.rss_peak[0],
                mib,
                note="replicas: " + ", ".join(mib(b) for b in fleet.rss_peak) + "; VmHWM during the waits",
            )
        )
        rows.append(
            ratio_row(
                BENCH,
                "server CPU, all replicas vs the single process",
                sum(fleet.cpu),
                base.cpu[0],
                lambda v: f"{v:.2f} s",
                note="replicas: " + ", ".join(f"{c:.2f} s" for c in fleet.cpu),
            )
        )
        rows.append(_journal_rows(with_database(pg.url, "imini_journal"), root, 60 if quick else 300))
        worst = max(takeovers)
        rows.append(
            Row(
                BENCH,
                f"takeover after SIGKILL of the lease holder: first GET by a survivor, {rounds} round(s)",
                f"median {median(takeovers):.1f} s, max {worst:.1f} s",
                "",
                None,
                f"≤ {TAKEOVER_GOAL:g} s",
                worst <= TAKEOVER_GOAL,
                "default lease 10 s (IMINI_POLL_LEASE_SECONDS); survivors retry the claim every 2 s",
            )
        )
    return rows


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    bench_main(run)
