"""Whether the task store answers: what a load balancer's health check asks of each server."""

from __future__ import annotations

import logging
from functools import partial

import anyio
import anyio.to_thread

from imini_mcp.store import TaskStore

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 2.0  # seconds; a database that takes longer is reported unreachable


async def store_problem(store: TaskStore | None, *, within: float = PROBE_TIMEOUT) -> str | None:
    """None if ``store`` answered one primary-key lookup within ``within`` seconds; else a short reason,
    fit for an unauthenticated health endpoint (the details go to the log only)."""
    if store is None:
        return "not open"
    with anyio.move_on_after(within):
        try:
            # A hung database must not hold the check: the thread is left to finish on its own.
            await anyio.to_thread.run_sync(partial(store.get_by_journal_id, 0), abandon_on_cancel=True)
        except Exception as exc:
            log.warning("health check: the task store failed: %s", exc)
            return "unreachable"
        return None
    log.warning("health check: the task store did not answer within %g s", within)
    return "not answering"
