"""After a crash: a submit that was in flight may have created (and billed) a task. Say so, never resubmit."""

from __future__ import annotations

import logging
import os
import socket
import time

from imini_mcp.store import TaskStore

log = logging.getLogger(__name__)


def recover_interrupted_submits(store: TaskStore, *, longest_submit_seconds: float) -> None:
    """A 'submitting' row left by a crash may have created a task: say so instead of leaving it in limbo.

    Settled at once when its submitter was a process on this host that no longer runs; otherwise (another
    host sharing the store, or an old row without that record) once it is older than any submit can take.
    """
    horizon = time.time() - longest_submit_seconds
    host = socket.gethostname()
    for record in store.stale_submitting(time.time()):
        submitter = record.options.get("submitter") or {}
        gone = submitter.get("host") == host and not process_alive(submitter.get("pid"))
        if not gone and record.submitted_at > horizon:
            continue  # may still be in flight in another live process
        store.mark_outcome_unknown(
            record.journal_id,
            code="INTERRUPTED",
            message="the server stopped while submitting; a task may exist at imini",
        )
        log.warning("journal #%d: submit interrupted by a crash, outcome unknown", record.journal_id)


def submitter() -> dict[str, object]:
    """Who submits, recorded with the intent: after a crash the next start can tell a dead submitter."""
    return {"pid": os.getpid(), "host": socket.gethostname()}


def process_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return False  # this process is only starting: the row is from an earlier life with a recycled pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
