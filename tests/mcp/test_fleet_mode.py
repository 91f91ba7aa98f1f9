"""Fleet mode (IMINI_DATABASE_URL over streamable HTTP): what replicas must share is asked for at start
(IMINI_SECRET_KEY; a shared output folder for files), /healthz says whether the store answers, a store
outage is a plain retryable error (and no paid submit without its recorded intent), and a 2025-11-25
client works through plain round robin."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from pydantic import ValidationError

from imini_mcp.imini import ConfigurationError, PollSchedule
from imini_mcp.mcp import build_server
from imini_mcp.mcp.http import build_http_app, check_fleet
from imini_mcp.mcp.server import SERVER_NAME, request_state_security
from imini_mcp.settings import Settings
from tests.conftest import FAST_RETRY, Backend
from tests.mcp.test_http import MCP_HEADERS, serve_app
from tests.mcp.test_mcp_tasks_transports import _sse_json
from tests.postgres import admin

pytestmark = pytest.mark.anyio

KEY = "fleet-mode-test-secret-" + "cd" * 16
OLD_KEY = "fleet-mode-old-secret-" + "ef" * 16
FAKE_DB = "postgresql://imini:pw@127.0.0.1:1/imini"  # never connected to: the checks come first


def fleet_settings(**values: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, **({"database_url": FAKE_DB, "transport": "streamable-http"} | values)
    )


# ---------------------------------------------------------------------------------------------------
# What fleet mode is, and what it needs


@pytest.mark.parametrize(
    ("values", "fleet"),
    [
        pytest.param({}, True, id="PostgreSQL over HTTP: a fleet"),
        pytest.param({"transport": "stdio"}, False, id="stdio: one client's own process"),
        pytest.param({"database_url": None}, False, id="SQLite journal: one host"),
        pytest.param({"database_url": ""}, False, id="empty URL: none"),
    ],
)
def test_fleet_mode_is_a_database_url_served_over_http(values: dict[str, Any], fleet: bool) -> None:
    assert fleet_settings(**values).fleet_mode() is fleet


def test_the_secret_key_is_one_or_more_long_keys_never_echoed() -> None:
    assert fleet_settings(secret_key=f" {KEY} , {OLD_KEY} ").secret_keys() == [KEY, OLD_KEY]
    assert fleet_settings(secret_key="").secret_keys() == []
    with pytest.raises(ValidationError) as short:
        fleet_settings(secret_key="tooshort-but-secret")
    assert "at least 32 characters" in str(short.value)
    assert "tooshort-but-secret" not in str(short.value)
    with pytest.raises(ValidationError, match="listed twice"):
        fleet_settings(secret_key=f"{KEY},{KEY}")


def test_fleet_mode_refuses_to_start_without_a_shared_secret_or_with_files_on_one_replica() -> None:
    with pytest.raises(ConfigurationError, match="IMINI_SECRET_KEY") as no_key:
        check_fleet(fleet_settings())
    assert "secrets.token_hex(32)" in str(no_key.value)
    with pytest.raises(ConfigurationError, match="IMINI_SHARED_OUTPUT_DIR=true") as files:
        check_fleet(fleet_settings(secret_key=KEY, output_mode="file"))
    assert "IMINI_OUTPUT_MODE=url" in str(files.value)
    check_fleet(fleet_settings(secret_key=KEY))
    check_fleet(fleet_settings(secret_key=KEY, output_mode="both", shared_output_dir=True))
    check_fleet(fleet_settings(transport="stdio", output_mode="file"))  # not a fleet: nothing needed


@pytest.mark.parametrize(
    ("env", "says"),
    [
        pytest.param(
            {}, ["IMINI_SECRET_KEY", "secrets.token_hex(32)", "shared by every replica"], id="no key"
        ),
        pytest.param(
            {"IMINI_SECRET_KEY": KEY, "IMINI_OUTPUT_MODE": "both"},
            ["IMINI_SHARED_OUTPUT_DIR=true", "IMINI_OUTPUT_MODE=url"],
            id="files without a shared folder",
        ),
    ],
)
def test_the_command_refuses_fleet_mode_saying_what_to_set(
    tmp_path: Path, env: dict[str, str], says: list[str]
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("IMINI_")}
    run = subprocess.run(
        [sys.executable, "-m", "imini_mcp", "--transport", "streamable-http"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=clean | {"HOME": str(tmp_path), "IMINI_DATABASE_URL": FAKE_DB} | env,
    )
    assert run.returncode == 2
    for words in says:
        assert words in run.stderr
    assert "pw@" not in run.stderr  # the database password is never shown


def test_replicas_with_one_secret_accept_each_others_request_state_and_keys_rotate() -> None:
    """Every replica seals the SDK's request state with IMINI_SECRET_KEY's first key and opens it with any
    (rotation: "new,old"); without a key each process would have its own (the SDK's default)."""
    first, second = (request_state_security(fleet_settings(secret_key=KEY)) for _ in range(2))
    assert first is not None
    assert second is not None
    assert second.codec.unseal(first.codec.seal(b"state")) == b"state"
    rotated = request_state_security(fleet_settings(secret_key=f"{KEY},{OLD_KEY}"))
    older = request_state_security(fleet_settings(secret_key=OLD_KEY))
    assert rotated is not None
    assert older is not None
    assert rotated.codec.unseal(older.codec.seal(b"old")) == b"old"
    assert request_state_security(fleet_settings()) is None
    assert build_server(fleet_settings(secret_key=KEY)).name == SERVER_NAME == "imini-mcp"


# ---------------------------------------------------------------------------------------------------
# Running servers


@pytest.fixture
def fleet_server(backend: Backend, make_settings: Callable[..., Settings], pg_url: str) -> Callable[..., Any]:
    """A fleet-mode server on the test's PostgreSQL database and simulated imini."""

    def make(**overrides: Any) -> Any:
        settings = make_settings(
            **({"database_url": pg_url, "transport": "streamable-http", "secret_key": KEY} | overrides)
        )
        return build_server(settings, clock=backend.clock, retry=FAST_RETRY, schedule=PollSchedule(jitter=0))

    return make


async def test_file_output_is_refused_per_call_in_a_fleet_without_a_shared_folder(
    fleet_server: Any, backend: Backend, tmp_path: Path
) -> None:
    async with Client(fleet_server()) as client:
        generated = await client.call_tool("generate_video", {"prompt": "a kite", "output": "file"})
        submitted = await client.call_tool("generate_video", {"prompt": "a kite", "wait_seconds": 300})
        task_id = submitted.structured_content["task"]["task_id"]
        asked = await client.call_tool("get_task", {"task_id": task_id, "output": "both"})
    assert generated.is_error
    assert "IMINI_SHARED_OUTPUT_DIR=true" in generated.content[0].text
    assert 'output "url"' in generated.content[0].text
    assert backend.submits == 1  # the refused call sent nothing
    assert asked.is_error
    assert "one replica only" in asked.content[0].text
    async with Client(fleet_server(shared_output_dir=True)) as client:
        saved = await client.call_tool("get_task", {"task_id": task_id, "output": "file"})
    assert not saved.is_error, saved.content[0].text
    assert [Path(f["path"]).parent for f in saved.structured_content["files"]] == [tmp_path / "videos"] * 2


@contextmanager
def database_refusing_connections(pg_server: str, pg_url: str) -> Iterator[None]:
    """The test's database stops accepting connections and drops those it has, as a database that went down."""
    name = pg_url.rsplit("/", 1)[-1].split("?")[0]
    with admin(pg_server) as conn:
        conn.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    try:
        yield
    finally:
        with admin(pg_server) as conn:
            conn.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")


@asynccontextmanager
async def served(server: Any, settings: Settings) -> AsyncIterator[str]:
    async with serve_app(build_http_app(server, settings)) as base:
        yield base


async def test_healthz_says_whether_the_store_answers(
    fleet_server: Any, make_settings: Callable[..., Settings], pg_server: str, pg_url: str
) -> None:
    settings = make_settings(database_url=pg_url, transport="streamable-http", secret_key=KEY)
    async with served(fleet_server(), settings) as base, httpx2.AsyncClient(timeout=30) as http:
        up = await http.get(f"{base}/healthz")
        with database_refusing_connections(pg_server, pg_url):
            down = await http.get(f"{base}/healthz")
        deadline = anyio.current_time() + 20
        while (again := await http.get(f"{base}/healthz")).status_code != 200:
            assert anyio.current_time() < deadline, again.json()
            await anyio.sleep(0.2)
    assert up.status_code == 200
    assert up.json()["store"] == "reachable"
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert down.json()["store"] in ("unreachable", "not answering")
    assert "127.0.0.1" not in down.text  # an unauthenticated endpoint tells no more than that
    assert again.json()["store"] == "reachable"


async def test_healthz_on_the_sqlite_journal(
    make_server: Any, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(transport="streamable-http")
    async with (
        served(make_server(transport="streamable-http"), settings) as base,
        httpx2.AsyncClient() as http,
    ):
        health = await http.get(f"{base}/healthz")
    assert health.status_code == 200
    assert health.json()["store"] == "reachable"


async def test_a_store_outage_is_a_plain_retryable_error_and_nothing_is_submitted_unrecorded(
    fleet_server: Any, backend: Backend, pg_server: str, pg_url: str
) -> None:
    async with Client(fleet_server()) as client:
        known = await client.call_tool("generate_video", {"prompt": "a kite"})
        task_id = known.structured_content["task"]["task_id"]
        answers: dict[str, Any] = {}

        async def call(name: str, arguments: dict[str, Any]) -> None:
            answers[name] = await client.call_tool(name, arguments)

        with database_refusing_connections(pg_server, pg_url):
            async with anyio.create_task_group() as tg:
                tg.start_soon(call, "generate_video", {"prompt": "a second kite"})
                tg.start_soon(call, "get_task", {"task_id": task_id})
                tg.start_soon(call, "list_tasks", {})
        later = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 300})
    generated = answers["generate_video"]
    assert generated.is_error
    assert "cannot be recorded before submitting" in generated.content[0].text
    assert "Nothing was sent or billed" in generated.content[0].text
    assert backend.submits == 1
    for name in ("get_task", "list_tasks"):
        assert answers[name].is_error
        assert "task store cannot be reached" in answers[name].content[0].text
        assert "call again in a little while" in answers[name].content[0].text
    assert not later.is_error
    assert later.structured_content["status"] == "succeeded"


async def test_a_legacy_client_works_through_plain_round_robin(
    fleet_server: Any, backend: Backend, make_settings: Callable[..., Settings], pg_url: str
) -> None:
    """2025-11-25 over HTTP, each request to the next of two fleet replicas: initialize on one, the task
    created on the other, then tasks/get and tasks/result alternating (a fleet serves the era statelessly)."""
    settings = make_settings(database_url=pg_url, transport="streamable-http", secret_key=KEY)
    replica = fleet_server

    async with (
        served(replica(), settings) as a,
        served(replica(), settings) as b,
        httpx2.AsyncClient(headers=MCP_HEADERS, timeout=60) as http,
    ):
        bases = [a, b]
        turn = 0

        async def post(message: dict[str, Any]) -> httpx2.Response:
            nonlocal turn
            turn += 1
            return await http.post(f"{bases[turn % 2]}/mcp", json=message)

        async def call(n: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
            return _sse_json(await post({"jsonrpc": "2.0", "id": n, "method": method, "params": params}))

        init = await call(
            1,
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "rr", "version": "1"},
            },
        )
        http.headers["mcp-protocol-version"] = "2025-11-25"
        await post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        created = await call(
            2, "tools/call", {"name": "generate_video", "arguments": {"prompt": "p"}, "task": {}}
        )
        task_id = created["result"]["task"]["taskId"]
        got = await call(3, "tasks/get", {"taskId": task_id})
        result = await call(4, "tasks/result", {"taskId": task_id})
        listed = await call(5, "tasks/list", {})
    assert init["result"]["capabilities"]["tasks"]["requests"] == {"tools": {"call": {}}}
    assert got["result"]["taskId"] == task_id
    assert result["result"]["structuredContent"]["task"]["status"] == "succeeded"
    assert [t["taskId"] for t in listed["result"]["tasks"]] == [task_id]
    assert backend.submits == 1
