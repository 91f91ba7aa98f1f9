"""The simulator on real sockets: serve_simulator on loopback, and the standalone CLI."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from imini_mcp.simulator import Fault, Simulator, SimulatorConfig, serve_simulator
from tests.conftest import DOC_EXAMPLE  # imini-api.md §2.3, verbatim
from tests.simulator.helpers import AUTH, T2V, poll, submit, submit_ok

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.anyio
async def test_serve_simulator_on_loopback() -> None:
    sim = Simulator(SimulatorConfig(queued_seconds=0, processing_seconds=0, video_size=32 * 1024 * 1024))
    async with serve_simulator(sim) as base_url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/imini/router", base_url)
        assert base_url.startswith(sim.config.public_base_url)
        async with httpx2.AsyncClient(base_url=base_url, headers=AUTH, timeout=10) as c:
            task_id = await submit_ok(c, DOC_EXAMPLE)
            body = (await poll(c, task_id)).json()
            assert body["status"] == "succeeded"
            video_url = body["videos"][0]["url"]
            assert video_url == f"{sim.config.public_base_url}/files/{task_id}.mp4"

            # A 32 MB synthetic video, streamed over the socket.
            received, first = 0, b""
            async with c.stream("GET", video_url) as response:
                assert response.headers["content-length"] == str(32 * 1024 * 1024)
                async for chunk in response.aiter_raw():
                    first = first or chunk
                    received += len(chunk)
            assert received == 32 * 1024 * 1024
            assert first[4:8] == b"ftyp"

            # Reset: the connection really drops (headers sent, body cut short).
            sim.add_fault(Fault("poll", "reset"))
            with pytest.raises((httpx2.RemoteProtocolError, httpx2.ReadError)):
                await poll(c, task_id)
            sim.add_fault(Fault("download", "reset"))
            with pytest.raises((httpx2.RemoteProtocolError, httpx2.ReadError)):
                await c.get(video_url)

            # Delay: long enough for a client read timeout to fire.
            sim.add_fault(Fault("poll", "delay", seconds=0.5))
            with pytest.raises(httpx2.ReadTimeout):
                await c.get(f"/v1/videos/tasks/{task_id}", timeout=0.1)
            assert (await poll(c, task_id)).status_code == 200

    assert sim.ledger.count("submit") == 1
    assert sim.ledger.count("download") == 2
    # The server is gone after the context exits.
    async with httpx2.AsyncClient(base_url=base_url) as c:
        with pytest.raises(httpx2.ConnectError):
            await c.get("/v1/videos/tasks/x")


def test_cli_runs_standalone_and_stops_on_sigterm() -> None:
    """`python -m imini_mcp.simulator` prints its base URL to stderr, serves, and exits 0 on SIGTERM."""
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "imini_mcp.simulator",
            "--port",
            "0",
            "--queued-seconds",
            "0",
            "--api-key",
            "k",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )
    try:
        assert process.stderr is not None
        base_url = process.stderr.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/imini/router", base_url), base_url
        response = httpx2.post(
            f"{base_url}/v1/videos/generate", json=T2V, headers={"Authorization": "Bearer k"}, timeout=5
        )
        assert response.status_code == 200
        assert (
            httpx2.get(f"{base_url}/v1/videos/tasks/{response.json()['task_id']}", timeout=5).status_code
            == 401
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
            if process.stderr is not None:
                process.stderr.close()
    assert returncode == 0


@pytest.mark.anyio
async def test_serve_simulator_reports_bind_errors() -> None:
    sim = Simulator()
    async with serve_simulator(sim) as base_url:
        port = int(base_url.split(":")[2].split("/")[0])
        with pytest.raises(OSError):  # noqa: PT011 - the second bind must fail, whatever errno
            async with serve_simulator(Simulator(), port=port):
                pass
        # The first server is unaffected.
        async with httpx2.AsyncClient(base_url=base_url, headers=AUTH) as c:
            assert (await submit(c, T2V)).status_code == 200
