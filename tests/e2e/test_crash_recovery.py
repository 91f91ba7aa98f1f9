"""Crash recovery: imini-mcp killed with SIGKILL at the worst moments, restarted on the same journal, loses nothing.

The server runs as a real process (``python -m imini_mcp`` over stdio, and once over streamable HTTP) against a
simulated imini served from this test process, wrapped in a small ASGI "choke" that can see requests arrive,
hold back a submit's answer after the task was created, and slow a download down. Kill points:

* **submit sent, not yet accepted**: a submit ``delay`` fault holds the request *before* imini creates the task
  (the simulator sleeps first, and creates nothing once the client is gone);
* **submit accepted, answer pending**: the task exists at imini (it is billed) but its id never left;
* **mid-wait**: ``get_task`` with ``wait_seconds``, once the wait has polled imini;
* **mid-download**: output mode ``file``, a large video streamed slowly, killed halfway.

After each kill the server is started again on the same journal, and:

* every task imini issued an id for is in ``list_tasks`` and resumable (``get_task`` → ``succeeded``);
* an interrupted submit is journalled (not lost) as an unknown outcome, and is not resubmitted — neither on
  restart nor when the caller repeats the call with the same ``idempotency_key``;
* no partial file sits at a final path in the output folder, and the next ``get_task`` saves the verified file.

Every server runs with ``IMINI_API_KEY`` set to the recognisable fake key and DEBUG logging; its stderr and
its journal are checked for the key (stdio and HTTP alike), and the last test shows that the suite-wide secret
scan (``tests/secret_scan.py``) really catches a leak.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imini_mcp.simulator import Fault, Simulator, SimulatorConfig, serve_simulator
from tests.conftest import FAKE_KEY
from tests.processes import free_port
from tests.secret_scan import LogScanner, SecretScan, scanning

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the stdio server's pid in /proc"),
]

RUNS = 3  # each kill point, this many times
VIDEO_SIZE = 8 * 1024 * 1024  # bytes of the synthetic video the mid-download point streams slowly
THROTTLE = 0.004  # seconds per 64 KiB chunk while a download is slowed: ~16 MB/s, so the kill lands mid-file
PROMPT = "a lighthouse keeper climbing the stairs at dusk"


# ---------------------------------------------------------------------------------------------------
# The simulated imini, choked


class Choke:
    """ASGI wrapper around the simulator: notices arrivals, can swallow submit answers and slow downloads."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.submit_arrived = anyio.Event()
        self.hold_submit_answers = False
        self.answer_held = anyio.Event()  # a submit was processed (task created) and its answer swallowed
        self.slow_downloads = False
        self.video_bytes_sent = 0
        self.video_halfway = anyio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.endswith("/v1/videos/generate"):
            self.submit_arrived.set()
            if self.hold_submit_answers:
                await self._swallow_answer(scope, receive)
                return
        if scope["type"] == "http" and path.startswith("/files/") and path.endswith(".mp4"):
            await self.app(scope, receive, self._metered(send))
            return
        await self.app(scope, receive, send)

    async def _swallow_answer(self, scope: Scope, receive: Receive) -> None:
        async def swallow(message: Message) -> None:
            pass

        await self.app(scope, receive, swallow)  # the simulator creates the task and "answers"...
        self.answer_held.set()
        while (await receive())["type"] != "http.disconnect":  # ...into the void, until the client dies
            pass

    def _metered(self, send: Send) -> Send:
        async def metered(message: Message) -> None:
            if message["type"] == "http.response.body":
                self.video_bytes_sent += len(message.get("body", b""))
                if self.video_bytes_sent >= VIDEO_SIZE // 2:
                    self.video_halfway.set()
                if self.slow_downloads:
                    await anyio.sleep(THROTTLE)
            await send(message)

        return metered


@dataclass
class Imini:
    sim: Simulator
    choke: Choke
    url: str

    @property
    def submits(self) -> int:
        return self.sim.ledger.submits_received

    def polls(self) -> int:
        return self.sim.ledger.count("poll")


@asynccontextmanager
async def simulated_imini(
    queued: float, processing: float, video_size: int | None = None
) -> AsyncIterator[Imini]:
    sim = Simulator(
        SimulatorConfig(
            api_key=FAKE_KEY, queued_seconds=queued, processing_seconds=processing, video_size=video_size
        )
    )
    choke = Choke(sim.app)
    sim.app = choke  # type: ignore[assignment]  # serve_simulator serves whatever sim.app is
    async with serve_simulator(sim) as url:
        yield Imini(sim, choke, url)


# ---------------------------------------------------------------------------------------------------
# The server, as a process that can be killed


def _server_env(imini: Imini, tmp: Path, **extra: str) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("IMINI_")}
    return (
        inherited
        | {
            "IMINI_API_KEY": FAKE_KEY,
            "IMINI_BASE_URL": imini.url,
            "IMINI_JOURNAL_PATH": str(tmp / "journal.sqlite3"),
            "IMINI_OUTPUT_DIR": str(tmp / "videos"),
            "IMINI_DEFAULT_WAIT_SECONDS": "0",
            "IMINI_LOG_LEVEL": "DEBUG",
            "HOME": str(tmp),
        }
        | extra
    )


def _children_running(module: str) -> list[int]:
    """Pids of this process's live children started as ``python -m <module>``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields_after_name = stat.rsplit(")", 1)[1].split()
        state, ppid = fields_after_name[0], int(fields_after_name[1])
        if ppid == os.getpid() and state != "Z" and b"-m" in argv and module.encode() in argv:
            found.append(int(entry.name))
    return found


@dataclass
class Servers:
    """Starts imini-mcp processes on one journal; collects each one's stderr for the secret scan."""

    imini: Imini
    tmp: Path
    stderr_files: list[Path] = field(default_factory=list)

    @asynccontextmanager
    async def stdio(self, **env: str) -> AsyncIterator[tuple[Client, Callable[[], None]]]:
        """A stdio server and a function that SIGKILLs it."""
        errlog = self.tmp / f"stdio-{len(self.stderr_files)}.stderr"
        self.stderr_files.append(errlog)
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "imini_mcp"],
            env=_server_env(self.imini, self.tmp, **env),
            cwd=self.tmp,
        )
        before = set(_children_running("imini_mcp"))
        with errlog.open("w") as err:
            async with Client(stdio_client(params, errlog=err)) as client:
                (pid,) = set(_children_running("imini_mcp")) - before

                def kill() -> None:
                    os.kill(pid, signal.SIGKILL)

                yield client, kill

    @asynccontextmanager
    async def http(self, **env: str) -> AsyncIterator[tuple[Client, Callable[[], None]]]:
        """A streamable-HTTP server process and a function that SIGKILLs it."""
        errlog = self.tmp / f"http-{len(self.stderr_files)}.stderr"
        self.stderr_files.append(errlog)
        port = free_port()
        command = [sys.executable, "-m", "imini_mcp", "--transport", "streamable-http", "--port", str(port)]
        with errlog.open("w") as err:
            process = subprocess.Popen(
                command, env=_server_env(self.imini, self.tmp, **env), cwd=self.tmp, stderr=err
            )
            killed = False

            def kill() -> None:
                nonlocal killed
                killed = True
                process.kill()

            try:
                base = f"http://127.0.0.1:{port}"
                await _until_healthy(base, process)
                async with Client(f"{base}/mcp") as client:
                    yield client, kill
            except BaseException as exc:
                # The SDK's HTTP client re-raises the dropped connection when it closes; after a kill that is
                # the expected end, anything else is not.
                if not (killed and _only_dropped_connections(exc)):
                    raise
            finally:
                if process.poll() is None:
                    process.kill()
                process.wait(timeout=30)


def _only_dropped_connections(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_dropped_connections(e) for e in exc.exceptions)
    return isinstance(
        exc, httpx2.TransportError | MCPError | anyio.ClosedResourceError | anyio.BrokenResourceError
    )


async def _until_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx2.AsyncClient() as http:
        with anyio.fail_after(30):
            while True:
                try:
                    if (await http.get(f"{base}/healthz")).status_code == 200:
                        return
                except httpx2.TransportError:
                    assert process.poll() is None, "the HTTP server exited at start"
                    await anyio.sleep(0.05)


async def _call_until_killed(client: Client, name: str, arguments: dict[str, Any]) -> None:
    """A tool call that the kill interrupts: the client sees the connection close."""
    try:
        result = await client.call_tool(name, arguments)
    except (MCPError, OSError, httpx2.HTTPError, anyio.ClosedResourceError, anyio.BrokenResourceError):
        return
    raise AssertionError(f"{name} answered although the server was killed first: {result}")


async def _until(condition: Callable[[], bool], what: str, within: float = 20) -> None:
    with anyio.move_on_after(within):
        while not condition():
            await anyio.sleep(0.01)
    assert condition(), f"gave up after {within:g} s waiting until {what}"


def _listing(result: Any) -> list[dict[str, Any]]:
    assert not result.is_error, result.content[0].text
    return result.structured_content["tasks"]  # type: ignore[no-any-return]


def _no_key_anywhere(servers: Servers, secret_scan: SecretScan) -> None:
    for path in servers.stderr_files:
        text = path.read_text(errors="replace")
        assert "ready" in text, f"{path.name} has no log lines: the scan would prove nothing"
        secret_scan.scan(text, f"stderr of {path.name}")
        assert FAKE_KEY not in text, f"the API key is in {path.name}"
    for path in servers.tmp.glob("journal.sqlite3*"):
        assert FAKE_KEY.encode() not in path.read_bytes(), f"the API key is in {path.name}"


@pytest.fixture
async def servers_for(tmp_path: Path, secret_scan: SecretScan) -> AsyncIterator[Callable[..., Any]]:
    """``servers_for(queued, processing, video_size)`` → a simulated imini and the server processes on it."""
    async with AsyncExitStack() as stack:
        made: list[Servers] = []

        async def make(queued: float, processing: float, video_size: int | None = None) -> Servers:
            imini = await stack.enter_async_context(simulated_imini(queued, processing, video_size))
            made.append(Servers(imini, tmp_path))
            return made[-1]

        yield make
    for servers in made:
        _no_key_anywhere(servers, secret_scan)


# ---------------------------------------------------------------------------------------------------
# Kill points

RUN_IDS = [f"run {n} of {RUNS}" for n in range(1, RUNS + 1)]


@pytest.mark.parametrize("run", RUN_IDS)
async def test_killed_after_imini_accepted_the_submit_the_entry_survives_and_nothing_is_resubmitted(
    servers_for: Any, run: str
) -> None:
    servers = await servers_for(queued=0.2, processing=0.5)
    imini = servers.imini
    imini.choke.hold_submit_answers = True
    call = {"prompt": PROMPT, "idempotency_key": "crash-after-accept"}
    async with servers.stdio() as (client, kill), anyio.create_task_group() as tg:
        tg.start_soon(_call_until_killed, client, "generate_video", call)
        await _until(imini.choke.answer_held.is_set, "the submit reached imini and the task was created")
        kill()
    assert len(imini.sim.ledger.tasks_created) == 1  # billed at imini; its id never reached the server
    await _assert_interrupted_submit_is_kept_not_resubmitted(servers, call)


@pytest.mark.parametrize("run", RUN_IDS)
async def test_killed_while_the_submit_was_in_flight_the_entry_survives_and_nothing_is_resubmitted(
    servers_for: Any, run: str
) -> None:
    servers = await servers_for(queued=0.2, processing=0.5)
    imini = servers.imini
    imini.sim.add_fault(Fault("submit", "delay", seconds=0.5))  # before the simulator creates anything
    call = {"prompt": PROMPT, "idempotency_key": "crash-in-flight"}
    async with servers.stdio() as (client, kill), anyio.create_task_group() as tg:
        tg.start_soon(_call_until_killed, client, "generate_video", call)
        await _until(imini.choke.submit_arrived.is_set, "the submit reached imini")
        kill()
    await _until(lambda: imini.submits == 1, "the delayed submit finished at imini")
    await _assert_interrupted_submit_is_kept_not_resubmitted(servers, call)


async def _assert_interrupted_submit_is_kept_not_resubmitted(servers: Servers, call: dict[str, Any]) -> None:
    async with servers.stdio() as (client, _):
        entries = _listing(await client.call_tool("list_tasks", {}))
        again = await client.call_tool("generate_video", call)  # the caller retries with the same key
        await anyio.sleep(0.3)  # room for any (wrong) background resubmit
    assert len(entries) == 1
    (entry,) = entries
    assert entry["task_id"] is None
    assert entry["state"] in ("submitting", "outcome_unknown")
    assert "Outcome unknown" in entry["next_step"]
    assert "resubmit" in entry["next_step"]
    assert again.is_error
    assert "nothing was submitted again" in again.content[0].text
    assert servers.imini.submits == 1


async def test_after_a_restart_an_interrupted_submit_is_listed_as_outcome_unknown(servers_for: Any) -> None:
    servers = await servers_for(queued=0.2, processing=0.5)
    servers.imini.choke.hold_submit_answers = True
    async with servers.stdio() as (client, kill), anyio.create_task_group() as tg:
        tg.start_soon(_call_until_killed, client, "generate_video", {"prompt": PROMPT})
        await _until(servers.imini.choke.answer_held.is_set, "the task was created")
        kill()
    async with servers.stdio() as (client, _):
        unknown = _listing(await client.call_tool("list_tasks", {"status": "outcome_unknown"}))
    assert [e["state"] for e in unknown] == ["outcome_unknown"]


@pytest.mark.parametrize("run", RUN_IDS)
async def test_killed_mid_wait_the_task_is_listed_and_resumes_to_succeeded(
    servers_for: Any, run: str
) -> None:
    servers = await servers_for(queued=0.3, processing=2.2)
    await _kill_mid_wait_then_resume(servers, servers.stdio)


async def test_an_http_server_killed_mid_wait_loses_nothing_either(servers_for: Any) -> None:
    servers = await servers_for(queued=0.3, processing=2.2)
    await _kill_mid_wait_then_resume(servers, servers.http)


async def _kill_mid_wait_then_resume(servers: Servers, start: Callable[..., Any]) -> None:
    imini = servers.imini
    async with start() as (client, kill):
        submitted = await client.call_tool("generate_video", {"prompt": PROMPT})
        assert not submitted.is_error, submitted.content[0].text
        task_id = submitted.structured_content["task"]["task_id"]
        async with anyio.create_task_group() as tg:
            tg.start_soon(_call_until_killed, client, "get_task", {"task_id": task_id, "wait_seconds": 60})
            await _until(lambda: imini.polls() >= 1, "the wait polled imini once")
            kill()
    async with start() as (client, _):
        listed = _listing(await client.call_tool("list_tasks", {}))
        done = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 60})
    # The journal knew the task as unfinished when the server died (the kill may land before or after the poll's
    # answer is journalled); the restarted server follows it to the end.
    assert [(e["task_id"], e["state"]) for e in listed] == [(task_id, "accepted")]
    assert listed[0]["status"] in ("queued", "processing")
    assert done.structured_content["status"] == "succeeded", done.content[0].text
    assert imini.submits == 1


@pytest.mark.parametrize("run", RUN_IDS)
async def test_killed_mid_download_no_partial_file_is_at_a_final_path_and_the_download_resumes(
    servers_for: Any, run: str
) -> None:
    servers = await servers_for(queued=0.1, processing=0.3, video_size=VIDEO_SIZE)
    imini = servers.imini
    out = servers.tmp / "videos"
    imini.choke.slow_downloads = True
    async with servers.stdio() as (client, kill):
        submitted = await client.call_tool("generate_video", {"prompt": PROMPT, "output": "file"})
        task_id = submitted.structured_content["task"]["task_id"]
        async with anyio.create_task_group() as tg:
            tg.start_soon(_call_until_killed, client, "get_task", {"task_id": task_id, "wait_seconds": 60})
            await _until(imini.choke.video_halfway.is_set, "half the video was sent")
            kill()
    final = out / f"{task_id}.mp4"
    assert not final.exists(), "a partial video sits at the final path"
    assert not [p for p in out.glob("*") if not p.name.startswith(".")], "a visible partial file was left"

    imini.choke.slow_downloads = False
    async with servers.stdio() as (client, _):
        listed = _listing(await client.call_tool("list_tasks", {}))
        done = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 60})
    assert [(e["task_id"], e["status"]) for e in listed] == [(task_id, "succeeded")]
    view = done.structured_content
    assert view["status"] == "succeeded"
    assert view["download_error"] is None, view["download_error"]
    saved = {f["kind"]: f for f in view["files"]}
    assert saved["video"]["path"] == str(final)
    assert final.stat().st_size == VIDEO_SIZE
    with final.open("rb") as fh:
        assert fh.read(8)[4:8] == b"ftyp"
    assert imini.submits == 1


# ---------------------------------------------------------------------------------------------------
# The secret scan itself (tests/secret_scan.py watches every test; here it is shown to catch a leak)


async def test_the_secret_scan_catches_a_key_in_a_log_record_a_progress_message_and_a_result() -> None:
    secret = "another-secret-0123456789"  # not the session's key, so the session scan stays clean
    scan = SecretScan(secret)
    logger = logging.getLogger("tests.secret_scan.self_test")
    handler = LogScanner(scan)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("calling imini with %s", secret)
    finally:
        logger.removeHandler(handler)

    class FakeClient:
        async def call_tool(self, name: str, arguments: Any = None, progress_callback: Any = None) -> Any:
            await progress_callback(1.0, None, f"waiting with key {secret}")
            return SimpleNamespace(model_dump_json=lambda: f'{{"text": "Bearer {secret}"}}')

    async def ignore(progress: float, total: float | None, message: str | None) -> None:
        pass

    call_tool = scanning(scan, FakeClient.call_tool, "tool results")
    await call_tool(FakeClient(), "get_task", {}, progress_callback=ignore)
    assert len(scan.findings) == 3
    assert [f.split(": ")[1].split(" ")[0] for f in scan.findings] == ["log", "progress", "result"]
    assert all("<THE KEY>" in f and secret not in f for f in scan.findings)
    assert "found 3 time(s)" in scan.summary()
