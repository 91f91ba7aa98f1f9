"""The queue of scripted faults: consumed FIFO, one use per matching request, given back if unused."""

from __future__ import annotations

from dataclasses import dataclass

from imini_mcp.simulator.config import Fault


@dataclass
class _PendingFault:
    fault: Fault
    remaining: int


class FaultQueue:
    """Faults waiting to be applied, in the order they were added."""

    def __init__(self) -> None:
        self._pending: list[_PendingFault] = []

    def add(self, fault: Fault) -> None:
        self._pending.append(_PendingFault(fault, fault.times))

    def clear(self) -> None:
        self._pending.clear()

    def take(self, target: str, task_id: str | None = None, *, fail_task: bool = False) -> Fault | None:
        """Consume one use of the first queued fault matching this request.

        ``fail_task`` faults are looked up separately (when a task gets created) because they modify
        the task rather than the response, so they combine with any response fault.
        """
        for pending in self._pending:
            fault = pending.fault
            if fault.target != target or (fault.kind == "fail_task") != fail_task:
                continue
            if fault.task_id is not None and fault.task_id != task_id:
                continue
            pending.remaining -= 1
            if pending.remaining <= 0:
                self._pending.remove(pending)
            return fault
        return None

    def give_back(self, fault: Fault) -> None:
        """Undo one use of a fault that could not apply (e.g. the request failed auth first)."""
        for pending in self._pending:
            if pending.fault is fault:
                pending.remaining += 1
                return
        self._pending.insert(0, _PendingFault(fault, 1))
