"""`--simulate`: the built-in simulated imini, bound at start and started on the first request to it.

Its tasks and result files are kept in a folder next to the journal (`folder()`), so they outlive the
process: a later `--simulate` process (the next call of a client that starts one server per call, or a
restart) follows a task an earlier one submitted, and the sample video it gives is a file:// URL that still
plays after the process that gave it has exited.
"""

from __future__ import annotations

import logging
import socket
import time
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
from anyio.abc import TaskGroup, TaskStatus

from imini_mcp.imini import Clock
from imini_mcp.settings import Settings

log = logging.getLogger(__name__)


class SimulatedImini:
    """``--simulate``: the port is bound at start, so the URL is known at once, and the simulator itself (its
    module, app and uvicorn: ~20 ms) starts on the first request to it, which a first tools/list never makes.
    Connections made before then wait in the listening socket's backlog."""

    KEY = "simulated-key"
    _PATH = "/imini/router"  # imini's API prefix (simulator.API_PREFIX), without importing the simulator
    FOLDER = "simulated-imini"

    @classmethod
    def folder(cls, settings: Settings) -> Path:
        """Where the simulated imini keeps its tasks (`tasks/`) and result files (`media/`): beside the journal."""
        return settings.journal_path.expanduser().parent / cls.FOLDER

    @classmethod
    def media_dir(cls, settings: Settings) -> Path:
        return cls.folder(settings) / "media"

    def __init__(self, settings: Settings, clock: Clock | None, tg: TaskGroup, sock: socket.socket) -> None:
        self._settings = settings
        self._clock = clock
        self._tg = tg
        self._sock = sock
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}{self._PATH}"
        self._lock = anyio.Lock()
        self.started = False

    @classmethod
    async def enter(cls, stack: AsyncExitStack, settings: Settings, clock: Clock | None) -> SimulatedImini:
        sock = socket.create_server(("127.0.0.1", 0))
        stack.callback(sock.close)  # last, after the simulator has stopped
        tg = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(tg.cancel_scope.cancel)
        simulated = cls(settings, clock, tg, sock)
        log.warning(
            "SIMULATED imini at %s: no credits are used and the videos are samples (kept in %s)",
            simulated.base_url,
            cls.folder(settings),
        )
        return simulated

    async def ensure_started(self) -> None:
        if self.started:
            return
        async with self._lock:
            if not self.started:
                await self._tg.start(self._serve)
                self.started = True

    async def _serve(self, *, task_status: TaskStatus[None]) -> None:
        from imini_mcp.simulator import Simulator, SimulatorConfig, serve_simulator

        total = self._settings.simulate_seconds
        sim = Simulator(
            SimulatorConfig(
                # per-user: any key is "valid"
                api_key=None if self._settings.per_user_keys else self.KEY,
                queued_seconds=total * 0.2,
                processing_seconds=total * 0.8,
                # Task ages must mean the same in the next process: a wall clock (tests share a fast one).
                clock=self._clock.now if self._clock is not None else time.time,
                tasks_dir=self.folder(self._settings) / "tasks",
                media_dir=self.media_dir(self._settings),
            )
        )
        logging.getLogger("uvicorn").setLevel(logging.WARNING)  # its start/stop lines would look like ours
        async with serve_simulator(sim, sock=self._sock):
            task_status.started()
            await anyio.sleep_forever()
