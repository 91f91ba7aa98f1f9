"""Running a simulator on a real socket: uvicorn embedded in the caller's event loop."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import anyio
import uvicorn

from imini_mcp.simulator.app import Simulator
from imini_mcp.simulator.config import API_PREFIX, SimulatedConnectionReset


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside someone else's event loop: it must not take over the process's signals."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = anyio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:  # older uvicorn releases call this instead
        return None


class _HideSimulatedResets(logging.Filter):
    """uvicorn logs every app exception at ERROR; scripted resets are expected, not errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, SimulatedConnectionReset)


@asynccontextmanager
async def serve_simulator(
    sim: Simulator, host: str = "127.0.0.1", port: int = 0, *, sock: socket.socket | None = None
) -> AsyncIterator[str]:
    """Run ``sim.app`` under uvicorn in the current (asyncio) event loop; yield the API base URL.

    The socket is bound here, before uvicorn starts, so the real port is known even with ``port=0``
    and a bind error surfaces as a plain ``OSError`` (uvicorn would ``sys.exit`` instead); or it is
    ``sock``, bound by the caller (then ``host`` and ``port`` are ignored). Sets
    ``sim.config.public_base_url`` to the bound address. Stops uvicorn on exit (in-flight requests
    get at most one second) and closes the socket.
    """
    if sock is None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if not sock.getsockname()[1]:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        host, bound_port = sock.getsockname()[:2]
        shown_host = "127.0.0.1" if host in ("", "0.0.0.0") else f"[{host}]" if ":" in host else host
        origin = f"http://{shown_host}:{bound_port}"
        sim.config.public_base_url = origin
        config = uvicorn.Config(
            sim.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = _EmbeddedServer(config)
        log_filter = _HideSimulatedResets()
        error_logger = logging.getLogger("uvicorn.error")
        error_logger.addFilter(log_filter)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(server.serve, [sock])
                with anyio.fail_after(10):
                    await server.ready.wait()
                try:
                    yield origin + API_PREFIX
                finally:
                    server.should_exit = True
        finally:
            error_logger.removeFilter(log_filter)
    finally:
        sock.close()
