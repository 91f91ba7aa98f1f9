"""Shared test harness: a real loopback simulated imini on a fast clock, and the server pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from imini_mcp.files import DownloadPolicy
from imini_mcp.imini import Clock, PollSchedule, RetryPolicy
from imini_mcp.mcp import build_server
from imini_mcp.settings import Settings
from imini_mcp.simulator import Simulator, SimulatorConfig, serve_simulator

# Every test is watched for the API key (tool results, errors, logs): see tests/secret_scan.py.
# tests/postgres.py: a throwaway PostgreSQL server for the session, a fresh database per test (pg_url).
pytest_plugins = ["tests.secret_scan", "tests.postgres"]

# A recognisable fake key: the secret-hygiene checks look for it in every output.
FAKE_KEY = "imini-test-key-DO-NOT-LEAK-7f3a9c"
# OAuth mode (tests/oauth): each person's own imini key, and the server secret; watched the same way.
PERSON_KEYS = {"alice": "sk-alice-DO-NOT-LEAK-0b7e-1234", "bob": "sk-bob-DO-NOT-LEAK-5c2d-9876"}
SERVER_SECRET = "oauth-tests-server-secret-DO-NOT-LEAK-0123456789"
# Speed-up of simulated time: a 10 s simulated task takes 0.1 s of real time.
TIME_SCALE = 0.01
FAST_DOWNLOADS = DownloadPolicy(retry_wait=0.01, retry_wait_max=0.05, read_timeout=5, total_timeout=30)
FAST_RETRY = RetryPolicy(
    read_attempts=3, read_timeout=5, wait_initial=0.01, wait_max=0.05, rate_limit_floor=0
)

DOC_EXAMPLE: dict[str, Any] = {
    "model": "kling/kling-v3",
    "resolution": "720P",
    "aspect_ratio": "9:16",
    "duration": 8,
    "generate_audio": True,
    "extra_params": {
        "multi_shot": True,
        "shot_type": "customize",
        "multi_prompt": [
            {"index": 1, "prompt": "<shot 1 text>", "duration": "2"},
            {"index": 2, "prompt": "<shot 2 text>", "duration": "3"},
            {"index": 3, "prompt": "<shot 3 text>", "duration": "3"},
        ],
    },
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Backend:
    """The simulated imini a test talks to."""

    sim: Simulator
    url: str
    clock: Clock

    @property
    def submits(self) -> int:
        return self.sim.ledger.submits_received

    def polls(self, task_id: str | None = None) -> int:
        return self.sim.ledger.count("poll", task_id)


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    clock = Clock(scale=TIME_SCALE)
    sim = Simulator(
        SimulatorConfig(api_key=FAKE_KEY, queued_seconds=10, processing_seconds=40, clock=clock.now)
    )
    async with serve_simulator(sim) as url:
        yield Backend(sim, url, clock)


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite3"


@pytest.fixture
def make_settings(backend: Backend, journal_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "api_key": FAKE_KEY,
            "base_url": backend.url,
            "journal_path": journal_path,
            "default_wait_seconds": 0,
            "max_wait_seconds": 600,
            "output_dir": journal_path.parent / "videos",
            "allowed_roots": [str(journal_path.parent)],
            "input_root": journal_path.parent,
        }
        return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]

    return make


@pytest.fixture
def make_server(backend: Backend, make_settings: Callable[..., Settings]) -> Callable[..., MCPServer]:
    def make(**overrides: Any) -> MCPServer:
        return build_server(
            make_settings(**overrides),
            clock=backend.clock,
            retry=FAST_RETRY,
            schedule=PollSchedule(jitter=0),
            downloads=FAST_DOWNLOADS,
        )

    return make


@pytest.fixture(params=["auto", "legacy"])
def mode(request: pytest.FixtureRequest) -> str:
    """Both protocol eras: 2026-07-28 (auto) and the initialize handshake (legacy)."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def connect(make_server: Callable[..., MCPServer], mode: str) -> Callable[..., Any]:
    @asynccontextmanager
    async def open_client(server: MCPServer | None = None, **overrides: Any) -> AsyncIterator[Client]:
        async with Client(server or make_server(**overrides), mode=mode) as client:  # type: ignore[arg-type]
            yield client

    return open_client
