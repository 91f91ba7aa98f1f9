"""What the use cases return: a task as this server reports it, a dry run or submit, the task list.

These models are also the tools' `outputSchema` and `structuredContent` (the MCP layer adds short text).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from imini_mcp.imini import TaskFailure, Video
from imini_mcp.request import CostEstimate, LazyModel


class LocalFile(LazyModel):
    """A result saved on this machine (output mode file or both)."""

    path: str = Field(description="Absolute path of the saved file.")
    kind: str = Field(description="video | cover")
    size: int = Field(description="Bytes.")
    source_url: str = Field(description="Where it was downloaded from.")


class TaskView(LazyModel):
    """A video task as this server knows it."""

    task_id: str = Field(description="imini's task id; keep it to check on the video later.")
    model: str | None = None
    status: str = Field(
        description="queued | processing | succeeded | failed, or expired: imini answered 404 for a task it had "
        "issued (it expired or was removed there). Any other value imini sends is shown as is and treated as "
        "still running."
    )
    is_terminal: bool = Field(
        description="true once the task succeeded, failed or expired; it will not change any more."
    )
    created_at: str | None = None
    completed_at: str | None = None
    request_id: str | None = Field(None, description="imini's request id (support asks for it).")
    videos: list[Video] = Field(default_factory=list, description="The results, once succeeded.")
    error: TaskFailure | None = Field(None, description="Why it failed or expired, once it did.")
    files: list[LocalFile] = Field(
        default_factory=list, description="Saved copies (output mode file or both)."
    )
    download_error: str | None = Field(
        None, description="Why saving a file failed; the URLs above still work, and a later get_task retries."
    )
    next_step: str = Field(description="What to do next, in words.")


class GenerateVideoResult(LazyModel):
    """What `generate_video` did: a dry run, a submit, or the replay of an earlier submit."""

    submitted: bool = Field(
        description="true = this call sent the request to imini (credits are being used); false = this call sent "
        "nothing: a dry run, or a replay (see replayed)."
    )
    replayed: bool = Field(
        False,
        description="true = this idempotency_key was already used for the same request: nothing was sent or "
        "billed again, and task is the task that first call created.",
    )
    request_body: dict[str, Any] = Field(
        description="The exact JSON body sent to imini (or that would be sent)."
    )
    estimated_cost: CostEstimate
    notes: list[str] = Field(default_factory=list, description="Things worth knowing about this request.")
    task: TaskView | None = Field(
        None, description="The imini task: the one this call submitted, or for a replay the earlier one."
    )
    next_step: str = Field(description="What to do next, in words.")


class TaskSummary(LazyModel):
    """One entry of the local task journal."""

    journal_id: int = Field(description="This server's own number for the entry.")
    task_id: str | None = Field(description="imini's task id; null when the submit's outcome is unknown.")
    state: str = Field(
        description="accepted (imini has it) | outcome_unknown (may exist and be billed; id never arrived) | "
        "rejected (refused, nothing created) | submitting (in flight) | expired (imini no longer knows it: "
        "it answered 404; final)."
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


class TaskList(LazyModel):
    """Tasks from the local journal, newest first."""

    tasks: list[TaskSummary]
    total_in_journal: int = Field(description="How many entries this user has in the journal in all.")
    next_step: str
