"""Arguments of the task tools (`get_task`, `list_tasks`): small, strict, described for an LLM."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

from imini_mcp.request.lazy_model import LazyModel
from imini_mcp.request.waits import WAIT_LIMITS_IN_WORDS

TASK_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"

WAIT_DESCRIPTION = (
    "Seconds to wait for the task to end (with progress); 0 = check once. " + WAIT_LIMITS_IN_WORDS
)


def _parse_since(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"is not an ISO 8601 date or time (got {value!r}). Fix: use e.g. 2026-11-24 or 2026-11-24T09:30:00Z."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class GetTaskArguments(LazyModel):
    model_config = ConfigDict(extra="forbid")

    task_id: str = Field(
        pattern=TASK_ID_PATTERN,
        description="The task id generate_video returned, e.g. task_2042864638838083584.",
    )
    wait_seconds: float | None = Field(None, ge=0, description=WAIT_DESCRIPTION)
    output: Literal["url", "file", "both"] | None = Field(
        None,
        description="url: imini's links; file / both: also save video and cover on this machine. Default: as "
        "generate_video asked, else the server's setting.",
    )


class ListTasksArguments(LazyModel):
    model_config = ConfigDict(extra="forbid")

    status: (
        Literal["queued", "processing", "succeeded", "failed", "outcome_unknown", "rejected", "expired"]
        | None
    ) = Field(
        None,
        description="Only tasks with this imini status, or with this journal state (outcome_unknown = the submit "
        "may have created a task whose id never arrived; rejected = imini refused it; expired = imini no longer "
        "knows the task).",
    )
    since: Annotated[str, AfterValidator(_parse_since)] | None = Field(
        None,
        description="Only tasks submitted at or after this ISO 8601 date/time (UTC unless a zone is given).",
    )
    limit: int = Field(20, ge=1, le=200, description="At most this many tasks (default 20), newest first.")
