"""Tasks: what the simulator keeps per created task, its clock-driven status, and the poll answer."""

from __future__ import annotations

import secrets
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from imini_mcp.simulator.config import FILES_PATH, SimulatorConfig
from imini_mcp.simulator.media import frame_size
from imini_mcp.simulator.responses import iso, request_id


@dataclass
class Task:
    """A created task, as the simulator keeps it (mutable: a fault may fail or expire it)."""

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


def new_task_id() -> str:
    """``task_`` and 19 digits, like the docs' example."""
    return f"task_{secrets.randbelow(9 * 10**18) + 10**18}"


def status_of(task: Task, config: SimulatorConfig, now: float) -> str:
    """``queued → processing → succeeded | failed``, by the time elapsed since the task was created."""
    elapsed = now - task.created_clock
    if elapsed < config.queued_seconds:
        return "queued"
    if elapsed < config.queued_seconds + config.processing_seconds:
        return "processing"
    return task.outcome


def snapshot(task: Task, config: SimulatorConfig, now: float) -> SimTask:
    """A read-only copy of ``task`` as it stands at ``now``."""
    return SimTask(
        task_id=task.task_id,
        request=deepcopy(task.request),
        status=status_of(task, config, now),
        created_at=iso(task.created_wall),
        outcome=task.outcome,
        error=deepcopy(task.error),
        expired=task.expired,
    )


def media_file(media_dir: Path, task_id: str, ext: str) -> Path:
    """Where ``media_dir`` keeps a task's result file (``<task_id>.mp4`` or ``.jpg``)."""
    return Path(media_dir).resolve() / f"{task_id}.{ext}"


def result_url(task_id: str, ext: str, config: SimulatorConfig) -> str:
    """A result file's URL: this server's ``/files/``, or with ``media_dir`` the file:// URL of its copy there."""
    if config.media_dir is not None:
        return media_file(config.media_dir, task_id, ext).as_uri()
    return f"{config.public_base_url.rstrip('/')}{FILES_PATH}{task_id}.{ext}"


def task_payload(task: Task, config: SimulatorConfig) -> dict[str, Any]:
    """The section-5.1 task object a poll answers right now."""
    status = status_of(task, config, config.clock())
    terminal = status in ("succeeded", "failed")
    completed = task.created_wall + timedelta(seconds=config.queued_seconds + config.processing_seconds)
    videos = None
    if status == "succeeded":
        width, height = frame_size(task.resolution, task.aspect_ratio)
        videos = [
            {
                "url": result_url(task.task_id, "mp4", config),
                "width": width,
                "height": height,
                "duration": task.duration,
                "cover_url": result_url(task.task_id, "jpg", config),
            }
        ]
    return {
        "task_id": task.task_id,
        "status": status,
        "model": task.model,
        "created_at": iso(task.created_wall),
        "completed_at": iso(completed) if terminal else None,
        "videos": videos,
        "error": deepcopy(task.error) if status == "failed" else None,
        "request_id": request_id(),
    }
