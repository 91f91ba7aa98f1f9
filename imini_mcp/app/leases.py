"""This process's side of the poll leases (imini's `PollLeases`, on the task store's `Coordination`).

One poller name per process (``host:pid:random``). A loop claims a task before every poll; a heartbeat
renews every lease held here every ttl/3 seconds, so a long sleep between polls keeps it; a lease is
released when its task ends, when nobody here waits any more, and (all of them) at shutdown. A process
that dies keeps its leases until they expire (ttl, on the store's clock); one that was frozen finds them
taken over and stops. Followers are woken by the store's change watcher.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

import anyio

from imini_mcp.app.store_calls import stored
from imini_mcp.app.views import snapshot_of
from imini_mcp.imini import IminiError, TaskSnapshot
from imini_mcp.store import ChangeWatcher, TaskStore

log = logging.getLogger(__name__)

DEFAULT_TTL = 10.0  # seconds; a dead poller's tasks are taken over within about ttl + retry_seconds


def poller_name() -> str:
    """A name unique to this process (and this start of it): host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class StoreLeases:
    """Poll leases for this process on ``store``; see the module docstring. ``run`` lives in the task group."""

    def __init__(
        self,
        store: TaskStore,
        *,
        ttl: float = DEFAULT_TTL,
        watcher: ChangeWatcher | None = None,
        poller: str | None = None,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.poller = poller or poller_name()
        self.watcher = watcher or store.watcher()
        self.heartbeat_seconds = ttl / 3
        self._retry = min(2.0, ttl / 5)
        self._held: set[tuple[str, str]] = set()

    @property
    def retry_seconds(self) -> float:
        return self._retry

    def held(self) -> set[tuple[str, str]]:
        """The tasks this process believes it polls (a heartbeat may find some taken over)."""
        return set(self._held)

    async def claim(self, owner: str, task_id: str) -> bool:
        holds = await stored(self.store.claim_poll, owner, task_id, self.poller, self.ttl)
        self._note(owner, task_id, holds)
        return holds

    def claim_now(self, owner: str, task_id: str) -> bool:
        """`claim` for synchronous start-up code (the lifespan, before serving)."""
        holds = self.store.claim_poll(owner, task_id, self.poller, self.ttl)
        self._note(owner, task_id, holds)
        return holds

    async def release(self, owner: str, task_id: str) -> None:
        self._held.discard((owner, task_id))
        await stored(self.store.release_poll, self.poller, owner, task_id)

    def release_all(self) -> None:
        """At shutdown (synchronous, after the task group ended): give up every lease, so others take over
        at once instead of after the ttl. A failure is logged; the leases then expire by themselves."""
        self._held.clear()
        try:
            self.store.release_poll(self.poller)
        except Exception as exc:  # shutting down: never mask how the server stopped
            log.warning("releasing this server's poll leases failed (they expire in %g s): %s", self.ttl, exc)

    def changed(self, owner: str, task_id: str) -> anyio.Event:
        return self.watcher.changed(owner, task_id)

    async def latest(self, owner: str, task_id: str) -> TaskSnapshot | None:
        record = await stored(self.store.get, owner, task_id)
        return None if record is None else snapshot_of(record)

    async def run(self) -> None:
        """The watcher and the heartbeat, until cancelled."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.watcher.run)
            tg.start_soon(self._heartbeat)

    async def _heartbeat(self) -> None:
        while True:
            await anyio.sleep(self.heartbeat_seconds)
            if not self._held:
                continue  # nothing to renew: an idle server writes nothing
            try:
                renewed = await stored(self.store.renew_leases, self.poller, self.ttl)
            except IminiError as exc:
                log.warning("renewing poll leases failed: %s", exc.message)
                continue
            if renewed < len(self._held):
                log.info("%d poll lease(s) were taken over by another server", len(self._held) - renewed)

    def _note(self, owner: str, task_id: str, holds: bool) -> None:
        if holds:
            self._held.add((owner, task_id))
        else:
            self._held.discard((owner, task_id))
