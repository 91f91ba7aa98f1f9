"""Drive imini-mcp end to end through the MCP Python client against the built-in simulated imini.

    python examples/simulated_session.py

It starts `imini-mcp --simulate` over stdio, dry-runs the storyboard in examples/storyboard.json, submits
it, follows the task to the finished video, runs examples/image_to_video.json, and lists the journal. No API key, no credits.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

HERE = Path(__file__).parent


async def main() -> None:
    storyboard = json.loads((HERE / "storyboard.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        server = StdioServerParameters(
            command=sys.executable,
            args=["-m", "imini_mcp", "--simulate", "--simulate-seconds", "6", "--log-level", "WARNING"],
            env={"IMINI_JOURNAL_PATH": str(Path(tmp) / "journal.sqlite3")},
        )
        async with Client(server) as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
            print("tools:", ", ".join(tools))

            dry = await client.call_tool("generate_video", storyboard | {"dry_run": True})
            print("\n--- dry run ---\n" + dry.content[0].text)

            submitted = await client.call_tool("generate_video", storyboard | {"wait_seconds": 0})
            task_id = submitted.structured_content["task"]["task_id"]
            print("\n--- submitted ---\n" + submitted.content[0].text)

            async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                print(f"  progress {progress:5.1f}s  {message}")

            done = await client.call_tool(
                "get_task", {"task_id": task_id, "wait_seconds": 60}, progress_callback=on_progress
            )
            print("\n--- finished ---\n" + done.content[0].text)
            assert done.structured_content["status"] == "succeeded"

            image_to_video = json.loads((HERE / "image_to_video.json").read_text())
            animated = await client.call_tool("generate_video", image_to_video | {"wait_seconds": 60})
            print("\n--- image-to-video ---\n" + animated.content[0].text)
            assert animated.structured_content["task"]["status"] == "succeeded"

            listing = await client.call_tool("list_tasks", {"limit": 5})
            print("\n--- journal ---\n" + listing.content[0].text)


if __name__ == "__main__":
    anyio.run(main)
