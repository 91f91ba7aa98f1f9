"""Through nginx: clients of both protocol eras submit and follow their tasks to the video, on any replica."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from typing import Any

import httpx2
import pytest

from tests.fleet.harness import COMPOSE, PUBLIC_HOST, Fleet, mcp_client, structured

pytestmark = pytest.mark.anyio


async def submit_and_follow(fleet: Fleet, *, legacy: bool, key: str) -> dict[str, Any]:
    """generate_video through nginx without waiting, then get_task calls (each its own request, so round
    robin sends them to different replicas) until the video is there."""
    async with mcp_client(fleet.url, legacy=legacy, host=PUBLIC_HOST) as client:
        first = structured(
            await client.call_tool(
                "generate_video",
                {"prompt": f"a kite over the dunes ({key})", "idempotency_key": key, "wait_seconds": 0},
            )
        )
        task_id = first["task"]["task_id"]
        for _ in range(4):  # a 4 s task, followed in short waits of ≤ 3 s: several requests, several replicas
            task = structured(await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 3}))
            if task["status"] == "succeeded":
                break
        else:
            task = structured(await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 30}))
    assert task["status"] == "succeeded", task
    assert task["videos"], task
    assert task["videos"][0]["url"].startswith("http"), task
    return task


async def test_a_2026_client_submits_through_the_balancer_and_follows_its_task_to_the_video(
    fleet: Fleet,
) -> None:
    mark, submits = fleet.access_log_lines(), fleet.submits()
    task = await submit_and_follow(fleet, legacy=False, key="era-2026")
    assert fleet.submits() == submits + 1
    served = Counter(fleet.upstreams_seen(mark))
    assert len(served) == 3, f"round robin should have used every replica: {served}"
    assert fleet.polls(task["task_id"]) >= 1


async def test_a_2025_11_25_client_submits_through_the_balancer_and_follows_its_task_to_the_video(
    fleet: Fleet,
) -> None:
    """The legacy era's session would live in one replica's memory: the replicas run it stateless, so round
    robin works for it too (initialize on one replica, the calls on the others)."""
    mark, submits = fleet.access_log_lines(), fleet.submits()
    await submit_and_follow(fleet, legacy=True, key="era-2025")
    assert fleet.submits() == submits + 1
    served = Counter(fleet.upstreams_seen(mark))
    assert len(served) == 3, f"round robin should have used every replica: {served}"


async def test_nginx_passes_the_clients_host_through_to_the_replicas(fleet: Fleet) -> None:
    """The replicas accept IMINI_ALLOWED_HOSTS' name only because nginx forwards the client's Host; a name
    not on the list is refused by the replica (421), not by nginx."""
    async with mcp_client(fleet.url, host=PUBLIC_HOST) as client:
        tools = await client.list_tools()
    assert "generate_video" in {tool.name for tool in tools.tools}
    async with httpx2.AsyncClient(timeout=30) as http:
        answer = await http.post(
            fleet.url,
            headers={
                "Host": "evil.example",
                "Content-Type": "application/json",
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": "2025-11-25",
            },
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        )
    assert answer.status_code == 421, answer.text
    # and /healthz (what the compose healthchecks and nginx's own check use) answers through nginx
    async with httpx2.AsyncClient(timeout=30) as http:
        assert (await http.get(fleet.url.replace("/mcp", "/healthz"))).status_code == 200


def test_the_compose_healthchecks_pass_against_a_running_replica_and_nginx(fleet: Fleet) -> None:
    """The commands deploy/compose.yaml runs in the containers, pointed at this fleet's ports."""
    yaml = pytest.importorskip("yaml")
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    replica_check = services["imini-1"]["healthcheck"]["test"]
    assert replica_check[0] == "CMD"
    command = [
        arg.replace("127.0.0.1:8000", f"127.0.0.1:{fleet.replicas[0].port}") for arg in replica_check[1:]
    ]
    command[0] = sys.executable if command[0] == "python" else command[0]
    assert subprocess.run(command, timeout=30).returncode == 0
    nginx_check = services["nginx"]["healthcheck"]["test"]
    command = [arg.replace("127.0.0.1/80", f"127.0.0.1/{fleet.nginx_port}") for arg in nginx_check[1:]]
    assert subprocess.run(command, timeout=30).returncode == 0
