"""What lets several replicas share one store: a poll lease per task, and a watcher that wakes waiters.

`TaskStore` (base.py) includes `Coordination`, so every store keeps this contract too, and
tests/store/test_store_contract.py checks it on each implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import anyio

__all__ = ["ChangeWatcher", "Coordination", "PollLease"]


@dataclass(frozen=True)
class PollLease:
    """Who polls a task now, and for how much longer unless renewed."""

    poller: str
    expires_in: float  # seconds, on the store's lease clock (so no replica's own clock is involved)


@runtime_checkable
class ChangeWatcher(Protocol):
    """Wakes this process's waiters when a task changes, whichever process changed it.

    A change is a new row or a change to a task's state, task id, status, results, files, options or poll
    lease (not a bare poll time or a lease renewal). One watcher per process is enough; ``run`` lives in
    the server's task group, and ``changed`` is called on its event loop.

    Use: arm first, then read, then wait (a change between the read and the wait is not lost)::

        while True:
            event = watcher.changed(owner, task_id)
            record = await anyio.to_thread.run_sync(store.get, owner, task_id)
            if record is not None and record.is_terminal:
                return record
            with anyio.move_on_after(5.0):  # a safety net, and a tick for progress
                await event.wait()
    """

    def changed(self, owner: str, task_id: str) -> anyio.Event:
        """The event set at the next change of this task (waiters of one task share it).

        It may also be set when the watcher could have missed changes (it reconnected): the waiter then
        reads again. An event is set once; arm again (call ``changed`` again) for the next change.
        """

    async def run(self) -> None:
        """Watch until cancelled, reconnecting with a back-off when the store is unreachable (logged)."""

    async def ready(self) -> None:
        """Return once ``run`` watches (for tests and start-up ordering; waiters need not call it)."""


@runtime_checkable
class Coordination(Protocol):
    """One poller per task across processes: a lease on the task, claimed and renewed by its poller.

    A poller is a name unique to one process's poll loop (e.g. "host:pid:random"). A lease lasts
    ``ttl`` seconds from its last claim or renewal on the store's lease clock: PostgreSQL's ``now()``
    (the database clock, never a replica's), SQLite's store clock (one host). The rules:

    - ``claim_poll`` before every poll: True only while this poller holds the lease (fencing). A poller
      whose lease was taken over while it was stalled gets False and must stop polling that task.
    - ``renew_leases`` as a heartbeat, more often than ``ttl`` (e.g. ttl 10 s, every 3 s), so a long
      sleep between polls does not lose the lease.
    - ``release_poll`` when a task is terminal, when no waiter is left, and on a clean stop: another
      process can then claim at once (the watcher wakes it) instead of after the ttl.
    - Followers (waiters without the lease) wait on the watcher and try ``claim_poll`` on each wake-up
      or tick: a refused claim writes nothing.
    """

    def claim_poll(self, owner: str, task_id: str, poller: str, ttl: float) -> bool:
        """Claim the owner's task for ``poller`` for ``ttl`` seconds, or renew it if already held.

        Succeeds when the task has no lease, the lease is ``poller``'s own, or it expired. One atomic
        statement: of concurrent claims, at most one poller holds the lease afterwards.

        Returns:
            True if ``poller`` holds the lease now; False if another poller's lease is live, or this
            owner has no such task.

        Raises:
            ValueError: ``poller`` is empty or ``ttl`` is not positive.
        """

    def renew_leases(self, poller: str, ttl: float) -> int:
        """Extend every lease ``poller`` holds to ``ttl`` seconds from now, in one statement.

        Leases another poller took over are not touched (they are no longer ``poller``'s).

        Returns:
            How many leases were renewed.
        """

    def release_poll(self, poller: str, owner: str | None = None, task_id: str | None = None) -> int:
        """Give up ``poller``'s lease on the owner's task, or (owner and task_id None) every lease it holds.

        Only ``poller``'s own leases are released; the change wakes followers through the watcher.

        Returns:
            How many leases were released.

        Raises:
            ValueError: only one of ``owner`` and ``task_id`` was given.
        """

    def poll_lease(self, owner: str, task_id: str) -> PollLease | None:
        """The live lease on the owner's task: who polls it and for how long; None if nobody does."""

    def watcher(self) -> ChangeWatcher:
        """A new watcher of this store's tasks (one per process; start its ``run`` in a task group)."""
