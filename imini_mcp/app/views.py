"""A task as the caller sees it, from what the store recorded or what imini answered: the one place that
turns records and snapshots into `TaskView` / `TaskSummary` (and a record back into imini's snapshot, for
a server following another's poll), with the next step and progress in words."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from imini_mcp.app.not_found import EXPIRED_STEP
from imini_mcp.app.results import GenerateVideoResult, TaskList, TaskSummary, TaskView
from imini_mcp.imini import TaskFailure, TaskSnapshot, Video, WaitState
from imini_mcp.request import CATALOG, DEFAULT_MODEL, CostEstimate
from imini_mcp.store import TaskRecord

QUEUED = "queued"  # the status of an accepted task that no poll has seen yet
EXPIRED = "expired"  # shown as the status of a task imini no longer knows (this server's word, not imini's)


def shown_status(record: TaskRecord) -> str:
    """The status a caller sees: imini's last one, "queued" before any poll, "expired" once imini said 404."""
    return EXPIRED if record.state == "expired" else record.status or QUEUED


def next_step_for(task_id: str, status: str) -> str:
    if status == EXPIRED:
        return EXPIRED_STEP
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


def snapshot_view(snap: TaskSnapshot) -> TaskView:
    """What imini just answered, for a task this server has no record of."""
    return TaskView(
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


def record_view(record: TaskRecord) -> TaskView:
    """An accepted (or expired) task as last recorded (an error only once it failed or expired)."""
    assert record.task_id is not None
    status = shown_status(record)
    return TaskView(
        task_id=record.task_id,
        model=record.model,
        status=status,
        is_terminal=record.is_terminal,
        created_at=record.created_at,
        completed_at=record.completed_at,
        request_id=record.request_id,
        videos=[Video.model_validate(v) for v in record.videos],
        error=TaskFailure.model_validate(record.error)
        if record.error and status in ("failed", EXPIRED)
        else None,
        next_step=next_step_for(record.task_id, status),
    )


def iso_time(ts: float | None) -> str | None:
    return (
        datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if ts else None
    )


def _what_was_asked(record: TaskRecord) -> str:
    body = record.body
    shots = (body.get("extra_params") or {}).get("multi_prompt") or []
    what = f"{len(shots)}-shot storyboard" if shots else (body.get("prompt") or "")[:80]
    model = CATALOG.get(record.model) or CATALOG[DEFAULT_MODEL]  # the model's own defaults fill the gaps
    seconds = body.get("duration", model.default_duration)
    parts = [
        record.model,
        f"{seconds} s" if seconds else "",
        body.get("resolution", model.default_resolution),
        body.get("aspect_ratio", model.default_aspect_ratio) or "",
    ]
    spec = ", ".join(part for part in parts if part)
    return f"{what} ({spec})".strip()


def _summary_next_step(record: TaskRecord) -> str:
    if record.task_id:
        return next_step_for(record.task_id, shown_status(record))
    if record.state == "rejected":
        return "imini refused it; nothing was created or billed."
    return (
        "Outcome unknown: imini may have created (and billed) this task but its id never arrived. "
        "Do not resubmit blindly."
    )


def summarize(record: TaskRecord) -> TaskSummary:
    """One line of the task list, for any recorded submit (accepted, rejected or of unknown outcome)."""
    return TaskSummary(
        journal_id=record.journal_id,
        task_id=record.task_id,
        state=record.state,
        status=record.status,
        submitted_at=iso_time(record.submitted_at) or "",
        completed_at=record.completed_at,
        summary=_what_was_asked(record),
        videos=[Video.model_validate(v) for v in record.videos],
        error=TaskFailure.model_validate(record.error) if record.error else None,
        files=record.files,
        next_step=_summary_next_step(record),
    )


def snapshot_of(record: TaskRecord) -> TaskSnapshot | None:
    """The task as its poller last recorded it, in imini's shape; None before it has a task id."""
    if record.task_id is None:
        return None
    return TaskSnapshot.model_validate(
        {
            "task_id": record.task_id,
            "status": record.status or QUEUED,
            "model": record.model,
            "created_at": record.created_at,
            "completed_at": record.completed_at,
            "videos": record.videos,
            "error": record.error,
            "request_id": record.request_id,
        }
    )


def dry_run_result(shown: dict[str, Any], cost: CostEstimate, notes: list[str]) -> GenerateVideoResult:
    """What a dry run answers: the body that would be sent, the estimate, and how to submit it."""
    return GenerateVideoResult(
        submitted=False,
        request_body=shown,
        estimated_cost=cost,
        notes=notes,
        next_step="Looks good. Call generate_video again with the same arguments and dry_run false to "
        f"submit it (about {cost.credits} credits).",
    )


def progress_message(state: WaitState, record: TaskRecord, age: float) -> str:
    """A progress notification's words while a call waits for a task."""
    status = state.snapshot.status if state.snapshot else (record.status or QUEUED)
    text = f"Task {state.task_id} is {status}: {age:.0f} s since submit (a video usually takes 1–3 min)."
    if state.last_error is not None:
        text += f" Last check failed ({state.last_error.message}); retrying."
    return text


def task_list(rows: list[TaskRecord], total: int) -> TaskList:
    """A page of list_tasks, with what to do next."""
    summaries = [summarize(r) for r in rows]
    hint = (
        'Call get_task with a task_id for details, or with "wait_seconds" to wait for it.'
        if summaries
        else "No tasks match. generate_video creates one."
    )
    return TaskList(tasks=summaries, total_in_journal=total, next_step=hint)
