"""Time for the poll loop and the service, optionally sped up so tests and benchmarks run long tasks fast."""

from __future__ import annotations

import time

import anyio


class Clock:
    """Real time, optionally sped up: `scale=0.01` makes every wait 100× shorter (tests, benchmarks)."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self._origin = time.monotonic()

    def now(self) -> float:
        """Seconds in this clock's time (monotonic)."""
        return (time.monotonic() - self._origin) / self.scale

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds) * self.scale)

    def move_on_after(self, seconds: float) -> anyio.CancelScope:
        return anyio.move_on_after(max(0.0, seconds) * self.scale)
