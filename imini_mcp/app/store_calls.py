"""Calling the task store from async code: off the event loop, and an unreachable store as a plain,
retryable error (`StoreUnavailable`) rather than a driver's exception."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from imini_mcp.imini import IminiError
from imini_mcp.store import is_outage

log = logging.getLogger(__name__)
T = TypeVar("T")


class StoreUnavailable(IminiError):
    """The task store (the database, or the journal file) cannot answer right now; a retry may work."""

    transient = True
    default_next_step = (
        "The server's task store is unreachable for the moment; call again in a little while. Tasks already "
        "submitted keep running at imini and are not lost."
    )


async def stored(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one (blocking) store call in a worker thread; an outage raises `StoreUnavailable`."""
    try:
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))
    except Exception as exc:
        if not is_outage(exc):
            raise
        log.warning("task store unavailable: %s", exc)
        raise StoreUnavailable(f"The task store cannot be reached ({type(exc).__name__})") from exc
