"""The ledger middleware: classifies each HTTP request and records it, with its final status, in the ledger."""

from __future__ import annotations

import time
from typing import Protocol

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imini_mcp.simulator.config import (
    CONTROL_PATH,
    FILES_PATH,
    SUBMIT_PATH,
    TASKS_PATH,
    EndpointKind,
    SimulatorConfig,
)
from imini_mcp.simulator.ledger import Ledger, LedgerEntry

_NOTE_KEY = "imini_simulator.note"


class RequestNote:
    """Per-request scratch shared by the ledger middleware and the handlers (via the ASGI scope)."""

    __slots__ = ("fault", "task_id")

    def __init__(self, task_id: str | None) -> None:
        self.task_id = task_id
        self.fault: str | None = None


class Recorded(Protocol):
    """What the middleware needs of the simulator: where to record, and its clock."""

    @property
    def ledger(self) -> Ledger: ...

    @property
    def config(self) -> SimulatorConfig: ...


def note_of(request: Request) -> RequestNote:
    """The request's note (a throwaway one if the middleware did not run)."""
    note = request.scope.get(_NOTE_KEY)
    return note if isinstance(note, RequestNote) else RequestNote(None)


def classify(path: str) -> tuple[EndpointKind, str | None]:
    """The endpoint kind of ``path``, and the task id when the path names one."""
    if path == SUBMIT_PATH:
        return "submit", None
    if path.startswith(TASKS_PATH):
        return "poll", path[len(TASKS_PATH) :] or None
    if path.startswith(FILES_PATH):
        return "download", None  # the handler fills in the task id once the file name parses
    if path.startswith(CONTROL_PATH):
        return "control", None
    return "other", None


class LedgerMiddleware:
    """Records every HTTP request (with its final status) in the simulator's ledger."""

    def __init__(self, app: ASGIApp, sim: Recorded) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind, task_id = classify(scope["path"])
        note = RequestNote(task_id)
        scope[_NOTE_KEY] = note
        status: int | None = None

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        except Exception:
            if status is None:
                status = 500  # Starlette's error middleware (outside us) answers 500
            raise
        finally:
            self.sim.ledger._record(
                LedgerEntry(
                    method=scope["method"],
                    path=scope["path"],
                    kind=kind,
                    task_id=note.task_id,
                    status=status,
                    time=time.monotonic(),
                    sim_time=self.sim.config.clock(),
                    fault=note.fault,
                )
            )
