"""Fixtures of the simulator tests: an in-process simulator on a manual clock, and a client bound to it.

Most tests drive the ASGI app in-process through httpx2.ASGITransport; the ones that need real
sockets (dropped connections, read timeouts, streaming, the CLI) go through serve_simulator or a
subprocess on loopback (test_serve.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from imini_mcp.simulator import ManualClock, Simulator, SimulatorConfig
from tests.simulator.helpers import AUTH


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Simulator:
    return Simulator(SimulatorConfig(clock=clock))


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=sim.app), base_url="http://sim/imini/router", headers=AUTH
    ) as c:
        yield c
