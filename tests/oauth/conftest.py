"""Fixtures of the OAuth tests: the authorization server (one per session), a simulated imini that accepts any
key, and imini-mcp in OAuth mode (`oauth_server(**settings)` → its base URL)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from imini_mcp.imini import Clock, PollSchedule
from imini_mcp.mcp import build_server
from imini_mcp.mcp.http import build_http_app
from imini_mcp.settings import Settings
from imini_mcp.simulator import Simulator, SimulatorConfig, serve_simulator
from tests.conftest import FAKE_KEY, FAST_RETRY, SERVER_SECRET, TIME_SCALE
from tests.oauth.harness import AuthServer, authorization_server, bound_socket, serving


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    with authorization_server(tmp_path_factory.mktemp("oauth")) as server:
        yield server


@dataclass
class Upstream:
    sim: Simulator
    url: str
    clock: Clock


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    """A simulated imini that accepts any key and answers for any task id, whoever asks."""
    clock = Clock(scale=TIME_SCALE)
    sim = Simulator(SimulatorConfig(api_key=None, queued_seconds=10, processing_seconds=40, clock=clock.now))
    async with serve_simulator(sim) as url:
        yield Upstream(sim, url, clock)


@dataclass
class Served:
    base: str
    resource: str
    settings: Settings


@pytest.fixture
def oauth_server(auth_server: AuthServer, upstream: Upstream, tmp_path: Path) -> Callable[..., Any]:
    @asynccontextmanager
    async def start(
        issuer: AuthServer | None = None, sock: socket.socket | None = None, **overrides: Any
    ) -> AsyncIterator[Served]:
        sock = sock or bound_socket()  # given: its port was needed first (e.g. in a client's redirect URI)
        resource = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
        values: dict[str, Any] = {
            "api_key": FAKE_KEY,
            "base_url": upstream.url,
            "journal_path": tmp_path / "journal.sqlite3",
            "default_wait_seconds": 0,
            "transport": "streamable-http",
            "oauth_issuer": (issuer or auth_server).issuer,
            "resource_url": resource,
            "secret_key": SERVER_SECRET,
        }
        settings = Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]
        server = build_server(
            settings, clock=upstream.clock, retry=FAST_RETRY, schedule=PollSchedule(jitter=0)
        )
        async with serving(build_http_app(server, settings), sock) as base:
            yield Served(base, resource, settings)

    return start
