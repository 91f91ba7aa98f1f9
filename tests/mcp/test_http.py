"""Remote deployment over streamable HTTP: auth, DNS-rebinding protection, per-user isolation, progress."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from imini_mcp.imini import Clock, ConfigurationError, PollSchedule
from imini_mcp.mcp import build_server
from imini_mcp.mcp.http import build_http_app, check_exposure
from imini_mcp.settings import Settings
from imini_mcp.simulator import Simulator, SimulatorConfig, serve_simulator
from tests.conftest import FAKE_KEY, FAST_RETRY, TIME_SCALE
from tests.processes import http_server_process

pytestmark = pytest.mark.anyio
TOKEN = "test-bearer-token-5b1e"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


@asynccontextmanager
async def serve_app(app: Any) -> AsyncIterator[str]:
    """Run an ASGI app under uvicorn on a free loopback port inside this event loop."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        while not server.started:
            await anyio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
        server.should_exit = True
    sock.close()


@pytest.fixture
async def any_key_backend() -> AsyncIterator[tuple[str, Clock]]:
    """A simulated imini that accepts any key (each user brings their own)."""
    clock = Clock(scale=TIME_SCALE)
    sim = Simulator(SimulatorConfig(api_key=None, queued_seconds=10, processing_seconds=40, clock=clock.now))
    async with serve_simulator(sim) as url:
        yield url, clock


@pytest.fixture
def http_server(any_key_backend: tuple[str, Clock], tmp_path: Path) -> Callable[..., Any]:
    url, clock = any_key_backend

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[str]:
        values: dict[str, Any] = {
            "api_key": FAKE_KEY,
            "base_url": url,
            "journal_path": tmp_path / "journal.sqlite3",
            "default_wait_seconds": 0,
            "transport": "streamable-http",
            "mcp_auth_token": TOKEN,
        }
        settings = Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]
        server = build_server(settings, clock=clock, retry=FAST_RETRY, schedule=PollSchedule(jitter=0))
        async with serve_app(build_http_app(server, settings)) as base:
            yield base

    return start


@asynccontextmanager
async def mcp_client(base: str, mode: str = "auto", **headers: str) -> AsyncIterator[Client]:
    http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=300.0))
    async with http, Client(streamable_http_client(f"{base}/mcp", http_client=http), mode=mode) as client:  # type: ignore[arg-type]
        yield client


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({}, 401, id="no token: 401"),
        pytest.param({"Authorization": "Bearer wrong"}, 401, id="wrong token: 401"),
        pytest.param({"Authorization": f"Basic {TOKEN}"}, 401, id="wrong scheme: 401"),
        pytest.param({"Authorization": f"Bearer {TOKEN}"}, 200, id="right token: 200"),
        pytest.param(
            {"Authorization": f"Bearer {TOKEN}", "Host": "evil.example"}, 421, id="foreign Host: 421"
        ),
        pytest.param(
            {"Authorization": f"Bearer {TOKEN}", "Origin": "http://evil.example"}, 403, id="foreign Origin"
        ),
    ],
)
async def test_requests_are_authenticated_and_rebinding_protected(
    http_server: Any, headers: dict[str, str], status: int
) -> None:
    async with http_server() as base, httpx2.AsyncClient() as http:
        response = await http.post(f"{base}/mcp", json=INIT, headers=MCP_HEADERS | headers)
    assert response.status_code == status


async def test_configured_public_host_and_origin_are_accepted(http_server: Any) -> None:
    async with (
        http_server(allowed_hosts=["mcp.example.com"], allowed_origins=["https://app.example.com"]) as base,
        httpx2.AsyncClient() as http,
    ):
        response = await http.post(
            f"{base}/mcp",
            json=INIT,
            headers=MCP_HEADERS
            | {
                "Authorization": f"Bearer {TOKEN}",
                "Host": "mcp.example.com",
                "Origin": "https://app.example.com",
            },
        )
    assert response.status_code == 200


async def test_healthz_needs_no_token_and_bodies_are_bounded(http_server: Any) -> None:
    async with http_server(max_body_bytes=4096) as base, httpx2.AsyncClient() as http:
        health = await http.get(f"{base}/healthz")
        huge = await http.post(
            f"{base}/mcp",
            content=b'{"x": "' + b"a" * 10_000 + b'"}',
            headers=MCP_HEADERS | {"Authorization": f"Bearer {TOKEN}"},
        )
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert huge.status_code == 413


async def test_non_loopback_without_token_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="IMINI_MCP_AUTH_TOKEN"):
        check_exposure(Settings(_env_file=None, host="0.0.0.0", transport="streamable-http"))  # type: ignore[call-arg]
    check_exposure(Settings(_env_file=None, host="127.0.0.1"))  # type: ignore[call-arg]
    run = subprocess.run(
        [sys.executable, "-m", "imini_mcp", "--transport", "streamable-http", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
        env={k: v for k, v in os.environ.items() if k != "IMINI_MCP_AUTH_TOKEN"},
    )
    assert run.returncode == 2
    assert "IMINI_MCP_AUTH_TOKEN" in run.stderr


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_full_flow_with_progress_over_http(http_server: Any, mode: str) -> None:
    seen: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    async with http_server() as base, mcp_client(base, mode, Authorization=f"Bearer {TOKEN}") as client:
        submitted = await client.call_tool("generate_video", {"prompt": "a kite over the sea"})
        task_id = submitted.structured_content["task"]["task_id"]
        done = await client.call_tool(
            "get_task", {"task_id": task_id, "wait_seconds": 300}, progress_callback=on_progress
        )
    assert done.structured_content["status"] == "succeeded"
    assert seen
    assert all(task_id in (m or "") for m in seen)


async def test_users_cannot_see_each_others_tasks(http_server: Any) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with http_server(per_user_keys=True, api_key=None) as base:
        async with mcp_client(base, **auth, **{"X-Imini-Api-Key": "alice-key"}) as alice:
            task_id = (
                await alice.call_tool("generate_video", {"prompt": "alice's video"})
            ).structured_content["task"]["task_id"]
            assert len((await alice.call_tool("list_tasks", {})).structured_content["tasks"]) == 1
        async with mcp_client(base, **auth, **{"X-Imini-Api-Key": "bob-key"}) as bob:
            listed = await bob.call_tool("list_tasks", {})
            resource_error = None
            try:
                await bob.read_resource(f"imini://tasks/{task_id}")
            except Exception as exc:
                resource_error = str(exc)
            dry = await bob.call_tool("generate_video", {"prompt": "p", "dry_run": True})
        async with mcp_client(base, **auth) as nobody:
            no_key = await nobody.call_tool("list_tasks", {})
            no_key_dry = await nobody.call_tool("generate_video", {"prompt": "p", "dry_run": True})
    assert listed.structured_content["tasks"] == []
    assert resource_error is not None
    assert "No journalled task" in resource_error
    assert not dry.is_error
    assert no_key.is_error
    assert "X-Imini-Api-Key" in no_key.content[0].text
    assert not no_key_dry.is_error  # a dry run needs no key


async def test_sigterm_releases_waiting_calls_with_their_task_ids(tmp_path: Path) -> None:
    with http_server_process(tmp_path, env={"IMINI_SIMULATE_SECONDS": "600"}) as server:
        proc, base = server.process, server.base
        async with mcp_client(base) as client:
            task_id = (
                await client.call_tool("generate_video", {"prompt": "p", "wait_seconds": 0})
            ).structured_content["task"]["task_id"]

            async def stop_soon() -> None:
                await anyio.sleep(1.0)
                proc.send_signal(signal.SIGTERM)

            async with anyio.create_task_group() as tg:
                tg.start_soon(stop_soon)
                result = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 200})
        assert not result.is_error
        assert result.structured_content["task_id"] == task_id
        assert "restarting" in result.structured_content["next_step"]
        # uvicorn re-raises the SIGTERM it caught once it has shut down cleanly: -15 is a clean stop
        assert proc.wait(timeout=20) in (0, -signal.SIGTERM)
