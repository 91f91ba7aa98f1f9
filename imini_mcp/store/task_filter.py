"""list_tasks' WHERE clause, the same for every SQL store; only the placeholder and the options test differ."""

from __future__ import annotations

from typing import Any

from imini_mcp.store.base import TASK_STATES


def list_filter(
    owner: str,
    *,
    status: str | None,
    since: float | None,
    with_option: str | None,
    mark: str,
    option_test: str,
) -> tuple[list[str], list[Any]]:
    """The terms (joined with AND) and their parameters; `mark` is the driver's placeholder ("?" or "%s")."""
    where = [f"owner = {mark}"]
    params: list[Any] = [owner]
    if status is not None:
        # State names never collide with imini's statuses, so one argument can mean either.
        where.append(f"state = {mark}" if status in TASK_STATES else f"status = {mark}")
        params.append(status)
    if since is not None:
        where.append(f"submitted_at >= {mark}")
        params.append(since)
    if with_option is not None:
        where.append(option_test)
        params.append(with_option)
    return where, params


def after_cursor(
    where: list[str], params: list[Any], before_journal_id: int, cursor_submitted_at: float | None, mark: str
) -> None:
    """Page on after the cursor row in (submitted_at, journal_id) order; a row-value comparison lets the database
    seek in the index. A cursor that is not this owner's row pages by id alone, revealing nothing of others."""
    if cursor_submitted_at is not None:
        where.append(f"(submitted_at, journal_id) < ({mark}, {mark})")
        params += [cursor_submitted_at, before_journal_id]
    else:
        where.append(f"journal_id < {mark}")
        params.append(before_journal_id)
