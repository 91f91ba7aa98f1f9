"""The one seam into MCP SDK internals: a tool that publishes a pydantic schema but gets raw arguments.

The SDK validates tool arguments with pydantic before the tool runs and reports failures as raw
pydantic text (URLs, `input_value` dumps), one model level at a time, and it silently drops unknown
top-level arguments. imini-mcp validates itself instead (`request.check_arguments` and friends): every
problem at once, in plain words, and refuses unknown fields. So the tool's argument model is swapped for a
pass-through one (the SDK documents `FuncMetadata` fields as read live) and the published `inputSchema` comes
from the real arguments model, made portable (request/published.py). tests/test_package.py pins these internals.

The published schemas (input and output) ship in `tools/schemas.json`, generated from the models: building
them at every start costs more than the rest of the tools together. tests/mcp/test_published_surface.py
fails when the file and the models disagree, and regenerates it with IMINI_UPDATE_PINS=1.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, get_args, get_type_hints

from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.context_injection import find_context_parameter
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict

from imini_mcp.request import arguments_schema, lean_output_schema

SCHEMAS_FILE = "schemas.json"


class RawArguments(ArgModelBase):
    """Accepts any arguments and hands them to the tool unchanged as `arguments`."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True, defer_build=True)  # on first call

    def model_dump_one_level(self) -> dict[str, Any]:
        return {"arguments": dict(self.model_extra or {})}


@cache
def shipped_schemas() -> dict[str, dict[str, Any]]:
    """tool name -> {"input": inputSchema, "output": outputSchema}, as generated into the package."""
    text = (resources.files("imini_mcp.mcp.tools") / SCHEMAS_FILE).read_text(encoding="utf-8")
    schemas: dict[str, dict[str, Any]] = json.loads(text)
    return schemas


@dataclass(frozen=True)
class SelfValidatingTool:
    """A tool `fn(arguments: dict, ctx: Context) -> Annotated[CallToolResult, ResultModel]` that publishes
    `arguments_model`'s schema. No tool here deletes or overwrites anything: `destructiveHint` is false."""

    fn: Callable[..., Any]
    arguments_model: type[BaseModel]
    title: str
    read_only: bool
    idempotent: bool
    open_world: bool
    meta: dict[str, Any] | None = None  # the tool's `_meta`: e.g. the MCP Apps view it is shown with

    @property
    def name(self) -> str:
        return self.fn.__name__

    def result_model(self) -> type[BaseModel]:
        """The model of the tool's structured content: the metadata of its `Annotated` return type."""
        model: type[BaseModel] = get_args(get_type_hints(self.fn, include_extras=True)["return"])[1]
        return model

    def derived_schemas(self) -> dict[str, Any]:
        """The schemas as the models give them (slow: what schemas.json saves at start)."""
        output = FuncMetadata(arg_model=RawArguments, output_model=self.result_model()).output_schema
        assert output is not None
        return {"input": arguments_schema(self.arguments_model), "output": lean_output_schema(output)}

    def build(self) -> Tool:
        annotations = ToolAnnotations(
            title=self.title,
            read_only_hint=self.read_only,
            destructive_hint=False,
            idempotent_hint=self.idempotent,
            open_world_hint=self.open_world,
        )
        # Built directly, not with Tool.from_function, which would derive (slowly) what the file already holds;
        # tests/test_package.py checks that the two agree on everything else.
        schemas = shipped_schemas()[self.name]
        return Tool(
            fn=self.fn,
            name=self.name,
            title=self.title,
            description=inspect.cleandoc(self.fn.__doc__ or ""),
            parameters=schemas["input"],
            fn_metadata=FuncMetadata(
                arg_model=RawArguments, output_schema=schemas["output"], output_model=self.result_model()
            ),
            is_async=True,
            context_kwarg=find_context_parameter(self.fn),
            annotations=annotations,
            meta=self.meta,
        )
