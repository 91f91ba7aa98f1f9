"""The part every `ChangeWatcher` shares: armed events per task, fired by whatever learns of a change."""

from __future__ import annotations

import weakref

import anyio

__all__ = ["ArmedEvents", "Backoff"]

Key = tuple[str, str]  # (owner, task_id)


class ArmedEvents:
    """The events waiters armed, one per task, held weakly: a waiter that went away leaves nothing behind."""

    def __init__(self) -> None:
        self._events: weakref.WeakValueDictionary[Key, anyio.Event] = weakref.WeakValueDictionary()
        self._ready: anyio.Event | None = None  # created on the event loop, on first use

    def changed(self, owner: str, task_id: str) -> anyio.Event:
        """The event set at the next change of this task (see `ChangeWatcher.changed`)."""
        key = (owner, task_id)
        event = self._events.get(key)
        if event is None:
            event = self._events[key] = anyio.Event()
        return event

    async def ready(self) -> None:
        """Return once the watcher watches."""
        await self._ready_event().wait()

    def armed(self) -> list[Key]:
        """The tasks someone waits on now."""
        return list(self._events.keys())

    def _fire(self, key: Key) -> None:
        event = self._events.pop(key, None)
        if event is not None:
            event.set()

    def _fire_all(self) -> None:
        """Wake every waiter: used after changes may have been missed (a reconnect)."""
        for key in self.armed():
            self._fire(key)

    def _set_ready(self) -> None:
        self._ready_event().set()

    def _ready_event(self) -> anyio.Event:
        if self._ready is None:
            self._ready = anyio.Event()
        return self._ready


class Backoff:
    """Reconnect delays: `first`, doubling up to `most`; `reset()` after a success."""

    def __init__(self, first: float = 0.2, most: float = 5.0) -> None:
        self.first, self.most = first, most
        self._next = first

    def next(self) -> float:
        delay, self._next = self._next, min(self._next * 2, self.most)
        return delay

    def reset(self) -> None:
        self._next = self.first
