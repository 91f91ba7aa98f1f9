"""The ledger: every request the simulator saw, in order, and the tasks it really created."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from imini_mcp.simulator.config import EndpointKind


@dataclass(frozen=True)
class LedgerEntry:
    """One request as the simulator saw it."""

    method: str
    path: str
    kind: EndpointKind
    task_id: str | None
    status: int | None  # None only if the request died before any response was started
    time: float  # time.monotonic() when the request finished
    sim_time: float  # the simulator's clock at that moment
    fault: str | None = None  # kind of the scripted fault applied, if any


class Ledger:
    """Every request seen, in order, plus the ids of tasks really created. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LedgerEntry] = []
        self._created: list[str] = []

    @property
    def entries(self) -> list[LedgerEntry]:
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def count(self, kind: str, task_id: str | None = None, *, status: int | None = None) -> int:
        """Number of recorded requests of ``kind`` (optionally only for one task / one status)."""
        with self._lock:
            return sum(
                1
                for e in self._entries
                if e.kind == kind
                and (task_id is None or e.task_id == task_id)
                and (status is None or e.status == status)
            )

    @property
    def submits_received(self) -> int:
        return self.count("submit")

    @property
    def tasks_created(self) -> list[str]:
        """Ids of tasks that exist server-side (including those whose submit answer was "lost")."""
        with self._lock:
            return list(self._created)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot (what ``GET /_simulator/ledger`` returns)."""
        with self._lock:
            return {
                "entries": [asdict(e) for e in self._entries],
                "submits_received": sum(1 for e in self._entries if e.kind == "submit"),
                "tasks_created": list(self._created),
            }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ledger:
        """Rebuild a ledger from :meth:`to_json` output (e.g. fetched from a remote simulator)."""
        ledger = cls()
        ledger._entries = [LedgerEntry(**e) for e in data.get("entries", [])]
        ledger._created = list(data.get("tasks_created", []))
        return ledger

    def _record(self, entry: LedgerEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def _task_created(self, task_id: str) -> None:
        with self._lock:
            self._created.append(task_id)

    def _clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._created.clear()
