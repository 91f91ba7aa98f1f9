"""What a test configures: the simulator's knobs, scripted faults, a manual clock, and the URL paths."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal, get_args

from imini_mcp.simulator.checks import is_number
from imini_mcp.simulator.media import MIN_VIDEO_SIZE

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


@dataclass
class SimulatorConfig:
    """Knobs of a :class:`Simulator`. Mutable: :func:`serve_simulator` sets ``public_base_url``."""

    api_key: str | None = None  # None: any non-empty Bearer token is accepted
    queued_seconds: float = 2.0
    processing_seconds: float = 8.0
    clock: Callable[[], float] = time.monotonic
    video_size: int | None = None  # None: the real sample MP4; int: synthetic MP4 of exactly this size
    public_base_url: str = "http://127.0.0.1"
    # Tasks kept in this folder (persist.py), so a later simulator on it knows them; `clock` must then be a
    # wall clock (time.time) or shared by every simulator on the folder.
    tasks_dir: Path | None = None
    # Results given as file:// URLs of copies kept in this folder, valid after the process exits (persist.py).
    media_dir: Path | None = None

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
        if not is_number(self.seconds) or self.seconds < 0:
            raise ValueError(f"seconds must be a number >= 0, got {self.seconds!r}")
        if self.retry_after is not None and (not is_number(self.retry_after) or self.retry_after < 0):
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
