"""`--simulate` with one server process per call (the Inspector CLI, a client restart): a task submitted by one
process is followed to its end by the next, and the sample video it gives still plays after both have exited.

The servers are real `python -m imini_mcp --simulate` processes over stdio, one after the other, sharing only
the journal's folder (IMINI_JOURNAL_PATH), as two Inspector CLI calls do.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

pytestmark = pytest.mark.anyio

SIMULATED_SECONDS = 3  # from submit to succeeded, in real time


@asynccontextmanager
async def simulate_process(tmp: Path, name: str) -> AsyncIterator[Client]:
    """One `imini-mcp --simulate` process over stdio; it has exited when the block ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMINI_")} | {
        "IMINI_JOURNAL_PATH": str(tmp / "data" / "journal.sqlite3"),
        "IMINI_OUTPUT_DIR": str(tmp / "videos"),
        "IMINI_SIMULATE_SECONDS": str(SIMULATED_SECONDS),
        "IMINI_DEFAULT_WAIT_SECONDS": "0",
        "HOME": str(tmp),
    }
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "imini_mcp", "--simulate"], env=env, cwd=tmp
    )
    with (tmp / f"{name}.stderr").open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            yield client


def local_path(url: str) -> Path:
    parts = urlsplit(url)
    assert parts.scheme == "file", url
    return Path(url2pathname(parts.path))


async def test_a_later_process_follows_a_task_to_a_video_that_outlives_both(tmp_path: Path) -> None:
    async with simulate_process(tmp_path, "first") as first:
        submitted = await first.call_tool(
            "generate_video", {"prompt": "a paper boat on a pond", "wait_seconds": 0}
        )
    assert not submitted.is_error, submitted.content[0].text
    task_id = submitted.structured_content["task"]["task_id"]

    async with simulate_process(tmp_path, "second") as second:
        seen = await second.call_tool("get_task", {"task_id": task_id, "wait_seconds": 0})
        listed_early = await second.call_tool("list_tasks", {})
        done = await second.call_tool("get_task", {"task_id": task_id, "wait_seconds": 60})
        saved = await second.call_tool("get_task", {"task_id": task_id, "output": "file"})
        listed = await second.call_tool("list_tasks", {})

    # The second process knows the task: no 404, and the journal follows it instead of keeping it queued.
    assert not seen.is_error, seen.content[0].text
    assert seen.structured_content["status"] in ("queued", "processing", "succeeded")
    assert listed_early.structured_content["tasks"][0]["task_id"] == task_id
    assert not done.is_error, done.content[0].text
    assert done.structured_content["status"] == "succeeded"
    assert listed.structured_content["tasks"][0]["status"] == "succeeded"
    [video] = done.structured_content["videos"]

    # Both processes are gone: the URLs they gave are files that still hold a playable sample.
    movie, cover = local_path(video["url"]), local_path(video["cover_url"])
    assert movie.read_bytes()[4:8] == b"ftyp"
    assert cover.read_bytes()[:3] == b"\xff\xd8\xff"
    assert movie.is_relative_to(tmp_path / "data")  # kept beside the journal, not in a temporary folder

    # Output mode file still saves a verified copy, which is the same video.
    assert not saved.is_error, saved.content[0].text
    files = {f["kind"]: Path(f["path"]) for f in saved.structured_content["files"]}
    assert files["video"].read_bytes() == movie.read_bytes()
    assert files["cover"].read_bytes() == cover.read_bytes()
    assert files["video"].is_relative_to(tmp_path / "videos")
