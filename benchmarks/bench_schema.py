"""7. tools/list as a model's context: how many characters a model reads, and how big the whole answer is.

Deterministic sizes, not timings: what a model reads of each tool (its name, description and inputSchema) and
the whole tools/list result (titles, annotations and output schemas too), as compact JSON text, characters
as sent (non-ASCII unescaped), from a fresh in-process server in both protocol eras. The goals are the ones
tests/mcp/test_model_context.py holds the server to; the note breaks the figure down per tool.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import anyio
from harness import Row, bench_main
from mcp import Client

from imini_mcp.mcp import build_server
from imini_mcp.settings import Settings

BENCH = "7 tools/list size"
MODEL_READ_GOAL = 10_000
TOOLS_LIST_GOAL = 20_000


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _read(tool: dict[str, Any]) -> int:
    return len(tool["name"]) + len(tool.get("description", "")) + len(_compact(tool["inputSchema"]))


async def _tools_list(mode: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, api_key=None, journal_path=Path(tmp) / "j.sqlite3")  # type: ignore[call-arg]
        async with Client(build_server(settings), mode=mode) as client:  # type: ignore[arg-type]
            listed = await client.list_tools()
    # The 2026-07-28 envelope stamps server info in _meta: not part of the surface.
    dumped: dict[str, Any] = listed.model_dump(
        mode="json", by_alias=True, exclude_none=True, exclude={"meta"}
    )
    return dumped


def _chars(n: int) -> str:
    return f"{n:,} chars"


def run(quick: bool) -> list[Row]:
    logging.disable(logging.INFO)  # the server's "ready" line would land in the table's output
    rows: list[Row] = []
    for mode in ("auto", "legacy"):
        listed = anyio.run(_tools_list, mode)
        tools = listed["tools"]
        read = sum(_read(tool) for tool in tools)
        whole = len(_compact(listed))
        outputs = sum(len(_compact(tool.get("outputSchema", {}))) for tool in tools)
        rows.append(
            Row(
                BENCH,
                f"what a model reads: names + descriptions + input schemas ({mode})",
                _chars(read),
                goal=f"≤ {MODEL_READ_GOAL:,}",
                ok=read <= MODEL_READ_GOAL,
                note=", ".join(f"{tool['name']} {_read(tool):,}" for tool in tools),
            )
        )
        rows.append(
            Row(
                BENCH,
                f"the whole tools/list result ({mode})",
                _chars(whole),
                goal=f"≤ {TOOLS_LIST_GOAL:,}",
                ok=whole <= TOOLS_LIST_GOAL,
                note=f"of which output schemas {outputs:,}",
            )
        )
    return rows


if __name__ == "__main__":
    bench_main(run)
