"""The package surface, the command line, the SDK internals we rely on, and a real stdio session."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata

import imini_mcp
from imini_mcp.imini.errors import (
    AuthenticationFailed,
    InsufficientCredits,
    PermissionDenied,
    RateLimited,
    RequestRejected,
    TaskNotFound,
    UpstreamError,
    error_for_status,
)
from imini_mcp.mcp.simulated import SimulatedImini
from imini_mcp.mcp.tooling import RawArguments, SelfValidatingTool
from imini_mcp.mcp.tools import SPECS
from imini_mcp.request import lean_output_schema
from imini_mcp.settings import Settings
from imini_mcp.simulator import API_PREFIX


def test_public_surface_is_small() -> None:
    assert sorted(imini_mcp.__all__) == ["Settings", "__version__", "build_server"]
    assert imini_mcp.__version__ == "0.1.0"
    assert callable(imini_mcp.build_server)


def test_importing_the_package_has_no_side_effects() -> None:
    code = "import imini_mcp, logging, sys; assert not logging.getLogger().handlers; assert 'mcp' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_http_status_in_the_spec_maps_to_an_error_with_a_next_step() -> None:
    table = {
        400: RequestRejected,
        401: AuthenticationFailed,
        402: InsufficientCredits,
        403: PermissionDenied,
        404: TaskNotFound,
        429: RateLimited,
        500: UpstreamError,
        502: UpstreamError,
        503: UpstreamError,
        504: UpstreamError,
    }
    for status, cls in table.items():
        assert error_for_status(status) is cls
        assert cls("x").next_step
    assert RateLimited.transient
    assert UpstreamError.transient
    assert not RequestRejected.transient


def test_cli_version_and_help_list_every_option_and_variable() -> None:
    version = subprocess.run([sys.executable, "-m", "imini_mcp", "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == "imini-mcp 0.1.0"
    help_text = subprocess.run(
        [sys.executable, "-m", "imini_mcp", "--help"], capture_output=True, text=True
    ).stdout
    for flag in (
        "--simulate",
        "--journal",
        "--log-level",
        "--transport",
        "--host",
        "--port",
        "--per-user-keys",
        "--output-mode",
        "--output-dir",
    ):
        assert flag in help_text
    for name in Settings.model_fields:
        assert f"IMINI_{name.upper()}" in help_text


def test_bad_configuration_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    env = os.environ | {"IMINI_BASE_URL": "ftp://nope", "IMINI_READ_TIMEOUT": "-1"}
    run = subprocess.run(
        [sys.executable, "-m", "imini_mcp"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )
    assert run.returncode == 2
    assert "IMINI_BASE_URL" in run.stderr
    assert "IMINI_READ_TIMEOUT" in run.stderr
    assert "Traceback" not in run.stderr


NO_SCHEME = "'api.imini.ai/imini/router' has no scheme. Fix: write it with https:// in front: https://api.imini.ai/imini/router"


@pytest.mark.anyio
async def test_a_stdio_client_is_told_what_is_wrong_with_the_configuration(tmp_path: Path) -> None:
    """A stdio client would only see "Connection closed": it gets the tools, and each answers with the problem
    and its fix; stderr says it too, and nothing is sent anywhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMINI_")} | {
        "HOME": str(tmp_path),
        "IMINI_BASE_URL": "api.imini.ai/imini/router",
        "IMINI_API_KEY": "k",
    }
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "imini_mcp"], env=env, cwd=str(tmp_path)
    )
    errlog = tmp_path / "stderr.txt"
    with errlog.open("w") as err:
        async with Client(stdio_client(params, errlog=err)) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            generated = await client.call_tool("generate_video", {"prompt": "p", "dry_run": True})
            listed = await client.call_tool("list_tasks", {})
    assert names == {spec.name for spec in SPECS}
    for result in (generated, listed):
        text = result.content[0].text
        assert result.is_error
        assert f"its configuration is invalid: IMINI_BASE_URL: {NO_SCHEME}" in text
        assert "restart the server" in text
    assert f"IMINI_BASE_URL: {NO_SCHEME}" in errlog.read_text()
    assert not (tmp_path / ".local").exists()  # no journal was opened


def test_over_http_a_bad_configuration_still_stops_the_server_at_once(tmp_path: Path) -> None:
    """An HTTP deployment fails fast (exit 2, the reason on stderr), so it never looks healthy while broken."""
    env = os.environ | {"IMINI_BASE_URL": "api.imini.ai/imini/router", "HOME": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "imini_mcp", "--transport", "streamable-http", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=30,
    )
    assert run.returncode == 2
    assert f"imini-mcp: invalid configuration: IMINI_BASE_URL: {NO_SCHEME}" in run.stderr


def test_sdk_internals_this_server_relies_on_are_still_there() -> None:
    """tooling.py swaps a tool's argument model; an SDK upgrade that breaks this must fail here, loudly."""
    assert "arg_model" in FuncMetadata.model_fields
    assert hasattr(ArgModelBase, "model_dump_one_level")
    assert RawArguments.model_validate({"a": 1}).model_dump_one_level() == {"arguments": {"a": 1}}
    assert {"parameters", "fn_metadata"} <= set(Tool.model_fields)
    assert FuncMetadata.validate_arguments.__doc__  # the path Tool.run takes


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_a_hand_built_tool_is_what_the_sdk_would_build(spec: SelfValidatingTool) -> None:
    """tooling.py builds Tool objects itself (schemas from the shipped file); all else matches from_function."""
    built = spec.build()
    assert inspect.iscoroutinefunction(spec.fn)
    sdk = Tool.from_function(spec.fn, title=spec.title, annotations=built.annotations)
    same = ("name", "title", "is_async", "context_kwarg", "resolved_params", "annotations")
    assert {f: getattr(built, f) for f in same} == {f: getattr(sdk, f) for f in same}
    assert built.description == inspect.cleandoc(sdk.description)  # the docstring without its indentation
    assert built.output_schema == lean_output_schema(sdk.output_schema or {})  # see request/published.py
    assert built.parameters == spec.derived_schemas()["input"]


@pytest.mark.anyio
async def test_a_real_stdio_session_runs_submit_to_succeeded(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "IMINI_SIMULATE_SECONDS": "3",
        "IMINI_JOURNAL_PATH": str(tmp_path / "journal.sqlite3"),
        "IMINI_LOG_LEVEL": "WARNING",
    }
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "imini_mcp", "--simulate"], env=env, cwd=str(tmp_path)
    )
    for mode in ("auto", "legacy"):
        async with Client(params, mode=mode) as client:  # type: ignore[arg-type]
            submitted = await client.call_tool("generate_video", {"prompt": "a paper boat on a river"})
            assert not submitted.is_error, submitted.content[0].text
            task_id = submitted.structured_content["task"]["task_id"]
            done = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 30})
            assert done.structured_content["status"] == "succeeded", done.content[0].text
            # A file kept beside the journal: it still plays once this process has exited.
            assert done.structured_content["videos"][0]["url"].startswith(
                (tmp_path / "simulated-imini").as_uri()
            )


def test_a_filesystem_root_is_never_a_default_allowed_folder(tmp_path: Path) -> None:
    code = "from imini_mcp.settings import default_allowed_roots; print(default_allowed_roots())"
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd="/",
        capture_output=True,
        text=True,
        env=os.environ | {"HOME": str(tmp_path)},
        check=True,
    )
    assert run.stdout.strip() == repr([str(tmp_path)])


LAZY_SIMULATOR_PROBE = """
import sys, anyio
from mcp import Client
from imini_mcp.cli import configure_logging
from imini_mcp.mcp import build_server
from imini_mcp.settings import Settings

configure_logging("WARNING")  # as the CLI does: plain lines, even where rich is installed (the SDK would use it)

async def main() -> None:
    server = build_server(Settings(_env_file=None, simulate=True, simulate_seconds=1))
    async with Client(server) as client:
        await client.list_tools()
        print("imini_mcp.simulator" in sys.modules)
        result = await client.call_tool("generate_video", {"prompt": "a paper boat", "wait_seconds": 10})
        print("imini_mcp.simulator" in sys.modules, result.structured_content["task"]["status"])

anyio.run(main)
"""


def test_simulate_starts_the_simulator_only_when_imini_is_first_called(tmp_path: Path) -> None:
    # A first tools/list (what a client waits for at start) must not pay for the simulator.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "IMINI_LOG_LEVEL": "WARNING"}
    run = subprocess.run(
        [sys.executable, "-c", LAZY_SIMULATOR_PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "True", "succeeded"]
    assert "SIMULATED imini at http://127.0.0.1:" in run.stderr  # said at start, before it runs


def test_the_simulated_api_path_is_the_simulators() -> None:
    assert SimulatedImini._PATH == API_PREFIX
