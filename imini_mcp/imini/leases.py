"""What the poll loop needs to share a task with other processes: a lease that says who polls it.

The imini layer knows no store, so `TaskFollower` takes this small protocol; the app implements it on the
task store (app/leases.py). Without one, a `TaskFollower` polls every task it follows (one process).
"""

from __future__ import annotations

from typing import Protocol

import anyio

from imini_mcp.imini.wire import TaskSnapshot

__all__ = ["PollLeases"]


class PollLeases(Protocol):
    """One poller per task across processes; the others follow what it records.

    Methods may raise a transient `IminiError` (say, the store is unreachable): the loop tells its
    waiters and tries again, polling only once a claim succeeded again.
    """

    @property
    def retry_seconds(self) -> float:
        """How often (real seconds) a follower tries to take the task over without being woken."""

    async def claim(self, owner: str, task_id: str) -> bool:
        """Claim, or renew, this process's lease on the task; True while it may poll. Called before every
        poll: False means another process polls it now (or took it over while this one was stalled)."""

    async def release(self, owner: str, task_id: str) -> None:
        """Give the lease up (the task ended, or nobody here waits any more): a follower takes over at once."""

    def changed(self, owner: str, task_id: str) -> anyio.Event:
        """An event set at the task's next recorded change, whichever process recorded it.

        Arm it (call this) before reading with `latest`, then wait: a change in between is not lost.
        """

    async def latest(self, owner: str, task_id: str) -> TaskSnapshot | None:
        """The task as last recorded by whichever process polls it; None if nothing is recorded."""
