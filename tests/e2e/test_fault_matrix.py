"""Fault-injection matrix: every way imini (or the network) can misbehave, at every step where it can happen.

Each cell injects one scripted fault of the simulated imini — or a refused connection — at one stage:

* ``submit``: ``generate_video`` (the paid POST);
* ``poll``: ``get_task`` reading the task (once with ``wait_seconds: 0``, then waiting through the same
  fault again, which must end with the finished task);
* ``download``: ``get_task`` with ``output: file`` on a finished task (the video and cover GETs).

Whatever the fault, every cell must show that nothing is lost or billed twice:

1. no crash and no opaque error: never the SDK's bare "Error executing tool X", nothing logged as a crash;
2. the backend received exactly the submits the cell expects, and a submit that may have reached imini
   (anything but a 429 or a connection that never opened) was never sent again;
3. every task id imini issued is in the journal (``list_tasks``), and a task imini created without the
   id reaching us is journalled as ``outcome_unknown``;
4. the message names the cause and the next step;
5. downloads leave nothing at a final path unless it is the complete, verified file.

The cells are defined once, in :data:`CELLS`; ``scripts/reliability_table.py`` runs the same cells through
:func:`run_cell` and writes ``docs/reliability.md``.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import anyio
import pytest
from anyio.abc import TaskGroup
from mcp import Client

from imini_mcp.imini import Clock, PollSchedule
from imini_mcp.mcp import build_server
from imini_mcp.settings import Settings
from imini_mcp.simulator import Fault, Simulator, SimulatorConfig, serve_simulator
from tests.conftest import FAKE_KEY, FAST_DOWNLOADS, FAST_RETRY, TIME_SCALE
from tests.processes import free_port

Stage = Literal["submit", "poll", "download"]

READ_ATTEMPTS = FAST_RETRY.read_attempts  # a poll fault this many times in a row defeats the client's retries
DOWNLOAD_ATTEMPTS = FAST_DOWNLOADS.attempts  # per file; a task has two files (video, cover)
SHORT_READ_TIMEOUT = 0.5  # seconds; the "read timeout" cells delay answers beyond it
SLOW_ANSWER = 1.5  # seconds the simulator holds a delayed answer
RETRY_AFTER = 0.25  # seconds, sent as Retry-After by the 429 cells that carry it
OPAQUE = re.compile(r"^Error executing tool [\w-]+\s*[:.]?\s*$")
PROMPT = "a paper boat drifting down a rain gutter"


@dataclass(frozen=True)
class Cell:
    """One fault at one stage, and what the server must make of it."""

    stage: Stage
    fault: str  # the fault, as a reader says it
    outcome: str  # the promised behaviour, in words (it completes the test id)
    faults: Callable[[str | None], list[Fault]] | None = None  # scripted faults (given the task id)
    refused: bool = False  # the connection is refused instead (nothing listens)
    wrong_path: bool = False  # IMINI_BASE_URL has a wrong path: imini's router answers 404
    read_timeout: float | None = None  # a short read timeout for this server (seconds)
    error: bool = True  # the faulted call answers isError
    submits: int = 1  # submits the backend must have received
    state: str = "accepted"  # journal state of the submitted entry afterwards
    cause: tuple[str, ...] = ()  # the message names the cause with these words...
    next_step: tuple[str, ...] = ()  # ...and the next step with these
    recovers: bool = True  # after the fault passes, the task still finishes (and its files are saved)
    waited: tuple[str, ...] = ()  # a wait on a task that does not recover says these words
    seen_first: bool = False  # poll stage: imini has shown the task (a get_task saw it) before the fault
    min_gap: float = 0.0  # seconds the server must leave between requests at this stage (Retry-After)
    task_created_without_id: bool = False  # imini created a task but its id never reached the server
    bug: str | None = None  # a known bug of the package this cell exposes (the test is a strict xfail)

    @property
    def id(self) -> str:
        return f"{self.fault} at {self.stage} {self.outcome}"


@dataclass
class Observation:
    """What a cell run saw. ``problems`` lists every broken promise (empty when the cell holds)."""

    cell: Cell
    is_error: bool = False
    text: str = ""  # the faulted call's text (for downloads: the task text with download_error)
    submits: int = 0
    tasks_created: list[str] = field(default_factory=list)
    ids_issued: list[str] = field(default_factory=list)  # task ids imini's answers carried
    journal: list[dict[str, Any]] = field(default_factory=list)  # list_tasks entries afterwards
    recovered: str = "n/a"  # what happened once the fault had passed
    gaps: list[float] = field(default_factory=list)  # seconds between consecutive requests of the stage
    crash_logs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def task_ids_kept(self) -> bool:
        journalled = {e["task_id"] for e in self.journal}
        return set(self.ids_issued) <= journalled

    @property
    def excerpt(self) -> str:
        """The message in short: the cause and the next step (or the task line and what to do next)."""
        text = re.sub(r"^Error executing tool [\w-]+: ", "", self.text.strip())
        lines = text.splitlines()
        if any(line.startswith("Download failed:") for line in lines):
            failed = next(line for line in lines if line.startswith("Download failed:"))
            failed = re.sub(r" from https?://\S+?\.(mp4|jpg)", "", failed).partition(" Next step:")[0]
            step = next(line for line in lines if line.startswith("Next:"))
            step = step.partition("Saving a file failed")[2]
            return f"{_shorten(failed, 150)} Next: saving a file failed{_shorten(step, 110)}"
        if lines and lines[0].startswith(("Submitted to imini", "Task ")):  # a task answer: status and next
            lines = [line for line in lines if line.startswith(("Task ", "Next:"))]
        flat = " ".join(" ".join(lines).split())
        if "Next step:" in flat:
            cause, _, step = flat.partition("Next step:")
            return f"{_shorten(cause.strip(), 150)} Next step: {_shorten(step.strip(), 110)}"
        return _shorten(flat, 220)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------------------------------------------
# The cells


def _status(status: int, *, times: int = 1, retry_after: float | None = None, target: str = "submit") -> Any:
    def make(task_id: str | None) -> list[Fault]:
        tid = None if target == "submit" else task_id
        return [Fault(target, "status", status=status, retry_after=retry_after, times=times, task_id=tid)]  # type: ignore[arg-type]

    return make


def _kind(
    kind: str, *, times: int = 1, target: str = "submit", seconds: float = 0.0, status: int = 500
) -> Any:
    def make(task_id: str | None) -> list[Fault]:
        tid = None if target == "submit" else task_id
        return [Fault(target, kind, times=times, task_id=tid, seconds=seconds, status=status)]  # type: ignore[arg-type]

    return make


NOT_RESUBMITTED = ("Do NOT resubmit", "journal entry #1")
UNKNOWN = "is journalled as outcome_unknown and never retried"


def _submit_cells() -> list[Cell]:
    five_xx = [
        Cell(
            "submit",
            f"{code}",
            UNKNOWN,
            _status(code),
            state="outcome_unknown",
            cause=(f"HTTP {code}", "may or may not have been created"),
            next_step=NOT_RESUBMITTED,
        )
        for code in (500, 502, 503, 504)
    ]
    return [
        Cell(
            "submit",
            "429 with Retry-After",
            "is retried after the Retry-After wait and succeeds",
            _status(429, retry_after=RETRY_AFTER),
            error=False,
            submits=2,
            min_gap=RETRY_AFTER,
        ),
        Cell(
            "submit",
            "429 without Retry-After",
            "is retried with backoff and succeeds",
            _status(429),
            error=False,
            submits=2,
        ),
        Cell(
            "submit",
            "429 with Retry-After on every attempt",
            "gives up after 3 attempts, nothing created, says how long to wait",
            _status(429, times=3, retry_after=RETRY_AFTER),
            submits=3,
            state="rejected",
            cause=("HTTP 429", "RATE_LIMITED"),
            next_step=(f"Wait {RETRY_AFTER:g} s",),
            min_gap=RETRY_AFTER,
        ),
        Cell(
            "submit",
            "429 without Retry-After on every attempt",
            "gives up after 3 attempts, nothing created, says to wait",
            _status(429, times=3),
            submits=3,
            state="rejected",
            cause=("HTTP 429", "RATE_LIMITED"),
            next_step=("Wait a little",),
        ),
        *five_xx,
        Cell(
            "submit",
            "connection refused",
            "is retried (nothing can have arrived), then names the base URL",
            refused=True,
            submits=0,
            state="rejected",
            cause=("Could not connect to imini",),
            next_step=("IMINI_BASE_URL",),
        ),
        Cell(
            "submit",
            "404 from a wrong IMINI_BASE_URL path",
            "is refused, nothing created, and the next step points at IMINI_BASE_URL",
            wrong_path=True,
            submits=0,  # the simulator counts only requests to the real submit path
            state="rejected",
            cause=("HTTP 404",),
            next_step=("IMINI_BASE_URL",),
        ),
        Cell(
            "submit",
            "reset mid-response",
            UNKNOWN,
            _kind("reset"),
            state="outcome_unknown",
            cause=("no answer came back", "a task may have been created"),
            next_step=NOT_RESUBMITTED,
        ),
        Cell(
            "submit",
            "read timeout",
            UNKNOWN,
            _kind("delay", seconds=SLOW_ANSWER),
            read_timeout=SHORT_READ_TIMEOUT,
            state="outcome_unknown",
            cause=("no answer came back", "ReadTimeout"),
            next_step=NOT_RESUBMITTED,
        ),
        Cell(
            "submit",
            "malformed JSON",
            UNKNOWN,
            _kind("malformed_json"),
            state="outcome_unknown",
            cause=("no readable task id",),
            next_step=NOT_RESUBMITTED,
        ),
        Cell(
            "submit",
            "HTML error page",
            UNKNOWN,
            _kind("html"),
            state="outcome_unknown",
            cause=("HTTP 502", "HTML"),
            next_step=NOT_RESUBMITTED,
        ),
        Cell(
            "submit",
            "body with missing fields",
            UNKNOWN,
            _kind("missing_fields"),
            state="outcome_unknown",
            cause=("no readable task id",),
            next_step=NOT_RESUBMITTED,
        ),
        Cell(
            "submit",
            "task created but answered 502",
            "is journalled as outcome_unknown (the id never arrived) and never retried",
            _kind("accept_then_status", status=502),
            state="outcome_unknown",
            cause=("HTTP 502",),
            next_step=NOT_RESUBMITTED,
            task_created_without_id=True,
        ),
    ]


def _poll_cells() -> list[Cell]:
    def failing(fault: str, make: Any, cause: tuple[str, ...], next_step: tuple[str, ...], **kw: Any) -> Cell:
        return Cell(
            "poll",
            fault,
            "fails the single read with its cause, and a wait rides it out",
            make,
            cause=cause,
            next_step=next_step,
            **kw,
        )

    transient = ("try again",)
    return [
        failing(
            "429 with Retry-After",
            _status(429, times=READ_ATTEMPTS, retry_after=RETRY_AFTER, target="poll"),
            ("HTTP 429",),
            (f"Wait {RETRY_AFTER:g} s",),
            min_gap=RETRY_AFTER,
        ),
        failing(
            "429 without Retry-After",
            _status(429, times=READ_ATTEMPTS, target="poll"),
            ("HTTP 429",),
            ("Wait a little",),
        ),
        *(
            failing(
                f"{code}", _status(code, times=READ_ATTEMPTS, target="poll"), (f"HTTP {code}",), transient
            )
            for code in (500, 502, 503, 504)
        ),
        failing(
            "connection refused",
            None,
            ("Could not reach imini", "ConnectError"),
            ("IMINI_BASE_URL",),
            refused=True,
        ),
        failing(
            "reset mid-response",
            _kind("reset", times=READ_ATTEMPTS, target="poll"),
            ("Could not reach imini",),
            ("Check the network",),
        ),
        failing(
            "read timeout",
            _kind("delay", times=READ_ATTEMPTS, target="poll", seconds=SLOW_ANSWER),
            ("Could not reach imini", "ReadTimeout"),
            ("Check the network",),
            read_timeout=SHORT_READ_TIMEOUT,
        ),
        failing(
            "malformed JSON",
            _kind("malformed_json", times=READ_ATTEMPTS, target="poll"),
            ("not JSON",),
            transient,
        ),
        failing(
            "HTML error page",
            _kind("html", times=READ_ATTEMPTS, target="poll"),
            ("HTTP 502", "HTML"),
            transient,
        ),
        failing(
            "body with missing fields",
            _kind("missing_fields", times=READ_ATTEMPTS, target="poll"),
            ("lacks fields", "status"),
            transient,
        ),
        Cell(
            "poll",
            "unknown status value",
            "shows the value as it is, treats it as running, and a wait goes on to the end",
            _kind("unknown_status", target="poll"),
            error=False,
            cause=("pending_review",),
            next_step=("get_task",),
        ),
        Cell(
            "poll",
            "404 expired task",
            "says the task expired and keeps it in the journal",
            _kind("expire_task", target="poll"),
            error=False,  # the task's final state, as failed tasks are: not an error of the call
            state="expired",
            cause=("expired (final)", "HTTP 404", "TASK_NOT_FOUND"),
            next_step=("submit a new generation",),
            recovers=False,
            waited=("imini no longer knows this task",),
            seen_first=True,
        ),
        Cell(
            "poll",
            "404 right after the submit",
            "keeps the task unfinished in the journal (imini may not show it yet) and says so",
            _kind("expire_task", target="poll"),
            error=False,
            cause=("HTTP 404", "does not know task", "yet"),
            next_step=("get_task", "recorded as expired"),
            recovers=False,
            waited=("does not know task", "yet"),
        ),
    ]


def _download_cells() -> list[Cell]:
    transient = DOWNLOAD_ATTEMPTS * 2  # every attempt for the video and for the cover

    def failing(fault: str, make: Any, cause: tuple[str, ...], **kw: Any) -> Cell:
        return Cell(
            "download",
            fault,
            "keeps the task a success, reports download_error, leaves no partial file, retries later",
            make,
            error=False,
            cause=("Could not download the video", *cause),
            next_step=("retries the download",),
            **kw,
        )

    return [
        failing(
            "429 with Retry-After",
            _status(429, times=transient, retry_after=RETRY_AFTER, target="download"),
            ("HTTP 429",),
        ),
        failing("429 without Retry-After", _status(429, times=transient, target="download"), ("HTTP 429",)),
        *(
            failing(f"{code}", _status(code, times=transient, target="download"), (f"HTTP {code}",))
            for code in (500, 502, 503, 504)
        ),
        failing("connection refused", None, ("could not connect",), refused=True),
        failing(
            "reset mid-response",
            _kind("reset", times=transient, target="download"),
            ("truncated",),
        ),
        failing(
            "read timeout",
            _kind("delay", times=transient, target="download", seconds=SLOW_ANSWER),
            ("no data arrived",),
            read_timeout=SHORT_READ_TIMEOUT,
        ),
        failing("HTML error page", _kind("html", times=transient, target="download"), ("HTTP 502",)),
        failing(
            "404 expired file",
            _status(404, times=2, target="download"),  # not transient: one attempt per file
            ("HTTP 404",),
        ),
    ]


CELLS: tuple[Cell, ...] = (*_submit_cells(), *_poll_cells(), *_download_cells())


# ---------------------------------------------------------------------------------------------------
# Running one cell


class SimHost:
    """The simulated imini on a loopback port that can be stopped and started again on the same port."""

    def __init__(self, sim: Simulator, tg: TaskGroup) -> None:
        self.sim = sim
        self._tg = tg
        self._stop: anyio.Event | None = None
        self._stopped: anyio.Event | None = None
        self.port = 0
        self.url = ""

    async def start(self) -> str:
        self._stop, self._stopped = anyio.Event(), anyio.Event()
        self.url = await self._tg.start(self._serve, self._stop, self._stopped)
        self.port = int(self.url.split(":")[2].split("/")[0])
        return self.url

    async def _serve(self, stop: anyio.Event, stopped: anyio.Event, *, task_status: Any) -> None:
        try:
            async with serve_simulator(self.sim, port=self.port) as url:
                task_status.started(url)
                await stop.wait()
        finally:
            stopped.set()

    async def stop(self) -> None:
        """Stop gracefully (a cancelled uvicorn can leave the event loop unable to serve again)."""
        if self._stop is None or self._stopped is None or self._stop.is_set():
            return
        self._stop.set()
        await self._stopped.wait()


def closed_port_url() -> str:
    """An API base URL on a loopback port where nothing listens: every connection is refused."""
    return f"http://127.0.0.1:{free_port()}/imini/router"


class _CrashLog(logging.Handler):
    """Collects ERROR records with a traceback from the server side: a crash, whatever the client saw."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("mcp", "imini_mcp")):
            self.records.append(f"{record.name}: {record.getMessage()}")


@contextmanager
def _crash_log() -> Iterator[_CrashLog]:
    handler = _CrashLog()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


@asynccontextmanager
async def _world(cell: Cell, workdir: Path) -> AsyncIterator[tuple[Client, SimHost, Simulator]]:
    clock = Clock(scale=TIME_SCALE)
    sim = Simulator(
        SimulatorConfig(api_key=FAKE_KEY, queued_seconds=2, processing_seconds=8, clock=clock.now)
    )
    async with anyio.create_task_group() as tg:
        host = SimHost(sim, tg)
        url = await host.start()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            api_key=FAKE_KEY,
            base_url=_base_url(cell, url),
            journal_path=workdir / "journal.sqlite3",
            default_wait_seconds=0,
            max_wait_seconds=600,
            read_timeout=cell.read_timeout or 30,
            output_dir=workdir / "videos",
            allowed_roots=[str(workdir)],
            input_root=workdir,
        )
        downloads = FAST_DOWNLOADS
        if cell.read_timeout:
            downloads = replace(FAST_DOWNLOADS, read_timeout=cell.read_timeout)
        server = build_server(
            settings, clock=clock, retry=FAST_RETRY, schedule=PollSchedule(jitter=0), downloads=downloads
        )
        try:
            async with Client(server) as client:  # type: ignore[arg-type]
                yield client, host, sim
        finally:
            await host.stop()


def _base_url(cell: Cell, url: str) -> str:
    if cell.refused and cell.stage == "submit":
        return closed_port_url()
    return url.replace("/imini/router", "/imini/rooter") if cell.wrong_path else url


async def _inject(cell: Cell, host: SimHost, task_id: str | None) -> None:
    if cell.refused and cell.stage != "submit":
        await host.stop()
    elif cell.faults is not None:
        for fault in cell.faults(task_id):
            host.sim.add_fault(fault)


async def _restart_soon(host: SimHost, delay: float) -> None:
    await anyio.sleep(delay)
    await host.start()


async def run_cell(cell: Cell, workdir: Path) -> Observation:
    """Run one cell against a fresh simulated imini and server; report what was seen and what broke."""
    obs = Observation(cell)
    await anyio.Path(workdir).mkdir(parents=True, exist_ok=True)
    with _crash_log() as crashes, anyio.fail_after(60):
        async with _world(cell, workdir) as (client, host, sim):
            task_id: str | None = None
            if cell.stage == "submit":
                await _inject(cell, host, None)
                with _phase(sim, obs):
                    result = await client.call_tool("generate_video", {"prompt": PROMPT, "wait_seconds": 0})
                if not result.is_error:
                    task_id = result.structured_content["task"]["task_id"]
            else:
                submitted = await client.call_tool("generate_video", {"prompt": PROMPT, "wait_seconds": 0})
                assert not submitted.is_error, _text(submitted)
                task_id = submitted.structured_content["task"]["task_id"]
                if cell.stage == "poll":
                    result = await _poll_stage(cell, client, host, task_id, obs)
                else:
                    result = await _download_stage(cell, client, host, task_id, workdir, obs)
            obs.is_error = bool(result.is_error)
            obs.text = _text(result)
            listed = await client.call_tool("list_tasks", {"limit": 200})
            obs.journal = listed.structured_content["tasks"]
            if cell.read_timeout:
                await anyio.sleep(SLOW_ANSWER)  # let the abandoned slow answers finish into the ledger
            entries = sim.ledger.entries
            obs.submits = sum(1 for e in entries if e.kind == "submit")
            obs.tasks_created = sim.ledger.tasks_created
            obs.ids_issued = [  # a "reset" starts a 200 answer and drops it: issued means a clean 200 with an id
                e.task_id
                for e in entries
                if e.kind == "submit" and e.status == 200 and e.fault is None and e.task_id
            ]
            _check_submits(obs, entries)
        obs.crash_logs = crashes.records
    _check(obs)
    return obs


async def _poll_stage(cell: Cell, client: Client, host: SimHost, task_id: str, obs: Observation) -> Any:
    if cell.seen_first:
        seen = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 0})
        assert not seen.is_error, _text(seen)
    await _inject(cell, host, task_id)
    with _phase(host.sim, obs):
        result = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 0})
    # Then the same fault again, under a wait: the wait must ride it out to the finished task. (Its gaps
    # are not measured: the shared poll loop sleeps on the test's 100x clock, Retry-After included.)
    async with anyio.create_task_group() as tg:
        if cell.refused:
            tg.start_soon(_restart_soon, host, 0.3)
        else:
            await _inject(cell, host, task_id)
        waited = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 600})
    if waited.is_error:
        step = " ".join(_text(waited).split()).partition("Next step:")[2].strip()
        obs.recovered = f"error, next step: {_shorten(step, 100)}"
    else:
        obs.recovered = waited.structured_content["status"]
    if cell.recovers and obs.recovered != "succeeded":
        obs.problems.append(f"a wait after the fault should end succeeded, got {obs.recovered!r}")
    if not cell.recovers and not all(words in _text(waited) for words in cell.waited):
        obs.problems.append(
            f"a wait after the fault should say {cell.waited}: {_shorten(_text(waited), 200)}"
        )
    return result


async def _download_stage(
    cell: Cell, client: Client, host: SimHost, task_id: str, workdir: Path, obs: Observation
) -> Any:
    done = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 600})
    assert done.structured_content["status"] == "succeeded", _text(done)
    await _inject(cell, host, task_id)
    with _phase(host.sim, obs):
        result = await client.call_tool("get_task", {"task_id": task_id, "output": "file"})
    out = workdir / "videos"
    leftovers = sorted(p.name for p in out.glob("*")) if out.exists() else []
    if leftovers:
        obs.problems.append(f"files left in the output dir after a failed download: {leftovers}")
    view = result.structured_content or {}
    if not result.is_error and (view.get("files") or not view.get("download_error")):
        obs.problems.append(f"a failed download must report download_error and no files, got {view}")
    if not result.is_error and view.get("status") != "succeeded":
        obs.problems.append(f"a failed download must keep the task succeeded, got {view.get('status')!r}")
    if cell.refused:
        await host.start()
    again = await client.call_tool("get_task", {"task_id": task_id, "output": "file"})
    files = (again.structured_content or {}).get("files") or []
    sizes = {f["kind"]: f["size"] for f in files}
    if set(sizes) == {"video", "cover"} and all(Path(f["path"]).stat().st_size == f["size"] for f in files):  # noqa: ASYNC240
        obs.recovered = f"saved video ({sizes['video']:,} B) and cover"
    else:
        obs.recovered = f"not saved: {' '.join(_text(again).split())[:120]}"
        if cell.recovers:
            obs.problems.append(f"the next get_task should save both files, got {files}")
    return result


@contextmanager
def _phase(sim: Simulator, obs: Observation) -> Iterator[None]:
    """One tool call: the gaps after each 429 it met are the waits the server left before retrying."""
    start = len(sim.ledger)
    yield
    stage = [e for e in sim.ledger.entries[start:] if e.kind == obs.cell.stage]
    obs.gaps += [b.time - a.time for a, b in itertools.pairwise(stage) if a.status == 429]


def _check_submits(obs: Observation, entries: list[Any]) -> None:
    submits = [e for e in entries if e.kind == "submit"]
    for earlier in submits[:-1]:
        if earlier.status != 429:
            obs.problems.append(
                f"a submit answered {earlier.status} (possibly delivered) was sent again: "
                f"{[e.status for e in submits]}"
            )
            break


def _check(obs: Observation) -> None:
    cell = obs.cell
    text = obs.text
    if OPAQUE.match(text.strip()):
        obs.problems.append(f"opaque error: {text!r}")
    if obs.crash_logs:
        obs.problems.append(f"the server logged a crash: {obs.crash_logs}")
    if obs.is_error != cell.error:
        obs.problems.append(f"expected {'an error' if cell.error else 'no error'}, got: {obs.excerpt}")
    if obs.submits != cell.submits:
        obs.problems.append(f"the backend received {obs.submits} submits, expected {cell.submits}")
    if len(obs.tasks_created) > 1:
        obs.problems.append(f"one call created {len(obs.tasks_created)} tasks at imini")
    if not obs.task_ids_kept:
        obs.problems.append(f"issued task ids {obs.ids_issued} are not all in the journal {obs.journal}")
    without_id = [t for t in obs.tasks_created if t not in obs.ids_issued]
    unknown = [e for e in obs.journal if e["state"] == "outcome_unknown"]
    if len(unknown) < len(without_id):
        obs.problems.append(f"tasks created without an id {without_id} have no outcome_unknown entry")
    if cell.task_created_without_id and not without_id:
        obs.problems.append("the cell expected imini to create a task whose id never arrived")
    states = [e["state"] for e in obs.journal]
    if states != [cell.state]:
        obs.problems.append(f"journal states {states}, expected [{cell.state!r}]")
    if obs.is_error and "Next step:" not in text:
        obs.problems.append(f"an error without a 'Next step': {obs.excerpt}")
    for words in (*cell.cause, *cell.next_step):
        if words not in text:
            obs.problems.append(f"the message lacks {words!r}: {obs.excerpt}")
    if obs.gaps and min(obs.gaps) < cell.min_gap * 0.9:
        obs.problems.append(f"retries came {min(obs.gaps):.3f} s apart, under the {cell.min_gap} s asked for")


# ---------------------------------------------------------------------------------------------------
# The tests

pytestmark = pytest.mark.anyio


def _param(cell: Cell) -> Any:
    marks = [pytest.mark.xfail(reason=f"BUG: {cell.bug}", strict=True)] if cell.bug else []
    return pytest.param(cell, id=cell.id, marks=marks)


@pytest.mark.parametrize("cell", [_param(c) for c in CELLS])
async def test_fault(cell: Cell, tmp_path: Path) -> None:
    obs = await run_cell(cell, tmp_path)
    assert not obs.problems, "\n".join(obs.problems)


def test_the_matrix_covers_every_fault_at_every_stage_it_applies_to() -> None:
    by_stage = {
        stage: {c.fault for c in CELLS if c.stage == stage} for stage in ("submit", "poll", "download")
    }
    common = {
        "429 with Retry-After",
        "429 without Retry-After",
        "500",
        "502",
        "503",
        "504",
        "connection refused",
        "reset mid-response",
        "read timeout",
        "HTML error page",
    }
    assert common | {"malformed JSON", "body with missing fields"} <= by_stage["submit"]
    assert (
        common | {"malformed JSON", "body with missing fields", "unknown status value", "404 expired task"}
        <= (by_stage["poll"])
    )
    assert common | {"404 expired file"} <= by_stage["download"]
    assert len({c.id for c in CELLS}) == len(CELLS)


def test_the_reliability_doc_shows_every_cell() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "reliability.md").read_text(encoding="utf-8")
    missing = [cell.id for cell in CELLS if f"| {cell.fault} | {cell.outcome} |" not in doc]
    assert not missing, f"run scripts/reliability_table.py to regenerate docs/reliability.md: {missing}"
