"""imini's 404 for a task: when it is final for a journalled task, and what to tell the caller in each case.

imini's 404 means the task "does not exist or has expired" [DOC]; how long tasks live, and whether a task can
be briefly unknown right after its submit, is not documented. For a task this server journalled (imini issued
the id) a 404 is final once imini has shown the task before, or once `NOT_FOUND_GRACE` has passed since the
submit: the task is then recorded as expired. Before that a 404 may only be a delay at imini [INFER], and
settling would stop following a task that exists and is billed, so the journal keeps the task as it was and a
wait keeps polling (`TaskNotVisibleYet` is transient). For an id that is not in the journal, the 404 is the
answer: the id is wrong, or the task expired.
"""

from __future__ import annotations

from imini_mcp.imini import IminiError, TaskNotFound
from imini_mcp.store import TaskRecord

NOT_FOUND_GRACE = 300.0  # seconds after the submit in which imini may not know a task it has never shown yet
NOT_FOUND_CODE = "TASK_NOT_FOUND"  # imini's code for it ([SKILL]), stored when imini's answer had none

EXPIRED_STEP = (
    "imini no longer knows this task (it answered HTTP 404: the task expired or was removed there), so it will "
    "not change. The journal keeps it with what was last seen, and get_task answers from there; submit a new "
    "generation if you still need the video."
)
UNKNOWN_TASK_STEP = (
    "This task id is not in this server's journal either: check it (ids look like task_2042864638838083584; "
    "generate_video's answer and list_tasks show yours). imini forgets tasks after a while; if it expired, "
    "submit a new generation."
)


class TaskNotVisibleYet(IminiError):
    """imini answered 404 for a journalled task it has never shown, within the grace: keep following it."""

    transient = True


def is_final(record: TaskRecord, now: float, grace: float = NOT_FOUND_GRACE) -> bool:
    """Whether imini's 404 for this journalled task is final: imini showed it before, or the grace is over."""
    return record.last_polled_at is not None or now - record.submitted_at >= grace


def not_visible_yet(exc: TaskNotFound, task_id: str) -> TaskNotVisibleYet:
    """A wait's view of a 404 within the grace: transient, with imini's facts kept."""
    return TaskNotVisibleYet(
        f"imini does not know task {task_id} yet", code=exc.code, status=exc.status, request_id=exc.request_id
    )


def not_visible_step(
    task_id: str, status: str, age: float, wait: float, grace: float = NOT_FOUND_GRACE
) -> str:
    """The next step for a journalled task imini answers 404 for within the grace (the same for any wait)."""
    return (
        f"imini does not know task {task_id} yet (HTTP 404, {age:.0f} s after the submit; right after a submit "
        f"this can be a short delay at imini). It stays in the journal as {status}, and nothing was submitted "
        f'again. Call get_task with {{"task_id": "{task_id}", "wait_seconds": {wait:g}}} to keep checking; if '
        f"imini still does not know it {grace / 60:g} minutes after the submit, it is recorded as expired."
    )


def unknown_task(exc: TaskNotFound) -> TaskNotFound:
    """imini's 404 for an id this server never journalled, with the next step for that case."""
    exc.next_step = UNKNOWN_TASK_STEP
    return exc


OWN_TASKS_STEP = (
    "Only the tasks you submitted through this server can be read here: check the id (list_tasks shows yours; "
    "ids look like task_2042864638838083584)."
)


def not_among_own(task_id: str) -> TaskNotFound:
    """OAuth mode: an id not in the caller's own records is unknown to them, whatever imini knows of it (the
    same answer for any such id, so it tells nothing about other people's tasks)."""
    exc = TaskNotFound(f"There is no task {task_id} among your tasks", code=NOT_FOUND_CODE, status=404)
    exc.next_step = OWN_TASKS_STEP
    return exc
