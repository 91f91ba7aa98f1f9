"""Several imini-mcp servers sharing one store, for the fleet tests: in this process (each with its own
lifespan: task group, poll leases, watcher) or as real `imini-mcp --transport streamable-http` processes
that can be SIGKILLed or SIGSTOPped. A counting proxy in front of the simulated imini tells whose GETs
were whose."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from anyio.abc import TaskStatus
from mcp import Client
from mcp.server.mcpserver import MCPServer
from starlette.types import Receive, Scope, Send

from imini_mcp.store import TaskStore, open_store
from tests.conftest import FAKE_KEY
from tests.processes import free_port

STORES = ["sqlite", "postgres"]


def store_overrides(kind: str, request: Any) -> dict[str, Any]:
    """Settings that put the servers on one store: the test's SQLite journal, or a fresh PostgreSQL db."""
    if kind == "postgres":
        return {"database_url": request.getfixturevalue("pg_url")}
    return {}


def open_shared_store(settings: Any) -> TaskStore:
    return open_store(journal_path=settings.journal_path, database_url=settings.database_url_value())


# ---------------------------------------------------------------------------------------------------
# In this process


@dataclass
class Instance:
    """One server with its own lifespan, reached by an in-memory client; `stop()` ends that lifespan
    (a clean stop: its poll leases are released)."""

    name: str
    server: MCPServer
    mode: str = "auto"
    extensions: list[Any] = field(default_factory=list)
    client: Client | None = None
    _stop: anyio.Event = field(default_factory=anyio.Event)
    stopped: anyio.Event = field(default_factory=anyio.Event)

    async def run(self, *, task_status: TaskStatus[None]) -> None:
        try:
            async with Client(self.server, mode=self.mode, extensions=self.extensions) as client:  # type: ignore[arg-type]
                self.client = client
                task_status.started()
                await self._stop.wait()
        finally:
            self.client = None
            self.stopped.set()

    async def stop(self) -> None:
        self._stop.set()
        await self.stopped.wait()

    @property
    def c(self) -> Client:
        assert self.client is not None, f"{self.name} is not running"
        return self.client


@asynccontextmanager
async def running(
    make: Callable[[str], MCPServer], names: list[str], **kwargs: Any
) -> AsyncIterator[list[Instance]]:
    """Start one `Instance` per name (`make(name)` builds its server), in order; stop them all at the end."""
    async with anyio.create_task_group() as tg:
        started = []
        for name in names:
            instance = Instance(name, make(name), **kwargs)
            await tg.start(instance.run)
            started.append(instance)
        try:
            yield started
        finally:
            for instance in started:
                instance._stop.set()


async def start_instance(tg: Any, make: Callable[[str], MCPServer], name: str, **kwargs: Any) -> Instance:
    instance = Instance(name, make(name), **kwargs)
    await tg.start(instance.run)
    return instance


# ---------------------------------------------------------------------------------------------------
# A counting proxy: one per replica, so the simulator's GETs can be told apart


class CountingProxy:
    """ASGI: forwards every request to ``target`` and counts the task polls (GET …/tasks/<id>) it passed."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.polls: Counter[str] = Counter()
        self.poll_times: list[tuple[float, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in (b"host", b"content-length")]
        query = scope.get("query_string", b"").decode()
        url = self.target + scope["path"] + (f"?{query}" if query else "")
        async with httpx2.AsyncClient(timeout=60) as http:
            answer = await http.request(scope["method"], url, headers=headers, content=body)
        if scope["method"] == "GET" and "/v1/videos/tasks/" in scope["path"]:
            task_id = scope["path"].rsplit("/", 1)[-1]
            self.polls[task_id] += 1
            self.poll_times.append((time.monotonic(), task_id))
        drop = {"content-length", "transfer-encoding", "content-encoding", "connection"}
        out = [(k.encode(), v.encode()) for k, v in answer.headers.items() if k.lower() not in drop]
        out.append((b"content-length", str(len(answer.content)).encode()))
        await send({"type": "http.response.start", "status": answer.status_code, "headers": out})
        await send({"type": "http.response.body", "body": answer.content})


# ---------------------------------------------------------------------------------------------------
# Real processes


@dataclass
class ReplicaProcess:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def alive(self) -> bool:
        return self.process.poll() is None


def replica_env(tmp: Path, imini_url: str, **settings: str) -> dict[str, str]:
    """The environment of a replica: only IMINI_* settings (and PATH), pointed at ``imini_url``."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("IMINI_")}
    return env | {
        "HOME": str(tmp),
        "IMINI_API_KEY": FAKE_KEY,
        "IMINI_BASE_URL": imini_url,
        "IMINI_TRANSPORT": "streamable-http",
        "IMINI_LOG_LEVEL": "INFO",
        "IMINI_OUTPUT_MODE": "url",
        "IMINI_DEFAULT_WAIT_SECONDS": "0",
        "IMINI_READ_TIMEOUT": "10",
        "IMINI_SECRET_KEY": "replica-test-secret-" + "ab" * 16,
        **{f"IMINI_{k.upper()}": v for k, v in settings.items()},
    }


@asynccontextmanager
async def replica_process(name: str, tmp: Path, env: dict[str, str]) -> AsyncIterator[ReplicaProcess]:
    """`imini-mcp` on a free port, up (/healthz 200) before it is yielded; stopped (or reaped) at the end.
    Waits without blocking the event loop: the simulated imini may be serving in it."""
    port = free_port()
    log = tmp / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "imini_mcp", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    replica = ReplicaProcess(name, process, port, log)
    try:
        async with httpx2.AsyncClient(timeout=2) as http:
            deadline = time.monotonic() + 40
            while True:
                with suppress(httpx2.TransportError):
                    if (await http.get(f"{replica.base}/healthz")).status_code == 200:
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not come up:\n{log.read_text(errors='replace')[-3000:]}")
                await anyio.sleep(0.05)
        yield replica
    finally:
        if process.poll() is None:
            with suppress(ProcessLookupError):
                process.send_signal(signal.SIGCONT)
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def pid_of(poller: str) -> int:
    """The process id in a poller name (host:pid:random)."""
    return int(poller.split(":")[-2])
