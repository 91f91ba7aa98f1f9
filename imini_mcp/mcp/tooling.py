"""The one seam into MCP SDK internals: a tool that publishes a pydantic schema but gets raw arguments.

The SDK validates tool arguments with pydantic before the tool runs and reports failures as raw
pydantic text (URLs, `input_value` dumps), one model level at a time, and it silently drops unknown
top-level arguments. imini-mcp validates itself instead (`validation.parse_partially`): every problem
at once, in plain words. So the tool's argument model is swapped for a pass-through one (the SDK
documents `FuncMetadata` fields as read live) and the published `inputSchema` comes from the real
arguments model, with `additionalProperties: false`. tests/test_package.py pins these internals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict

from imini_mcp.request import arguments_schema


class RawArguments(ArgModelBase):
    """Accepts any arguments and hands them to the tool unchanged as `arguments`."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    def model_dump_one_level(self) -> dict[str, Any]:
        return {"arguments": dict(self.model_extra or {})}


def self_validating_tool(
    fn: Callable[..., Any],
    *,
    arguments_model: type[BaseModel],
    title: str,
    read_only: bool,
    idempotent: bool,
    open_world: bool,
) -> Tool:
    """Build a Tool for `fn(arguments: dict, ctx: Context)` that publishes `arguments_model`'s schema.

    No tool here deletes or overwrites anything, so `destructiveHint` is always false.
    """
    annotations = ToolAnnotations(
        title=title,
        read_only_hint=read_only,
        destructive_hint=False,
        idempotent_hint=idempotent,
        open_world_hint=open_world,
    )
    tool = Tool.from_function(fn, title=title, annotations=annotations)
    tool.fn_metadata.arg_model = RawArguments
    tool.parameters = arguments_schema(arguments_model)
    return tool
