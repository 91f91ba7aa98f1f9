"""tools/list as a model reads it: small enough to sit in an assistant's context, in plain one-line words.

What a model reads of each tool is its name, its description and its inputSchema; the whole tools/list
(with titles, annotations and output schemas) is what a client downloads and keeps. Both are measured as
compact JSON text, characters as sent (non-ASCII unescaped), in both protocol eras; benchmarks/bench_schema.py
reports the same figures next to these goals. What moved out of the schema to get here is still stated
where a model needs it (tests/request/test_schema.py, tests/mcp/test_list_models.py) and still enforced
(the rule tests under tests/request).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.anyio

MODEL_READ_GOAL = 10_000  # names + descriptions + input schemas
TOOLS_LIST_GOAL = 20_000  # the whole tools/list result


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def sizes(listed: dict[str, Any]) -> tuple[int, int]:
    """(what a model reads, the whole tools/list) in characters of compact JSON."""
    read = sum(
        len(t["name"]) + len(t.get("description", "")) + len(compact(t["inputSchema"]))
        for t in listed["tools"]
    )
    return read, len(compact(listed))


async def test_tools_list_fits_a_models_context(connect: Any) -> None:
    async with connect() as client:
        listed = (await client.list_tools()).model_dump(
            mode="json", by_alias=True, exclude_none=True, exclude={"meta"}
        )
    read, whole = sizes(listed)
    assert read <= MODEL_READ_GOAL, f"a model reads {read} characters of tools/list"
    assert whole <= TOOLS_LIST_GOAL, f"tools/list is {whole} characters"


async def test_what_a_model_reads_is_plain_one_line_words(connect: Any) -> None:
    """No source indentation, no `"default": null` on fields, no confidence tags it was never told about."""
    async with connect() as client:
        tools = (await client.list_tools()).tools
    for tool in tools:
        assert tool.description
        assert "\n " not in tool.description, tool.name  # dedented docstrings
        text = compact(tool.input_schema) + tool.description
        for tag in ("[DOC]", "[UPSTREAM]", "[INFER]", "[SKILL]"):
            assert tag not in text, (tool.name, tag)
        assert '"default"' not in compact(tool.input_schema), tool.name
        assert '"title":"' not in compact(tool.output_schema), tool.name  # a property may be named title
