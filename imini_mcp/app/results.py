"""What the tools return: imini's task as this server reports it, dry runs, cost estimates, next steps.

These models are the tools' `outputSchema` and `structuredContent`; `render_*` give the short text
for clients that only show text. Parsing imini's JSON into them is lenient (unknown keys ignored,
unknown status values kept) because imini may add fields or states.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from imini_mcp.imini.wire import TaskFailure, TaskSnapshot, Video
from imini_mcp.request import CostEstimate


class LocalFile(BaseModel):
    """A result saved on this machine (output mode file or both)."""

    path: str = Field(description="Absolute path of the saved file.")
    kind: str = Field(description="video | cover")
    size: int = Field(description="Bytes.")
    source_url: str = Field(description="Where it was downloaded from.")


class TaskView(BaseModel):
    """A video task as this server knows it."""

    task_id: str = Field(description="imini's task id; keep it to check on the video later.")
    model: str | None = None
    status: str = Field(
        description="queued | processing | succeeded | failed. Any other value imini sends is shown as is "
        "and treated as still running."
    )
    is_terminal: bool = Field(
        description="true once the task succeeded or failed; it will not change any more."
    )
    created_at: str | None = None
    completed_at: str | None = None
    request_id: str | None = Field(None, description="imini's request id (support asks for it).")
    videos: list[Video] = Field(default_factory=list, description="The results, once succeeded.")
    error: TaskFailure | None = Field(None, description="Why it failed, once failed.")
    files: list[LocalFile] = Field(
        default_factory=list, description="Saved copies (output mode file or both)."
    )
    download_error: str | None = Field(
        None, description="Why saving a file failed; the URLs above still work, and a later get_task retries."
    )
    next_step: str = Field(description="What to do next, in words.")

    @classmethod
    def from_snapshot(cls, snap: TaskSnapshot) -> TaskView:
        return cls(
            task_id=snap.task_id,
            model=snap.model,
            status=snap.status,
            is_terminal=snap.is_terminal,
            created_at=snap.created_at,
            completed_at=snap.completed_at,
            request_id=snap.request_id,
            videos=snap.videos,
            error=snap.error,
            next_step=next_step_for(snap.task_id, snap.status),
        )


def next_step_for(task_id: str, status: str) -> str:
    if status == "succeeded":
        return "Done: download or show the video URL(s). The URLs may not last forever; save the file if it matters."
    if status == "failed":
        return (
            "The task failed (see error) and will not change; a failed task is final. Fix the cause and "
            "call generate_video again for a new task."
        )
    return (
        f'Still {status}. Call get_task with {{"task_id": "{task_id}"}} to check again; '
        "a video usually takes 1–3 minutes."
    )


class GenerateVideoResult(BaseModel):
    """What `generate_video` did: a dry run, or the submitted task."""

    submitted: bool = Field(
        description="true = sent to imini (credits are being used); false = dry run only."
    )
    replayed: bool = Field(
        False,
        description="true = this idempotency_key was used before; the earlier task is returned, nothing sent.",
    )
    request_body: dict[str, Any] = Field(
        description="The exact JSON body sent to imini (or that would be sent)."
    )
    estimated_cost: CostEstimate
    notes: list[str] = Field(default_factory=list, description="Things worth knowing about this request.")
    task: TaskView | None = Field(None, description="The imini task, when submitted.")
    next_step: str = Field(description="What to do next, in words.")


class TaskSummary(BaseModel):
    """One entry of the local task journal."""

    journal_id: int = Field(description="This server's own number for the entry.")
    task_id: str | None = Field(description="imini's task id; null when the submit's outcome is unknown.")
    state: str = Field(
        description="accepted (imini has it) | outcome_unknown (may exist and be billed; id never arrived) | "
        "rejected (refused, nothing created) | submitting (in flight)."
    )
    status: str | None = Field(
        description="Last imini status seen: queued | processing | succeeded | failed."
    )
    submitted_at: str
    completed_at: str | None = None
    summary: str = Field(description="What was asked for.")
    videos: list[Video] = Field(default_factory=list)
    error: TaskFailure | None = None
    files: list[str] = Field(default_factory=list, description="Local copies of the results, if downloaded.")
    next_step: str


class TaskList(BaseModel):
    """Tasks from the local journal, newest first."""

    tasks: list[TaskSummary]
    total_in_journal: int = Field(description="How many entries this user has in the journal in all.")
    next_step: str


# ---------------------------------------------------------------------------------------------------
# Text for clients that only show text content


def render_task(view: TaskView) -> str:
    lines = [f"Task {view.task_id}: {view.status}" + (" (final)" if view.is_terminal else "")]
    for n, video in enumerate(view.videos, start=1):
        size = f" {video.width}x{video.height}" if video.width and video.height else ""
        length = f", {video.duration:g} s" if video.duration else ""
        lines.append(f"Video {n}{size}{length}: {video.url}")
        if video.cover_url:
            lines.append(f"Cover {n}: {video.cover_url}")
    lines += [f"Saved {f.kind}: {f.path} ({f.size:,} bytes)" for f in view.files]
    if view.download_error:
        lines.append(f"Download failed: {view.download_error}")
    if view.error:
        lines.append(f"Error: {view.error.code or 'unknown'}: {view.error.message or 'no message'}")
    lines.append(f"Next: {view.next_step}")
    return "\n".join(lines)


def render_generate(result: GenerateVideoResult) -> str:
    cost = result.estimated_cost
    head = "Submitted to imini." if result.submitted else "Dry run: valid, nothing was sent."
    lines = [head, f"Estimated cost: ~{cost.credits} credits ({cost.basis}; estimate only)."]
    lines += [f"Note: {note}" for note in result.notes]
    if result.task:
        lines.append(render_task(result.task))
    else:
        lines.append(
            "Body that would be sent:\n" + json.dumps(result.request_body, indent=2, ensure_ascii=False)
        )
        lines.append(f"Next: {result.next_step}")
    return "\n".join(lines)


def render_task_list(result: TaskList) -> str:
    if not result.tasks:
        return result.next_step
    lines = [f"{len(result.tasks)} of {result.total_in_journal} journalled tasks, newest first:"]
    for t in result.tasks:
        who = t.task_id or f"journal #{t.journal_id}"
        lines.append(f"- {who} [{t.status or t.state}] {t.submitted_at} {t.summary}")
        lines += [f"    video: {v.url}" for v in t.videos]
        if t.error:
            lines.append(f"    error: {t.error.code}: {t.error.message}")
    lines.append(f"Next: {result.next_step}")
    return "\n".join(lines)
