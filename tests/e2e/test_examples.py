"""Every example runs: the JSON bodies validate, and the end-to-end script finishes a simulated video."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from imini_mcp.request import check_generate_arguments

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.mark.parametrize("name", ["storyboard.json", "image_to_video.json"])
def test_example_bodies_are_valid(name: str) -> None:
    body = json.loads((EXAMPLES / name).read_text())
    check_generate_arguments(body)


@pytest.mark.parametrize("name", ["claude_desktop_config.json", "cursor_mcp.json", "vscode_mcp.json"])
def test_client_config_blocks_are_valid_json(name: str) -> None:
    json.loads((EXAMPLES / "clients" / name).read_text())


def test_the_simulated_session_script_finishes_a_video(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "simulated_session.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Dry run: valid, nothing was sent." in run.stdout
    assert "succeeded (final)" in run.stdout
    assert "progress" in run.stdout
    assert "--- image-to-video ---" in run.stdout
