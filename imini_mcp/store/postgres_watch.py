"""The PostgreSQL store's `ChangeWatcher`: LISTEN on one connection, fanned out to this process's waiters.

The trigger of postgres_schema.py notifies on commit with the payload ``[owner, task_id]`` (JSON, so an
empty owner or any character in an id parses unambiguously). After any reconnect every waiter is woken:
a change may have landed while nobody listened, and the waiter's own read tells.
"""

from __future__ import annotations

import json
import logging

import anyio
import psycopg

from imini_mcp.store.database_url import redact_url, scrub
from imini_mcp.store.postgres_connection import conninfo
from imini_mcp.store.postgres_schema import CHANNEL
from imini_mcp.store.watch import ArmedEvents, Backoff, Key

__all__ = ["PostgresWatcher", "parse_payload"]

log = logging.getLogger(__name__)


def parse_payload(payload: str) -> Key | None:
    """``[owner, task_id]`` from a notification; None for anything else (never raises)."""
    try:
        owner, task_id = json.loads(payload)
    except (ValueError, TypeError):
        return None
    if not isinstance(owner, str) or not isinstance(task_id, str):
        return None
    return owner, task_id


class PostgresWatcher(ArmedEvents):
    """One listening connection per process; ``generation`` counts how many times it (re)connected."""

    def __init__(self, url: str, *, backoff: Backoff | None = None) -> None:
        super().__init__()
        self._url = url
        self._conninfo = conninfo(url, "imini-mcp watcher")
        self._backoff = backoff or Backoff()
        self.generation = 0

    def __repr__(self) -> str:
        return f"PostgresWatcher({redact_url(self._url)!r})"

    async def run(self) -> None:
        """Listen until cancelled; a lost connection is logged and reopened, doubling the pause up to 5 s."""
        while True:
            try:
                await self._listen()
            except psycopg.Error as exc:
                delay = self._backoff.next()
                log.warning(
                    "task watcher lost %s (%s); reconnecting in %.1f s",
                    redact_url(self._url),
                    scrub(exc, self._url).strip(),
                    delay,
                )
                await anyio.sleep(delay)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            self.generation += 1
            self._backoff.reset()
            self._fire_all()  # whatever changed while nobody listened: every waiter reads again
            self._set_ready()
            async for note in conn.notifies():
                key = parse_payload(note.payload)
                if key is not None:
                    self._fire(key)
