"""A simulated imini video API server, for tests, benchmarks and ``--simulate`` mode.

Contract
--------
* It is a real ASGI app (Starlette) speaking the documented wire format of imini's video API for
  ``kling/kling-v3`` and the other video models in :data:`MODELS` (see the project's API notes,
  sections 2–7):

  - ``POST /imini/router/v1/videos/generate`` – Bearer auth, strict validation of every rule of the
    requested model (400 ``INVALID_PARAMETER`` listing all problems), answer exactly
    ``{task_id, model, created_at, request_id}``.
  - ``GET /imini/router/v1/videos/tasks/{task_id}`` – the section-5.1 task object; the status moves
    ``queued → processing → succeeded | failed`` by the (injectable) clock, measured from creation.
  - ``GET /files/{task_id}.mp4`` / ``GET /files/{task_id}.jpg`` – the result video and cover, no auth
    (it plays the CDN). The video is either a real tiny playable MP4 or, with ``video_size``, a
    synthetic MP4 of exactly that many bytes, streamed in constant memory.
  - ``/_simulator/faults`` (POST), ``/_simulator/ledger`` (GET), ``/_simulator/reset`` (POST) – a
    control API for tests that drive a simulator running in another process.

* Errors use the section-6.1 envelope ``{"error": {"code", "message", "status", "request_id"}}``.
* Scripted faults (:class:`Fault`) reproduce what real clients meet: error statuses, proxy HTML
  pages, broken JSON, undocumented statuses, slow answers, dropped connections, and the submit whose
  answer is lost although the task was created (the case that makes blind retries bill twice).
* Faults are consumed FIFO, one per matching request. Faults that only make sense on a request that
  would otherwise succeed (``accept_then_status``, and the poll kinds ``expire_task``,
  ``unknown_status``, ``missing_fields``) are given back if the request fails auth, validation or
  lookup first. ``expire_task`` is permanent for that task (polls and files 404 from then on).
* Validation is strict: exact JSON types (``null`` is not "absent", ``5.0`` is not an integer),
  unknown fields rejected everywhere.
* Every request is recorded in :attr:`Simulator.ledger`.
* A "reset" fault aborts the response after the headers (downloads: after half the body). Over a real
  socket (:func:`serve_simulator`) the client sees a dropped connection; through
  ``httpx.ASGITransport`` the app's :class:`SimulatedConnectionReset` propagates to the caller.
* Deliberately imports nothing from the rest of ``imini_mcp`` (only stdlib, starlette, uvicorn,
  anyio), so it cannot share the package's bugs; its validator is independent of the package's.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import secrets
import signal
import socket
import struct
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from copy import deepcopy
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "API_PREFIX",
    "MODEL",
    "MODELS",
    "Fault",
    "Ledger",
    "LedgerEntry",
    "ManualClock",
    "SimTask",
    "SimulatedConnectionReset",
    "Simulator",
    "SimulatorConfig",
    "iter_synthetic_mp4",
    "main",
    "serve_simulator",
    "validate_generate_request",
]

MODEL = "kling/kling-v3"  # the documented example's model, and what faults answer with
API_PREFIX = "/imini/router"
SUBMIT_PATH = f"{API_PREFIX}/v1/videos/generate"
TASKS_PATH = f"{API_PREFIX}/v1/videos/tasks/"
FILES_PATH = "/files/"
CONTROL_PATH = "/_simulator/"

FaultTarget = Literal["submit", "poll", "download"]
FaultKind = Literal[
    "status",
    "html",
    "malformed_json",
    "missing_fields",
    "unknown_status",
    "delay",
    "reset",
    "accept_then_status",
    "fail_task",
    "expire_task",
]
EndpointKind = Literal["submit", "poll", "download", "control", "other"]

# Which fault kinds make sense where; anything else is a test bug, so Fault() refuses it.
_KINDS_BY_TARGET: dict[str, frozenset[str]] = {
    "submit": frozenset(
        {
            "status",
            "html",
            "malformed_json",
            "missing_fields",
            "delay",
            "reset",
            "accept_then_status",
            "fail_task",
        }
    ),
    "poll": frozenset(
        {
            "status",
            "html",
            "malformed_json",
            "missing_fields",
            "unknown_status",
            "delay",
            "reset",
            "expire_task",
        }
    ),
    "download": frozenset({"status", "html", "delay", "reset"}),
}

_DEFAULT_CODES = {
    400: "INVALID_PARAMETER",
    401: "UNAUTHORIZED",
    402: "INSUFFICIENT_CREDITS",
    403: "FORBIDDEN",
    404: "TASK_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    502: "UPSTREAM_ERROR",
    503: "UPSTREAM_ERROR",
    504: "UPSTREAM_ERROR",
}
_DEFAULT_MESSAGES = {
    400: "Invalid request parameters",
    401: "Authentication failed: API key missing, invalid or revoked",
    402: "Insufficient credits: balance cannot cover this call",
    403: "Forbidden: insufficient permission or quota exhausted",
    404: "Task does not exist or has expired",
    429: "Rate limit exceeded for this account",
    500: "Internal platform error, please retry later",
    502: "Upstream model service error",
    503: "Upstream model service unavailable",
    504: "Upstream model service timed out",
}

_PROXY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def _frame_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """Output size: the short side is the resolution's number (720P → 720), the long side follows the
    ratio, rounded to even pixels (1280x720, 720x1280, 1680x720 for 21:9, 854x480). The real service may
    deviate by a few pixels; "adaptive" is shown as 16:9."""
    short = int(resolution.rstrip("Pp"))
    wide, high = (int(n) for n in (aspect_ratio if ":" in aspect_ratio else "16:9").split(":"))
    long_side = 2 * round(short * max(wide, high) / min(wide, high) / 2)
    return (long_side, short) if wide >= high else (short, long_side)


_CHUNK = 64 * 1024
_ZEROS = bytes(_CHUNK)  # one shared buffer, so streaming any size costs constant memory
_FTYP = struct.pack(">I4s4sI4s4s4s", 28, b"ftyp", b"isom", 0x200, b"isom", b"iso2", b"mp41")
MIN_VIDEO_SIZE = len(_FTYP) + 8  # ftyp box + an empty mdat box


# --------------------------------------------------------------------------------------------
# Configuration, faults, clock
# --------------------------------------------------------------------------------------------


@dataclass
class SimulatorConfig:
    """Knobs of a :class:`Simulator`. Mutable: :func:`serve_simulator` sets ``public_base_url``."""

    api_key: str | None = None  # None: any non-empty Bearer token is accepted
    queued_seconds: float = 2.0
    processing_seconds: float = 8.0
    clock: Callable[[], float] = time.monotonic
    video_size: int | None = None  # None: the real sample MP4; int: synthetic MP4 of exactly this size
    public_base_url: str = "http://127.0.0.1"

    def __post_init__(self) -> None:
        if self.queued_seconds < 0 or self.processing_seconds < 0:
            raise ValueError("queued_seconds and processing_seconds must be >= 0")
        if self.video_size is not None and self.video_size < MIN_VIDEO_SIZE:
            raise ValueError(f"video_size must be >= {MIN_VIDEO_SIZE} bytes (an ftyp box plus an mdat box)")


@dataclass
class Fault:
    """One scripted misbehaviour, applied to the next ``times`` matching requests (FIFO order)."""

    target: FaultTarget
    kind: FaultKind
    status: int = 500
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    seconds: float = 0.0
    times: int = 1
    task_id: str | None = None

    def __post_init__(self) -> None:
        if self.target not in _KINDS_BY_TARGET:
            raise ValueError(f"target must be one of {sorted(_KINDS_BY_TARGET)}, got {self.target!r}")
        if self.kind not in get_args(FaultKind):
            raise ValueError(f"kind must be one of {list(get_args(FaultKind))}, got {self.kind!r}")
        if self.kind not in _KINDS_BY_TARGET[self.target]:
            raise ValueError(f"fault kind {self.kind!r} does not apply to target {self.target!r}")
        if not isinstance(self.status, int) or isinstance(self.status, bool) or not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status code, got {self.status!r}")
        if not isinstance(self.times, int) or isinstance(self.times, bool) or self.times < 1:
            raise ValueError(f"times must be an integer >= 1, got {self.times!r}")
        if not _is_number(self.seconds) or self.seconds < 0:
            raise ValueError(f"seconds must be a number >= 0, got {self.seconds!r}")
        if self.retry_after is not None and (not _is_number(self.retry_after) or self.retry_after < 0):
            raise ValueError(f"retry_after must be a number >= 0, got {self.retry_after!r}")
        if self.task_id is not None and self.target == "submit":
            raise ValueError("task_id only applies to poll and download faults")
        for name in ("code", "message", "task_id"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string or null, got {value!r}")

    @classmethod
    def from_dict(cls, data: object) -> Fault:
        """Build a fault from JSON (the control API); raises ValueError on unknown or bad fields."""
        if not isinstance(data, dict):
            raise ValueError("fault must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(unknown)}")
        missing = [name for name in ("target", "kind") if name not in data]
        if missing:
            raise ValueError(f"missing fault fields: {', '.join(missing)}")
        return cls(**data)


class ManualClock:
    """A clock that only moves when told to; pass it as ``SimulatorConfig(clock=...)``."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class SimulatedConnectionReset(ConnectionResetError):
    """Raised by the app to drop a connection mid-response (a "reset" fault)."""


# --------------------------------------------------------------------------------------------
# Ledger
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerEntry:
    """One request as the simulator saw it."""

    method: str
    path: str
    kind: EndpointKind
    task_id: str | None
    status: int | None  # None only if the request died before any response was started
    time: float  # time.monotonic() when the request finished
    sim_time: float  # the simulator's clock at that moment
    fault: str | None = None  # kind of the scripted fault applied, if any


class Ledger:
    """Every request seen, in order, plus the ids of tasks really created. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LedgerEntry] = []
        self._created: list[str] = []

    @property
    def entries(self) -> list[LedgerEntry]:
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def count(self, kind: str, task_id: str | None = None, *, status: int | None = None) -> int:
        """Number of recorded requests of ``kind`` (optionally only for one task / one status)."""
        with self._lock:
            return sum(
                1
                for e in self._entries
                if e.kind == kind
                and (task_id is None or e.task_id == task_id)
                and (status is None or e.status == status)
            )

    @property
    def submits_received(self) -> int:
        return self.count("submit")

    @property
    def tasks_created(self) -> list[str]:
        """Ids of tasks that exist server-side (including those whose submit answer was "lost")."""
        with self._lock:
            return list(self._created)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot (what ``GET /_simulator/ledger`` returns)."""
        with self._lock:
            return {
                "entries": [asdict(e) for e in self._entries],
                "submits_received": sum(1 for e in self._entries if e.kind == "submit"),
                "tasks_created": list(self._created),
            }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ledger:
        """Rebuild a ledger from :meth:`to_json` output (e.g. fetched from a remote simulator)."""
        ledger = cls()
        ledger._entries = [LedgerEntry(**e) for e in data.get("entries", [])]
        ledger._created = list(data.get("tasks_created", []))
        return ledger

    def _record(self, entry: LedgerEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def _task_created(self, task_id: str) -> None:
        with self._lock:
            self._created.append(task_id)

    def _clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._created.clear()


# --------------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------------


@dataclass
class _Task:
    task_id: str
    request: dict[str, Any]
    created_clock: float
    created_wall: datetime
    model: str
    resolution: str
    aspect_ratio: str
    duration: int
    outcome: Literal["succeeded", "failed"] = "succeeded"
    error: dict[str, Any] | None = None
    expired: bool = False


@dataclass(frozen=True)
class SimTask:
    """Read-only snapshot of a created task (``Simulator.tasks()``)."""

    task_id: str
    request: dict[str, Any]  # a deep copy of the accepted request body
    status: str  # as a poll would report it right now
    created_at: str
    outcome: Literal["succeeded", "failed"]
    error: dict[str, Any] | None
    expired: bool


@dataclass
class _PendingFault:
    fault: Fault
    remaining: int


class _RequestNote:
    """Per-request scratch shared by the ledger middleware and the handlers (via the ASGI scope)."""

    __slots__ = ("fault", "task_id")

    def __init__(self, task_id: str | None) -> None:
        self.task_id = task_id
        self.fault: str | None = None


_NOTE_KEY = "imini_simulator.note"


# --------------------------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------------------------


class Simulator:
    """The simulated imini server. ``app`` is the ASGI app; state lives on this object."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config if config is not None else SimulatorConfig()
        self.ledger = Ledger()
        self._tasks: dict[str, _Task] = {}
        self._faults: list[_PendingFault] = []
        self.app = Starlette(
            routes=[
                Route(SUBMIT_PATH, self._submit, methods=["POST"]),
                Route(TASKS_PATH + "{task_id}", self._poll, methods=["GET"]),
                Route(FILES_PATH + "{filename}", self._download, methods=["GET"]),
                Route(CONTROL_PATH + "faults", self._control_fault, methods=["POST"]),
                Route(CONTROL_PATH + "ledger", self._control_ledger, methods=["GET"]),
                Route(CONTROL_PATH + "reset", self._control_reset, methods=["POST"]),
            ],
            middleware=[Middleware(_LedgerMiddleware, sim=self)],
            exception_handlers={HTTPException: _http_exception},
        )

    # ---- public helpers for tests ----

    def add_fault(self, fault: Fault) -> None:
        self._faults.append(_PendingFault(fault, fault.times))

    def tasks(self) -> dict[str, SimTask]:
        now = self.config.clock()
        return {
            tid: SimTask(
                task_id=t.task_id,
                request=deepcopy(t.request),
                status=self._status(t, now),
                created_at=_iso(t.created_wall),
                outcome=t.outcome,
                error=deepcopy(t.error),
                expired=t.expired,
            )
            for tid, t in self._tasks.items()
        }

    def reset(self) -> None:
        self._tasks.clear()
        self._faults.clear()
        self.ledger._clear()

    # ---- internals ----

    def _take_fault(
        self, target: str, task_id: str | None = None, *, fail_task: bool = False
    ) -> Fault | None:
        """Consume one use of the first queued fault matching this request.

        ``fail_task`` faults are looked up separately (when a task gets created) because they modify
        the task rather than the response, so they combine with any response fault.
        """
        for pending in self._faults:
            fault = pending.fault
            if fault.target != target or (fault.kind == "fail_task") != fail_task:
                continue
            if fault.task_id is not None and fault.task_id != task_id:
                continue
            pending.remaining -= 1
            if pending.remaining <= 0:
                self._faults.remove(pending)
            return fault
        return None

    def _give_back(self, fault: Fault) -> None:
        """Undo one use of a fault that could not apply (e.g. the request failed auth first)."""
        for pending in self._faults:
            if pending.fault is fault:
                pending.remaining += 1
                return
        self._faults.insert(0, _PendingFault(fault, 1))

    def _status(self, task: _Task, now: float) -> str:
        elapsed = now - task.created_clock
        if elapsed < self.config.queued_seconds:
            return "queued"
        if elapsed < self.config.queued_seconds + self.config.processing_seconds:
            return "processing"
        return task.outcome

    def _check_auth(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return _error(
                401, message="Missing or malformed Authorization header, expected 'Bearer <API_KEY>'"
            )
        if self.config.api_key is not None and not secrets.compare_digest(token, self.config.api_key):
            return _error(401, message="Invalid API key")
        return None

    def _create_task(self, body: dict[str, Any]) -> _Task:
        task_id = f"task_{secrets.randbelow(9 * 10**18) + 10**18}"  # 19 digits, like the docs' example
        while task_id in self._tasks:
            task_id = f"task_{secrets.randbelow(9 * 10**18) + 10**18}"
        task = _Task(
            task_id=task_id,
            request=deepcopy(body),
            created_clock=self.config.clock(),
            created_wall=datetime.now(UTC),
            model=body["model"],
            **_output_shape(body),
        )
        fail = self._take_fault("submit", fail_task=True)
        if fail is not None:
            task.outcome = "failed"
            task.error = {
                "code": fail.code or "GENERATION_FAILED",
                "message": fail.message or "Video generation failed upstream (simulated)",
                "status": fail.status,
                "request_id": _req_id(),
            }
        self._tasks[task_id] = task
        self.ledger._task_created(task_id)
        return task

    def _task_payload(self, task: _Task) -> dict[str, Any]:
        status = self._status(task, self.config.clock())
        terminal = status in ("succeeded", "failed")
        completed = task.created_wall + timedelta(
            seconds=self.config.queued_seconds + self.config.processing_seconds
        )
        videos = None
        if status == "succeeded":
            width, height = _frame_size(task.resolution, task.aspect_ratio)
            base = self.config.public_base_url.rstrip("/")
            videos = [
                {
                    "url": f"{base}{FILES_PATH}{task.task_id}.mp4",
                    "width": width,
                    "height": height,
                    "duration": task.duration,
                    "cover_url": f"{base}{FILES_PATH}{task.task_id}.jpg",
                }
            ]
        return {
            "task_id": task.task_id,
            "status": status,
            "model": task.model,
            "created_at": _iso(task.created_wall),
            "completed_at": _iso(completed) if terminal else None,
            "videos": videos,
            "error": deepcopy(task.error) if status == "failed" else None,
            "request_id": _req_id(),
        }

    # ---- endpoints ----

    async def _submit(self, request: Request) -> Response:
        note = _note(request)
        fault = self._take_fault("submit")
        accept_then_fail = None
        if fault is not None and fault.kind == "accept_then_status":
            accept_then_fail = fault  # applies only once a task really gets created
        elif fault is not None:
            note.fault = fault.kind
            if fault.kind != "delay":  # every other kind answers before any real work
                return _fault_response(fault, {"model": MODEL, "created_at": _iso(datetime.now(UTC))})
            await anyio.sleep(fault.seconds)

        body, rejection = await self._accepted_body(request)
        if rejection is not None:
            if accept_then_fail is not None:
                self._give_back(accept_then_fail)
            return rejection

        task = self._create_task(body)
        note.task_id = task.task_id
        if accept_then_fail is not None:
            # The task exists and will progress (and bill), but the client never learns its id.
            note.fault = accept_then_fail.kind
            f = accept_then_fail
            return _error(f.status, f.code, f.message, retry_after=f.retry_after)
        return JSONResponse(
            {
                "task_id": task.task_id,
                "model": task.model,
                "created_at": _iso(task.created_wall),
                "request_id": str(uuid.uuid4()),
            }
        )

    async def _accepted_body(self, request: Request) -> tuple[dict[str, Any], Response | None]:
        """Auth, JSON parsing and validation of a submit: the body, or the error response to send."""
        if (denied := self._check_auth(request)) is not None:
            return {}, denied
        try:
            body = _parse_json(await request.body())
        except ValueError as exc:
            return {}, _error(400, message=f"Request body is not valid JSON: {exc}")
        problems = validate_generate_request(body)
        if problems:
            return {}, _error(400, message="Invalid request: " + "; ".join(problems))
        return body, None

    async def _poll(self, request: Request) -> Response:
        note = _note(request)
        task_id: str = request.path_params["task_id"]
        fault = self._take_fault("poll", task_id)
        if fault is not None and fault.kind in ("status", "html", "malformed_json", "reset", "delay"):
            note.fault = fault.kind
            if fault.kind != "delay":
                return _fault_response(fault, {"task_id": task_id, "status": "processing"})
            await anyio.sleep(fault.seconds)
            fault = None
        # Any fault left (expire_task, unknown_status, missing_fields) needs an existing task.

        denied = self._check_auth(request)
        task = self._tasks.get(task_id)
        if denied is None and (task is None or task.expired):
            denied = _error(404, message=f"Task {task_id} does not exist or has expired")
        if denied is not None or task is None:
            if fault is not None:
                self._give_back(fault)
            return denied or _error(404)

        if fault is not None:
            note.fault = fault.kind
        if fault is not None and fault.kind == "expire_task":
            task.expired = True  # permanent, like a real expiry: later polls and downloads 404 too
            return _error(404, fault.code, fault.message or f"Task {task_id} does not exist or has expired")
        payload = self._task_payload(task)
        if fault is not None and fault.kind == "unknown_status":
            payload.update(status="pending_review", completed_at=None, videos=None, error=None)
        elif fault is not None and fault.kind == "missing_fields":
            del payload["status"]
        return JSONResponse(payload)

    async def _download(self, request: Request) -> Response:
        note = _note(request)
        filename: str = request.path_params["filename"]
        task_id, dot, ext = filename.rpartition(".")
        if not dot or ext not in ("mp4", "jpg"):
            return _error(404, "NOT_FOUND", f"No such file: {filename}")
        note.task_id = task_id
        fault = self._take_fault("download", task_id)
        if fault is not None:
            note.fault = fault.kind
            if fault.kind == "delay":
                await anyio.sleep(fault.seconds)
            elif fault.kind in ("status", "html"):
                return _fault_response(fault, {})

        task = self._tasks.get(task_id)
        if task is None or task.expired or self._status(task, self.config.clock()) != "succeeded":
            return _error(404, "NOT_FOUND", f"No such file: {filename}")

        abort = fault is not None and fault.kind == "reset"
        if ext == "jpg":
            cover = _sample("cover.jpg")
            return _BodyResponse(_chunks_of(cover), len(cover), "image/jpeg", abort)
        size = self.config.video_size
        if size is None:
            data = _sample("sample.mp4")
            return _BodyResponse(_chunks_of(data), len(data), "video/mp4", abort)
        return _BodyResponse(lambda: iter_synthetic_mp4(size), size, "video/mp4", abort)

    async def _control_fault(self, request: Request) -> Response:
        try:
            fault = Fault.from_dict(_parse_json(await request.body()))
        except (ValueError, TypeError) as exc:
            return _error(400, message=f"Bad fault: {exc}")
        self.add_fault(fault)
        return Response(status_code=204)

    async def _control_ledger(self, request: Request) -> Response:
        return JSONResponse(self.ledger.to_json())

    async def _control_reset(self, request: Request) -> Response:
        self.reset()
        return Response(status_code=204)


class _LedgerMiddleware:
    """Records every HTTP request (with its final status) in the simulator's ledger."""

    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind, task_id = _classify(scope["path"])
        note = _RequestNote(task_id)
        scope[_NOTE_KEY] = note
        status: int | None = None

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        except Exception:
            if status is None:
                status = 500  # Starlette's error middleware (outside us) answers 500
            raise
        finally:
            self.sim.ledger._record(
                LedgerEntry(
                    method=scope["method"],
                    path=scope["path"],
                    kind=kind,
                    task_id=note.task_id,
                    status=status,
                    time=time.monotonic(),
                    sim_time=self.sim.config.clock(),
                    fault=note.fault,
                )
            )


class _BodyResponse(Response):
    """Streams a body of known length chunk by chunk; optionally drops the connection halfway.

    Written by hand (not StreamingResponse) so the "reset" fault can raise after a partial body and
    so a client disconnect stops a huge synthetic stream instead of generating it for nobody.
    """

    def __init__(
        self, chunks: Callable[[], Iterator[bytes]], length: int, media_type: str, abort_halfway: bool
    ) -> None:
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self._chunks = chunks
        self._length = length
        self._abort_after = length // 2 if abort_halfway else None
        self.raw_headers = [
            (b"content-type", media_type.encode("latin-1")),
            (b"content-length", str(length).encode("latin-1")),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if scope.get("method") == "HEAD":  # headers only; don't generate a body nobody will get
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        aborted = False
        async with anyio.create_task_group() as tg:

            async def stop_on_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                tg.cancel_scope.cancel()

            tg.start_soon(stop_on_disconnect)
            sent = 0
            for chunk in self._chunks():
                if self._abort_after is not None and sent + len(chunk) >= self._abort_after:
                    if self._abort_after > sent:
                        part = chunk[: self._abort_after - sent]
                        await send({"type": "http.response.body", "body": part, "more_body": True})
                    aborted = True
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                sent += len(chunk)
            else:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            tg.cancel_scope.cancel()
        if aborted:  # raised outside the task group so it is not wrapped in an ExceptionGroup
            raise SimulatedConnectionReset(f"simulated reset after {self._abort_after}/{self._length} bytes")


class _ResetAfterHeaders(Response):
    """Sends the headers of a JSON answer, then drops the connection (a "reset" API fault)."""

    def __init__(self, would_be_length: int) -> None:
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(would_be_length).encode("latin-1")),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        raise SimulatedConnectionReset("simulated reset after response headers")


# --------------------------------------------------------------------------------------------
# Response helpers
# --------------------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z, like ``2026-04-11T07:17:39.146Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _req_id() -> str:
    return f"req_{uuid.uuid4().hex[:24]}"


def _default_code(status: int) -> str:
    if status in _DEFAULT_CODES:
        return _DEFAULT_CODES[status]
    return "UPSTREAM_ERROR" if status >= 502 else "INTERNAL_ERROR" if status >= 500 else "REQUEST_ERROR"


def _error(
    status: int, code: str | None = None, message: str | None = None, *, retry_after: float | None = None
) -> JSONResponse:
    """The section-6.1 error envelope."""
    envelope = {
        "error": {
            "code": code or _default_code(status),
            "message": message or _DEFAULT_MESSAGES.get(status, f"HTTP {status}"),
            "status": status,
            "request_id": _req_id(),
        }
    }
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
    return JSONResponse(envelope, status_code=status, headers=headers)


def _fault_response(fault: Fault, partial: dict[str, Any]) -> Response:
    """Answer for the response-only fault kinds; ``partial`` is a plausible but incomplete body."""
    if fault.kind == "status":
        return _error(fault.status, fault.code, fault.message, retry_after=fault.retry_after)
    if fault.kind == "html":
        return Response(_PROXY_HTML, status_code=502, media_type="text/html")
    if fault.kind == "malformed_json":
        text = json.dumps({**partial, "request_id": _req_id()})
        return Response(text[: max(1, len(text) // 2)], media_type="application/json")  # cut mid-token
    if fault.kind == "missing_fields":
        return JSONResponse({"model": MODEL, "request_id": _req_id()})
    if fault.kind == "reset":
        return _ResetAfterHeaders(len(json.dumps({**partial, "request_id": _req_id()})))
    raise AssertionError(f"fault kind {fault.kind!r} is not a response fault")  # pragma: no cover


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Routing errors (unknown path, wrong method) also use the envelope."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = "NOT_FOUND" if status == 404 else None
    return _error(status, code, f"{request.method} {request.url.path}: {getattr(exc, 'detail', '')}")


def _note(request: Request) -> _RequestNote:
    note = request.scope.get(_NOTE_KEY)
    return note if isinstance(note, _RequestNote) else _RequestNote(None)


def _classify(path: str) -> tuple[EndpointKind, str | None]:
    if path == SUBMIT_PATH:
        return "submit", None
    if path.startswith(TASKS_PATH):
        return "poll", path[len(TASKS_PATH) :] or None
    if path.startswith(FILES_PATH):
        return "download", None  # the handler fills in the task id once the file name parses
    if path.startswith(CONTROL_PATH):
        return "control", None
    return "other", None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity (Python's json would otherwise accept them)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("body is not UTF-8") from exc
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(str(exc)) from exc


@cache
def _sample(name: str) -> bytes:
    # One joinpath() step at a time: namespace-package paths (MultiplexedPath) accept only one.
    return (resources.files(__package__ or "imini_mcp.simulator") / "simdata" / name).read_bytes()


def _chunks_of(data: bytes) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        for start in range(0, len(data), _CHUNK):
            yield data[start : start + _CHUNK]

    return chunks


def iter_synthetic_mp4(size: int, chunk_size: int = _CHUNK) -> Iterator[bytes]:
    """Exactly ``size`` bytes: an ``ftyp`` box, then one ``mdat`` box of zeros. Constant memory."""
    if size < MIN_VIDEO_SIZE:
        raise ValueError(f"size must be >= {MIN_VIDEO_SIZE}")
    if chunk_size > _CHUNK:
        raise ValueError(f"chunk_size must be <= {_CHUNK}")
    mdat_size = size - len(_FTYP)
    if mdat_size <= 0xFFFFFFFF:
        mdat_header = struct.pack(">I4s", mdat_size, b"mdat")
    else:  # 64-bit "largesize" form, for files over 4 GiB
        mdat_header = struct.pack(">I4sQ", 1, b"mdat", mdat_size)
        if size < len(_FTYP) + len(mdat_header):  # pragma: no cover - impossible at this size
            raise ValueError("size too small")
    yield _FTYP + mdat_header
    remaining = size - len(_FTYP) - len(mdat_header)
    full = _ZEROS[:chunk_size] if chunk_size != _CHUNK else _ZEROS
    while remaining >= chunk_size:
        yield full
        remaining -= chunk_size
    if remaining:
        yield _ZEROS[:remaining]


# --------------------------------------------------------------------------------------------
# Request validation (spec sections 2–4 and 7) – independent of the package's validator
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ModelRules:
    """What one model takes, written from the API notes apart from the package's catalogue."""

    resolutions: tuple[str, ...]
    default_resolution: str
    aspect_ratios: tuple[str, ...]  # () = no aspect_ratio field
    default_aspect_ratio: str
    durations: tuple[int, int] | None  # None = no duration field
    audio: bool  # takes generate_audio
    prompt_max: int
    roles: tuple[str, ...]  # () = images are {url} only
    images: tuple[int, int]
    videos: tuple[int, int] = (0, 0)  # (0, 0) = no reference_videos field
    refer_types: tuple[str, ...] = ()
    audios_max: int = 0  # 0 = no reference_audios field
    extra_keys: frozenset[str] = frozenset()
    body_max: int | None = None

    def top_keys(self) -> frozenset[str]:
        keys = {"model", "prompt", "resolution", "reference_images"}
        keys |= {"aspect_ratio"} if self.aspect_ratios else set()
        keys |= {"duration"} if self.durations else set()
        keys |= {"generate_audio"} if self.audio else set()
        keys |= {"reference_videos"} if self.videos[1] else set()
        keys |= {"reference_audios"} if self.audios_max else set()
        keys |= {"extra_params"} if self.extra_keys else set()
        return frozenset(keys)


_REFERENCE_TYPES = ("first_frame", "last_frame", "asset")
_SEEDANCE_RULES = _ModelRules(
    resolutions=("480P", "720P"),
    default_resolution="720P",
    aspect_ratios=("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive"),
    default_aspect_ratio="adaptive",
    durations=(4, 15),
    audio=True,
    prompt_max=2500,
    roles=_REFERENCE_TYPES,
    images=(0, 9),
    videos=(0, 3),
    audios_max=3,
    body_max=64 * 1024 * 1024,
)
_RULES: dict[str, _ModelRules] = {
    "kling/kling-v3": _ModelRules(
        resolutions=("720P", "1080P"),
        default_resolution="720P",
        aspect_ratios=("16:9", "9:16", "1:1"),
        default_aspect_ratio="16:9",
        durations=(3, 15),
        audio=True,
        prompt_max=2500,
        roles=_REFERENCE_TYPES,
        images=(0, 4),
        extra_keys=frozenset(
            {"multi_shot", "shot_type", "multi_prompt", "negative_prompt", "cfg_scale", "camera_control"}
        ),
    ),
    "kling/kling-v3-omni": _ModelRules(
        resolutions=("720P", "1080P"),
        default_resolution="720P",
        aspect_ratios=("16:9", "9:16", "1:1"),
        default_aspect_ratio="16:9",
        durations=(3, 15),
        audio=True,
        prompt_max=2500,
        roles=_REFERENCE_TYPES,
        images=(0, 4),
        videos=(0, 1),
        refer_types=("base", "feature"),
        extra_keys=frozenset({"multi_shot", "shot_type", "multi_prompt"}),
    ),
    "kling/kling-v3-motion-control": _ModelRules(
        resolutions=("720P", "1080P"),
        default_resolution="720P",
        aspect_ratios=(),
        default_aspect_ratio="16:9",
        durations=None,
        audio=True,
        prompt_max=2500,
        roles=(),
        images=(1, 1),
        videos=(1, 1),
        extra_keys=frozenset({"character_orientation"}),
    ),
    "doubao/seedance-2.0": _SEEDANCE_RULES,
    "doubao/seedance-2.0-fast": _SEEDANCE_RULES,
    "dashscope/happyhorse-1.0": _ModelRules(
        resolutions=("720P", "1080P"),
        default_resolution="1080P",
        aspect_ratios=("16:9", "9:16", "1:1", "4:3", "3:4"),
        default_aspect_ratio="16:9",
        durations=(3, 15),
        audio=False,
        prompt_max=5000,
        roles=("first_frame", "asset"),
        images=(0, 9),
        videos=(0, 1),
        extra_keys=frozenset({"audio_setting"}),
    ),
}
MODELS: tuple[str, ...] = tuple(_RULES)
_ANY_TOP_KEY = frozenset().union(*(rules.top_keys() for rules in _RULES.values()))
_SHOT_TYPES = ("customize", "intelligence")
_CAMERA_TYPES = ("simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward")
_CAMERA_AXES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")
_SHOT_KEYS = frozenset({"index", "prompt", "duration"})
_URL_PREFIXES = ("https://", "http://", "data:image/")
_MEDIA_URL_PREFIXES = ("https://", "http://")
_DIGITS = re.compile(r"[0-9]+")
_PROMPT_REFERENCE = re.compile(r"<<<(image|video)_(\d+)>>>")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _unknown_keys(obj: Mapping[str, Any], allowed: frozenset[str], where: str) -> list[str]:
    prefix = f"{where}." if where else ""
    return [f"{prefix}{key}: unknown field" for key in sorted(set(obj) - allowed)]


def _enum(
    obj: Mapping[str, Any], key: str, allowed: tuple[str, ...], where: str, problems: list[str]
) -> None:
    if key in obj and obj[key] not in allowed:
        problems.append(f"{where}{key}: must be one of {', '.join(allowed)} (got {obj[key]!r})")


def _output_shape(body: Mapping[str, Any]) -> dict[str, Any]:
    """Resolution, aspect ratio and length of the video an accepted body produces. Where a reference
    video sets the length (motion control, an omni edit, a happyhorse edit) the simulated video is 5 s."""
    model = body["model"]
    rules = _RULES[model]
    videos = body.get("reference_videos") or []
    from_video = bool(videos) and (
        model != "kling/kling-v3-omni" or any(v.get("refer_type") == "base" for v in videos)
    )
    return {
        "resolution": body.get("resolution", rules.default_resolution),
        "aspect_ratio": body.get("aspect_ratio", rules.default_aspect_ratio),
        "duration": 5 if from_video or rules.durations is None else body.get("duration", 5),
    }


def validate_generate_request(body: object) -> list[str]:
    """Every violated rule of the requested model, as ``"path: problem"`` strings; empty if valid.

    Strict on purpose: types must match exactly (``null`` is not "absent"), unknown fields anywhere
    are rejected (including fields only other models take), and the multi-shot, reference-image,
    reference-video and reference-audio combination rules are enforced. A missing or unknown
    ``model`` is reported, and the rest is checked as ``kling/kling-v3``.
    """
    if not isinstance(body, dict):
        return ["request body must be a JSON object"]
    problems: list[str] = []
    model = body.get("model")
    if "model" not in body:
        problems.append(f"model: required (one of {', '.join(MODELS)})")
    elif model not in _RULES:
        problems.append(f"model: must be one of {', '.join(MODELS)} (got {model!r})")
    name = model if isinstance(model, str) and model in _RULES else MODEL
    rules = _RULES[name]
    for problem in _unknown_keys(body, rules.top_keys(), ""):
        key = problem.split(":", 1)[0]
        problems.append(f"{problem} for {name}" if key in _ANY_TOP_KEY else problem)

    _enum(body, "resolution", rules.resolutions, "", problems)
    if rules.aspect_ratios:
        _enum(body, "aspect_ratio", rules.aspect_ratios, "", problems)
    if rules.audio and "generate_audio" in body and not isinstance(body["generate_audio"], bool):
        problems.append("generate_audio: must be a boolean")

    duration: int | None = 5  # documented default; None once known to be invalid
    if rules.durations and "duration" in body:
        value = body["duration"]
        low, high = rules.durations
        if not _is_int(value):
            duration = None
            problems.append(f"duration: must be an integer number of seconds (got {value!r})")
        elif not low <= value <= high:
            duration = None
            problems.append(f"duration: must be between {low} and {high} (got {value})")
        else:
            duration = value

    roles = _check_reference_images(body, rules, problems)
    videos = _check_media(body, "reference_videos", rules.videos, rules.refer_types, problems)
    audios = _check_media(body, "reference_audios", (0, rules.audios_max), (), problems)

    extra: Mapping[str, Any] = {}
    if "extra_params" in body and rules.extra_keys:
        if isinstance(body["extra_params"], dict):
            extra = body["extra_params"]
        else:
            problems.append("extra_params: must be an object")
    multi_shot, customize = _check_extra_params(extra, rules, duration, problems)

    if "prompt" in body:
        prompt = body["prompt"]
        if not isinstance(prompt, str):
            problems.append("prompt: must be a string")
        elif len(prompt) > rules.prompt_max:
            problems.append(f"prompt: at most {rules.prompt_max} characters (got {len(prompt)})")
        elif not customize and not prompt.strip():
            problems.append("prompt: must not be empty (only multi_shot with shot_type 'customize' omits it)")
        else:
            _check_prompt_references(name, prompt, len(roles), len(videos), problems)
    elif not customize:
        problems.append(
            "prompt: required unless extra_params.multi_shot is true with shot_type 'customize'"
            if "multi_shot" in rules.extra_keys
            else f"prompt: required for {name}"
        )

    if "last_frame" in roles:
        if multi_shot:
            problems.append("reference_images: a last_frame image cannot be combined with multi_shot")
        if "camera_control" in extra:
            problems.append("extra_params.camera_control: cannot be combined with a last_frame image")
    if ("first_frame" in roles or "last_frame" in roles) and (videos or audios):
        problems.append(
            "reference_images: first_frame/last_frame images cannot be combined with reference videos or audio"
        )
    _check_model_combinations(name, body, roles, videos, audios, extra, problems)
    if rules.body_max is not None:
        size = len(json.dumps(body, ensure_ascii=False).encode())
        if size > rules.body_max:
            problems.append(f"request body: at most {rules.body_max} bytes for {name} (got {size})")
    return problems


def _check_prompt_references(model: str, prompt: str, images: int, videos: int, problems: list[str]) -> None:
    """kling-v3-omni: <<<image_N>>> / <<<video_N>>> must name an input that exists."""
    if model != "kling/kling-v3-omni":
        return
    for kind, number in sorted(set(_PROMPT_REFERENCE.findall(prompt))):
        have = images if kind == "image" else videos
        if not 1 <= int(number) <= have:
            problems.append(
                f"prompt: <<<{kind}_{number}>>> refers to a missing reference {kind} (have {have})"
            )


def _check_model_combinations(
    model: str,
    body: Mapping[str, Any],
    roles: list[str],
    videos: list[Mapping[str, Any]],
    audios: list[Mapping[str, Any]],
    extra: Mapping[str, Any],
    problems: list[str],
) -> None:
    """The rules only one model has (imini-api.md §7)."""
    if model == "kling/kling-v3-omni" and videos:
        if any(v.get("refer_type") == "base" for v in videos) and "duration" in body:
            problems.append("duration: not accepted in a video edit (reference_videos refer_type 'base')")
        if extra.get("multi_shot") is True:
            problems.append("extra_params.multi_shot: cannot be combined with reference_videos")
        if body.get("generate_audio") is True:
            problems.append("generate_audio: cannot be true with reference_videos")
    elif model in ("doubao/seedance-2.0", "doubao/seedance-2.0-fast"):
        if audios and "asset" not in roles and not videos:
            problems.append("reference_audios: need at least one asset image or reference video")
    elif model == "dashscope/happyhorse-1.0":
        if videos and "duration" in body:
            problems.append("duration: not accepted in a video edit (with reference_videos)")
        if (videos or "first_frame" in roles) and "aspect_ratio" in body:
            problems.append("aspect_ratio: only for text-to-video and reference-to-video")
        if videos and roles.count("asset") > 5:
            problems.append(
                f"reference_images: a video edit takes at most 5 images (got {roles.count('asset')})"
            )
        if "audio_setting" in extra and not videos:
            problems.append("extra_params.audio_setting: only for a video edit (with reference_videos)")
    elif model == "kling/kling-v3-motion-control" and "character_orientation" not in extra:
        problems.append("extra_params.character_orientation: required (image or video)")


def _check_reference_images(body: Mapping[str, Any], rules: _ModelRules, problems: list[str]) -> list[str]:
    """Validates ``reference_images`` and returns the valid roles seen (for cross-field rules)."""
    low, high = rules.images
    if "reference_images" not in body:
        if low:
            problems.append(f"reference_images: required (exactly {low} image)")
        return []
    images = body["reference_images"]
    if not isinstance(images, list):
        problems.append("reference_images: must be an array")
        return []
    if len(images) > high:
        problems.append(f"reference_images: at most {high} images (got {len(images)})")
    elif len(images) < low:
        problems.append(f"reference_images: at least {low} image (got {len(images)})")
    roles: list[str] = []
    for i, item in enumerate(images):
        where = f"reference_images[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object {{url, reference_type}}")
            continue
        allowed = frozenset({"url", "reference_type"} if rules.roles else {"url"})
        problems.extend(_unknown_keys(item, allowed, where))
        url = item.get("url")
        if "url" not in item:
            problems.append(f"{where}.url: required")
        elif not isinstance(url, str) or not url.startswith(_URL_PREFIXES):
            problems.append(f"{where}.url: must be an http(s) URL or a data:image/... URI")
        if not rules.roles:
            roles.append("asset")  # the one character image of motion control has no role
        elif "reference_type" not in item:
            problems.append(f"{where}.reference_type: required ({', '.join(rules.roles)})")
        elif item["reference_type"] not in rules.roles:
            problems.append(
                f"{where}.reference_type: must be one of {', '.join(rules.roles)} "
                f"(got {item['reference_type']!r})"
            )
        else:
            roles.append(item["reference_type"])

    firsts, lasts, assets = (roles.count(r) for r in _REFERENCE_TYPES)
    if not rules.roles:
        return roles
    if assets and (firsts or lasts):
        problems.append("reference_images: asset images cannot be mixed with first_frame/last_frame images")
    else:
        if firsts > 1:
            problems.append("reference_images: at most one first_frame image")
        if lasts > 1:
            problems.append("reference_images: at most one last_frame image")
        if lasts and not firsts:
            problems.append("reference_images: a last_frame image requires a first_frame image")
    return roles


def _check_media(
    body: Mapping[str, Any],
    key: str,
    counts: tuple[int, int],
    refer_types: tuple[str, ...],
    problems: list[str],
) -> list[Mapping[str, Any]]:
    """Validates ``reference_videos`` / ``reference_audios``; returns the items that are valid objects."""
    low, high = counts
    if not high:
        return []  # not a field of this model: reported as an unknown field
    if key not in body:
        if low:
            problems.append(f"{key}: required (exactly {low})")
        return []
    items = body[key]
    if not isinstance(items, list):
        problems.append(f"{key}: must be an array")
        return []
    if len(items) > high:
        problems.append(f"{key}: at most {high} (got {len(items)})")
    elif len(items) < low:
        problems.append(f"{key}: at least {low} (got {len(items)})")
    valid: list[Mapping[str, Any]] = []
    for i, item in enumerate(items):
        where = f"{key}[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object {{url}}")
            continue
        problems.extend(
            _unknown_keys(item, frozenset({"url", "refer_type"} if refer_types else {"url"}), where)
        )
        url = item.get("url")
        if "url" not in item:
            problems.append(f"{where}.url: required")
        elif not isinstance(url, str) or not url.startswith(_MEDIA_URL_PREFIXES):
            problems.append(f"{where}.url: must be a public http(s) URL")
        if refer_types and item.get("refer_type") not in refer_types:
            problems.append(f"{where}.refer_type: must be one of {', '.join(refer_types)}")
        valid.append(item)
    return valid


def _check_extra_params(
    extra: Mapping[str, Any], rules: _ModelRules, duration: int | None, problems: list[str]
) -> tuple[bool, bool]:
    """Validates ``extra_params`` against the model's keys; returns (multi_shot on, customize mode on)."""
    problems.extend(_unknown_keys(extra, rules.extra_keys, "extra_params"))
    multi_shot = False
    if "multi_shot" in extra and "multi_shot" in rules.extra_keys:
        if isinstance(extra["multi_shot"], bool):
            multi_shot = extra["multi_shot"]
        else:
            problems.append("extra_params.multi_shot: must be a boolean")
    customize = False
    if "shot_type" in rules.extra_keys:
        _enum(extra, "shot_type", _SHOT_TYPES, "extra_params.", problems)
        if multi_shot and "shot_type" not in extra:
            problems.append(
                "extra_params.shot_type: required when multi_shot is true (customize|intelligence)"
            )
        customize = multi_shot and extra.get("shot_type") == "customize"

    shot_durations = _check_multi_prompt(extra, problems) if "multi_prompt" in rules.extra_keys else []
    if customize:
        shots = extra.get("multi_prompt")
        if "multi_prompt" not in extra:
            problems.append(
                "extra_params.multi_prompt: required with multi_shot true and shot_type 'customize'"
            )
        elif isinstance(shots, list):
            total = sum(shot_durations)
            if not 1 <= len(shots) <= 6:
                problems.append(f"extra_params.multi_prompt: must have 1 to 6 shots (got {len(shots)})")
            elif len(shot_durations) == len(shots) and duration is not None and total != duration:
                # Only comparable when every shot duration and the total itself are valid.
                problems.append(
                    f"extra_params.multi_prompt: shot durations add up to {total}s but duration is "
                    f"{duration}s (they must be equal; duration defaults to 5)"
                )

    if "negative_prompt" in extra and "negative_prompt" in rules.extra_keys:
        negative = extra["negative_prompt"]
        if not isinstance(negative, str):
            problems.append("extra_params.negative_prompt: must be a string")
        elif len(negative) > 2500:
            problems.append(f"extra_params.negative_prompt: at most 2500 characters (got {len(negative)})")
    if "cfg_scale" in extra and "cfg_scale" in rules.extra_keys:
        cfg = extra["cfg_scale"]
        if not _is_number(cfg) or not 0 <= cfg <= 1:
            problems.append(f"extra_params.cfg_scale: must be a number between 0 and 1 (got {cfg!r})")
    if "camera_control" in extra and "camera_control" in rules.extra_keys:
        _check_camera_control(extra["camera_control"], problems)
    if "character_orientation" in rules.extra_keys:
        _enum(extra, "character_orientation", ("image", "video"), "extra_params.", problems)
    if "audio_setting" in rules.extra_keys:
        _enum(extra, "audio_setting", ("auto", "origin"), "extra_params.", problems)
    return multi_shot, customize


def _check_multi_prompt(extra: Mapping[str, Any], problems: list[str]) -> list[int]:
    """Validates the shape of each shot; returns the durations of the shots whose duration is valid."""
    if "multi_prompt" not in extra:
        return []
    shots = extra["multi_prompt"]
    if not isinstance(shots, list):
        problems.append("extra_params.multi_prompt: must be an array of shots")
        return []
    durations: list[int] = []
    for i, shot in enumerate(shots):
        where = f"extra_params.multi_prompt[{i}]"
        if not isinstance(shot, dict):
            problems.append(f"{where}: must be an object {{index, prompt, duration}}")
            continue
        problems.extend(_unknown_keys(shot, _SHOT_KEYS, where))
        if "index" not in shot:
            problems.append(f"{where}.index: required")
        elif not _is_int(shot["index"]) or shot["index"] != i + 1:
            problems.append(f"{where}.index: must be the integer {i + 1} (shots are numbered 1..N in order)")
        prompt = shot.get("prompt")
        if "prompt" not in shot:
            problems.append(f"{where}.prompt: required")
        elif not isinstance(prompt, str) or not prompt.strip():
            problems.append(f"{where}.prompt: must be a non-empty string")
        elif len(prompt) > 512:
            problems.append(f"{where}.prompt: at most 512 characters (got {len(prompt)})")
        seconds = shot.get("duration")
        if "duration" not in shot:
            problems.append(f'{where}.duration: required (a string such as "3")')
        elif not isinstance(seconds, str) or not _DIGITS.fullmatch(seconds) or int(seconds) < 1:
            problems.append(
                f'{where}.duration: must be a string of an integer >= 1, e.g. "3" (got {seconds!r})'
            )
        else:
            durations.append(int(seconds))
    return durations


def _check_camera_control(camera: object, problems: list[str]) -> None:
    where = "extra_params.camera_control"
    if not isinstance(camera, dict):
        problems.append(f"{where}: must be an object {{type, config}}")
        return
    problems.extend(_unknown_keys(camera, frozenset({"type", "config"}), where))
    kind = camera.get("type")
    if "type" not in camera:
        problems.append(f"{where}.type: required ({', '.join(_CAMERA_TYPES)})")
    else:
        _enum(camera, "type", _CAMERA_TYPES, f"{where}.", problems)

    if "config" not in camera:
        if kind == "simple":
            problems.append(f"{where}.config: required when type is 'simple'")
        return
    if kind != "simple":
        problems.append(f"{where}.config: only allowed when type is 'simple'")
    config = camera["config"]
    if not isinstance(config, dict):
        problems.append(f"{where}.config: must be an object")
        return
    problems.extend(_unknown_keys(config, frozenset(_CAMERA_AXES), f"{where}.config"))
    non_zero = 0
    for axis in _CAMERA_AXES:
        if axis not in config:
            continue
        value = config[axis]
        if not _is_number(value) or not -10 <= value <= 10:
            problems.append(f"{where}.config.{axis}: must be a number between -10 and 10 (got {value!r})")
        elif value != 0:
            non_zero += 1
    if kind == "simple" and non_zero != 1:
        problems.append(f"{where}.config: type 'simple' needs exactly one non-zero value (got {non_zero})")


# --------------------------------------------------------------------------------------------
# Running on a real socket
# --------------------------------------------------------------------------------------------


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside someone else's event loop: it must not take over the process's signals."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = anyio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:  # older uvicorn releases call this instead
        return None


class _HideSimulatedResets(logging.Filter):
    """uvicorn logs every app exception at ERROR; scripted resets are expected, not errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, SimulatedConnectionReset)


@asynccontextmanager
async def serve_simulator(
    sim: Simulator, host: str = "127.0.0.1", port: int = 0, *, sock: socket.socket | None = None
) -> AsyncIterator[str]:
    """Run ``sim.app`` under uvicorn in the current (asyncio) event loop; yield the API base URL.

    The socket is bound here, before uvicorn starts, so the real port is known even with ``port=0``
    and a bind error surfaces as a plain ``OSError`` (uvicorn would ``sys.exit`` instead); or it is
    ``sock``, bound by the caller (then ``host`` and ``port`` are ignored). Sets
    ``sim.config.public_base_url`` to the bound address. Stops uvicorn on exit (in-flight requests
    get at most one second) and closes the socket.
    """
    if sock is None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if not sock.getsockname()[1]:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        host, bound_port = sock.getsockname()[:2]
        shown_host = "127.0.0.1" if host in ("", "0.0.0.0") else f"[{host}]" if ":" in host else host
        origin = f"http://{shown_host}:{bound_port}"
        sim.config.public_base_url = origin
        config = uvicorn.Config(
            sim.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = _EmbeddedServer(config)
        log_filter = _HideSimulatedResets()
        error_logger = logging.getLogger("uvicorn.error")
        error_logger.addFilter(log_filter)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(server.serve, [sock])
                with anyio.fail_after(10):
                    await server.ready.wait()
                try:
                    yield origin + API_PREFIX
                finally:
                    server.should_exit = True
        finally:
            error_logger.removeFilter(log_filter)
    finally:
        sock.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m imini_mcp.simulator``: serve until SIGINT/SIGTERM; prints the base URL to stderr."""
    parser = argparse.ArgumentParser(prog="python -m imini_mcp.simulator", description="Simulated imini API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--queued-seconds", type=float, default=2.0)
    parser.add_argument("--processing-seconds", type=float, default=8.0)
    parser.add_argument("--video-size", type=int, default=None, help="serve a synthetic MP4 of N bytes")
    parser.add_argument("--api-key", default=None, help="require this Bearer token (default: accept any)")
    args = parser.parse_args(argv)
    sim = Simulator(
        SimulatorConfig(
            api_key=args.api_key,
            queued_seconds=args.queued_seconds,
            processing_seconds=args.processing_seconds,
            video_size=args.video_size,
        )
    )

    async def run() -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with serve_simulator(sim, args.host, args.port) as base_url:
                print(base_url, file=sys.stderr, flush=True)
                async for _ in signals:
                    break

    anyio.run(run)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
