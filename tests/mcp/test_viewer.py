"""The MCP Apps view as the server offers it: bound to generate_video and get_task, readable, with a content
policy that names exactly the media hosts it needs; results unchanged for clients without Apps; and the
task media resources that let a sandboxed view play --simulate's file:// videos.

The view itself, in a browser, is tested in tests/browser/.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.types import ResourceLink

from imini_mcp.mcp import build_server
from imini_mcp.mcp.apps import VIEW_URI
from imini_mcp.mcp.apps.media import local_file
from imini_mcp.mcp.simulated import SimulatedImini
from imini_mcp.settings import Settings
from imini_mcp.simulator.media import sample
from tests.tasks_client import TasksClientExtension

pytestmark = pytest.mark.anyio

APPS = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})


def simulate(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, simulate=True, simulate_seconds=0.3, journal_path=tmp_path / "j.sqlite3")  # type: ignore[call-arg]


async def test_generate_video_and_get_task_are_shown_with_the_view(connect: Any) -> None:
    async with connect() as client:
        tools = (await client.list_tools()).tools
        listed = (await client.list_resources()).resources
        [content] = (await client.read_resource(VIEW_URI)).contents

    bound = {t.name: t.meta for t in tools if t.meta}
    assert set(bound) == {"generate_video", "get_task"}
    assert all(m == {"ui": {"resourceUri": VIEW_URI}, "ui/resourceUri": VIEW_URI} for m in bound.values())
    assert [r.uri for r in listed if r.uri.startswith("ui://")] == [VIEW_URI]
    assert content.mime_type == APP_MIME_TYPE
    assert content.text.startswith("<!doctype html>")  # type: ignore[union-attr]
    assert content.meta == {
        "ui": {"csp": {"resourceDomains": ["https://file.iminicdn.com"]}, "prefersBorder": True}
    }


async def test_under_simulate_the_view_needs_no_media_host(tmp_path: Path) -> None:
    """--simulate's videos reach the view as data: URLs read through the host, which no declared host admits."""
    async with Client(build_server(simulate(tmp_path))) as client:
        [content] = (await client.read_resource(VIEW_URI)).contents
    assert content.meta == {"ui": {"csp": {"resourceDomains": []}, "prefersBorder": True}}


async def test_clients_with_the_view_get_the_same_result_without_resource_links(
    make_server: Callable[..., Any], mode: str
) -> None:
    """Claude gives a view no result when it holds a resource_link (anthropics/claude-ai-mcp#753); clients
    without Apps keep them."""
    server = make_server()
    async with Client(server, mode=mode) as plain:  # type: ignore[arg-type]
        submitted = await plain.call_tool("generate_video", {"prompt": "a fox", "wait_seconds": 200})
        task_id = submitted.structured_content["task"]["task_id"]  # type: ignore[index]
        text_only = await plain.call_tool("get_task", {"task_id": task_id})
    async with Client(server, mode=mode, extensions=[APPS]) as apps:  # type: ignore[arg-type]
        with_view = await apps.call_tool("get_task", {"task_id": task_id})

    assert text_only.structured_content["status"] == "succeeded"  # type: ignore[index]
    assert [type(b) for b in text_only.content if isinstance(b, ResourceLink)] == [ResourceLink, ResourceLink]
    assert with_view.content == text_only.content[:1]
    assert with_view.structured_content == text_only.structured_content


async def test_through_mcp_tasks_too_clients_with_the_view_get_no_resource_links(
    make_server: Callable[..., Any],
) -> None:
    async with Client(make_server(), extensions=[TasksClientExtension(), APPS]) as client:
        result = await client.call_tool(
            "generate_video", {"prompt": "a fox"}
        )  # a task handle, then the result
    assert result.structured_content["task"]["status"] == "succeeded"  # type: ignore[index]
    assert [block.type for block in result.content] == ["text"]


async def test_a_simulated_video_and_cover_are_readable_as_resources(tmp_path: Path) -> None:
    async with Client(build_server(simulate(tmp_path))) as client:
        done = await client.call_tool("generate_video", {"prompt": "a fox", "wait_seconds": 30})
        task_id = done.structured_content["task"]["task_id"]  # type: ignore[index]
        [video] = (await client.read_resource(f"imini://tasks/{task_id}/video/1")).contents
        [cover] = (await client.read_resource(f"imini://tasks/{task_id}/cover/1")).contents
        task = json.loads((await client.read_resource(f"imini://tasks/{task_id}")).contents[0].text)  # type: ignore[union-attr]
        for missing in (f"imini://tasks/{task_id}/video/2", "imini://tasks/task_404/video/1"):
            with pytest.raises(MCPError, match="No video"):
                await client.read_resource(missing)

    assert done.structured_content["task"]["status"] == "succeeded"  # type: ignore[index]
    assert (video.mime_type, base64.b64decode(video.blob)) == ("video/mp4", sample("sample.mp4"))  # type: ignore[union-attr]
    assert (cover.mime_type, base64.b64decode(cover.blob)) == ("image/jpeg", sample("cover.jpg"))  # type: ignore[union-attr]
    assert task["request"] == {"model": "kling/kling-v3", "prompt": "a fox"}  # the view draws its storyboard


async def test_a_video_with_a_url_has_no_local_copy_to_read(connect: Any) -> None:
    async with connect() as client:
        done = await client.call_tool("generate_video", {"prompt": "a fox", "wait_seconds": 200})
        task_id = done.structured_content["task"]["task_id"]
        with pytest.raises(
            MCPError, match=r"No local copy of http://127\.0\.0\.1:\d+/.*\.mp4: load it from its URL"
        ):
            await client.read_resource(f"imini://tasks/{task_id}/video/1")


def test_only_files_of_the_simulated_imini_are_served(tmp_path: Path) -> None:
    settings = simulate(tmp_path)
    kept = SimulatedImini.media_dir(settings) / "task_1.mp4"
    assert local_file(kept.as_uri(), settings) == kept.resolve()
    assert (
        local_file((SimulatedImini.media_dir(settings) / ".." / "tasks" / "task_1.json").as_uri(), settings)
        is None
    )
    assert local_file("file:///etc/passwd", settings) is None
    assert local_file(kept.as_uri(), settings.model_copy(update={"simulate": False})) is None
    assert local_file("https://file.iminicdn.com/file/1.mp4", settings) is None
