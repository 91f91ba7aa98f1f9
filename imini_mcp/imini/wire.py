"""imini's wire models: what `POST /v1/videos/generate` and `GET /v1/videos/tasks/{id}` answer (imini-api.md §2, §5).

Parsing is lenient (unknown keys ignored, unknown status values kept) because imini may add fields or states.
The task statuses are defined here, once; everything else imports them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

DOCUMENTED_STATUSES = ("queued", "processing", "succeeded", "failed")
TERMINAL_STATUSES = frozenset({"succeeded", "failed"})


def is_terminal(status: str | None) -> bool:
    """Anything imini adds beyond the four documented values is treated as still running."""
    return status in TERMINAL_STATUSES


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)  # built on first use: a faster start


class Video(_Lenient):
    """One generated video (imini returns a list; usually one)."""

    url: str = Field(
        description="Where to download the MP4 (imini's CDN; how long it stays is not documented)."
    )
    width: int | None = Field(None, description="Width in pixels (roughly, e.g. 1284 for 720P 16:9).")
    height: int | None = Field(None, description="Height in pixels.")
    duration: float | None = Field(None, description="Length in seconds.")
    cover_url: str | None = Field(None, description="A cover image (JPEG) for the video.")


class TaskFailure(_Lenient):
    """Why imini failed a task."""

    code: str | None = None
    message: str | None = None


class TaskSnapshot(_Lenient):
    """One answer of `GET /v1/videos/tasks/{task_id}` (imini-api.md §5.1)."""

    task_id: str
    status: str
    model: str | None = None
    created_at: str | None = None
    completed_at: str | None = None
    videos: list[Video] = Field(default_factory=list)
    error: TaskFailure | None = None
    request_id: str | None = None

    @field_validator("videos", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.status)


class SubmitReceipt(_Lenient):
    """The answer of `POST /v1/videos/generate` (imini-api.md §2.4)."""

    task_id: str
    model: str | None = None
    created_at: str | None = None
    request_id: str | None = None
