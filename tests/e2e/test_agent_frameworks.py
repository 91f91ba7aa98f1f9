"""The tools through the agent frameworks that hand MCP tools to a model provider, converted the way each sends
them, then called with what a model following the converted schema sends: every optional field null. No model
is called and no key is needed: the server runs over stdio with --simulate (loopback only), one per framework.

- openai-agents 0.24 (`MCPServerStdio`, `convert_schemas_to_strict=True`): strict conversion succeeds for every
  tool (a bare `$ref` made it fall back to non-strict).
- google-genai 3.6 (an MCP `ClientSession` as a tool): its conversion, `parse_config_for_mcp_sessions`, which
  `generate_content` runs before calling the model, does not crash (it recursed into `additionalProperties:
  false` as if it were a schema), and every optional field comes out nullable.
- pydantic-ai 2.68 (`MCPToolset` over fastmcp's stdio transport): a strict tool definition, as an OpenAI model
  customises it (`OpenAIJsonSchemaTransformer`).
- LangChain: langchain-mcp-adapters cannot be imported with mcp 2.x (0.3.1 imports `mcp.server.fastmcp`, which
  mcp 2 removed; 0.3.2 pins `mcp<2`), so the tools are built as the adapter builds them, a `StructuredTool` whose
  `args_schema` is the tool's inputSchema, and converted with langchain-core's
  `convert_to_openai_tool(..., strict=True)`, the OpenAI-strict conversion.

Each strict-converted schema makes every property required; the calls below fill in only what a model would mean
and send null for the rest, check that against the converted schema (so a model following it can produce the
call), and the server takes each null as "not set": list_tasks unfiltered, list_models all, a generate_video
dry run (plain, and a storyboard whose nested objects are full of nulls), one real submit and its get_task.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jsonschema
import pytest

pytestmark = [
    pytest.mark.anyio,
    # fastmcp (pydantic-ai's MCP client) deprecates the v1 attribute google-genai still reads first.
    pytest.mark.filterwarnings("ignore:Accessing `Tool.inputSchema` is deprecated"),
]

Call = Callable[[str, dict[str, Any]], Awaitable[tuple[bool, str]]]  # → (is_error, text)
TOOLS = {"generate_video", "get_task", "list_tasks", "list_models"}
NULL = {"type": "null"}


def server_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "IMINI_JOURNAL_PATH": str(tmp_path / "journal.sqlite3"),
        "IMINI_SIMULATE_SECONDS": "2",
        "IMINI_DEFAULT_WAIT_SECONDS": "0",  # wait_seconds null: answer at once (the test waits for nothing)
        "IMINI_LOG_LEVEL": "WARNING",
    } | ({"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {})


SERVER = [sys.executable, "-m", "imini_mcp", "--simulate"]


# ---------------------------------------------------------------------------------------------------
# What a model following a strict schema sends


def _held(schema: dict[str, Any]) -> dict[str, Any]:
    """The object or array a nullable schema holds (`anyOf [it, null]` or `"type": [it, "null"]`)."""
    options = [option for option in schema.get("anyOf", [schema]) if option != NULL]
    return options[0] if len(options) == 1 else schema


def strict_shaped(schema: dict[str, Any], meant: dict[str, Any]) -> dict[str, Any]:
    """Every property, as a strict schema demands: what the model means, else null; nested objects alike."""
    shaped: dict[str, Any] = {}
    for name, prop in _held(schema)["properties"].items():
        value = meant.get(name)
        if isinstance(value, dict):
            value = strict_shaped(prop, value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            value = [strict_shaped(_held(prop)["items"], item) for item in value]
        shaped[name] = value
    return shaped


STORYBOARD = {
    "duration": 5,
    "dry_run": True,
    "extra_params": {
        "multi_shot": True,
        "shot_type": "customize",
        "multi_prompt": [{"prompt": "a fox wakes up", "duration": 2}, {"prompt": "it runs", "duration": "3"}],
    },
}


async def exercise(call: Call, schemas: dict[str, dict[str, Any]] | None) -> None:
    """The calls a model makes from the converted schemas (checked against them when they are JSON schemas)."""

    async def strict_call(name: str, meant: dict[str, Any]) -> str:
        args = strict_shaped(schemas[name], meant) if schemas else _nulls(name, meant)
        if schemas:
            jsonschema.validate(args, schemas[name])  # a model following the converted schema can send this
        is_error, text = await call(name, args)
        assert not is_error, f"{name} {json.dumps(args)} was refused: {text}"
        return text

    listed = await strict_call("list_tasks", {})
    assert "No tasks match" in listed  # not filtered on a null status
    models = await strict_call("list_models", {})
    assert "kling/kling-v3" in models
    assert "dashscope/happyhorse-1.0" in models  # null = every model
    dry = await strict_call("generate_video", {"prompt": "a red fox in snow", "dry_run": True})
    assert "dry_run false" in dry  # the next step: submit it
    board = await strict_call("generate_video", STORYBOARD)
    assert "multi_prompt" in board
    submitted = await strict_call("generate_video", {"prompt": "a paper boat on a river"})
    task_id = re.findall(r"task_[0-9]+", submitted)[0]  # the text names the task, and how to check it
    checked = await strict_call("get_task", {"task_id": task_id})
    assert task_id in checked


SHAPES: dict[
    str, dict[str, Any]
] = {}  # tool name → inputSchema, for frameworks whose schemas are not JSON schema


def _nulls(name: str, meant: dict[str, Any]) -> dict[str, Any]:
    return strict_shaped(SHAPES[name], meant)


def assert_optional_fields_nullable(schema: dict[str, Any], path: str = "") -> None:
    """In a strict-converted schema, everything is required; what was optional must accept null."""
    held = _held(schema)
    for name, prop in held.get("properties", {}).items():
        assert name in held.get("required", []), f"{path}{name}: strict conversion leaves it optional"
        assert_optional_fields_nullable(prop, f"{path}{name}.")
    if "items" in held:
        assert_optional_fields_nullable(held["items"], f"{path}[].")


def _accepts_null(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return NULL in schema.get("anyOf", []) or (isinstance(kind, list) and "null" in kind)


def optional_paths(schema: dict[str, Any], path: str = "") -> list[str]:
    """The paths of the fields the published schema leaves optional, at every level."""
    held = _held(schema)
    found = [f"{path}{n}" for n in held.get("properties", {}) if n not in held.get("required", [])]
    for name, prop in held.get("properties", {}).items():
        found += optional_paths(prop, f"{path}{name}.")
    if "items" in held:
        found += optional_paths(held["items"], f"{path}[].")
    return found


def at(schema: dict[str, Any], path: str) -> dict[str, Any]:
    node = schema
    for part in path.split("."):
        node = _held(node)["items"] if part == "[]" else _held(node)["properties"][part]
    return node


def assert_nulls_survive(published: dict[str, Any], converted: dict[str, Any]) -> None:
    assert_optional_fields_nullable(converted)
    for path in optional_paths(published):
        assert _accepts_null(at(converted, path)), f"{path} is optional but not nullable once converted"


# ---------------------------------------------------------------------------------------------------
# The frameworks


async def test_openai_agents_converts_every_tool_to_strict(tmp_path: Path) -> None:
    from agents.mcp import MCPServerStdio, MCPUtil

    params = {"command": SERVER[0], "args": SERVER[1:], "env": server_env(tmp_path), "cwd": str(tmp_path)}
    async with MCPServerStdio(params=params, client_session_timeout_seconds=60) as server:  # type: ignore[arg-type]
        tools = {tool.name: tool for tool in await server.list_tools()}
        assert set(tools) == TOOLS
        converted = {name: MCPUtil.to_function_tool(tool, server, True) for name, tool in tools.items()}
        for name, function_tool in converted.items():
            assert function_tool.strict_json_schema, f"{name} fell back to a non-strict schema"
            assert_nulls_survive(tools[name].input_schema, function_tool.params_json_schema)

        async def call(name: str, args: dict[str, Any]) -> tuple[bool, str]:
            result = await server.call_tool(name, args)
            return bool(result.is_error), result.content[0].text  # type: ignore[union-attr]

        await exercise(call, {name: tool.params_json_schema for name, tool in converted.items()})


@asynccontextmanager
async def sdk_session(tmp_path: Path) -> AsyncIterator[Any]:
    """A plain `mcp.ClientSession` over stdio: what google-genai takes as a tool."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(
        command=SERVER[0], args=SERVER[1:], env=server_env(tmp_path), cwd=str(tmp_path)
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def test_google_genai_converts_the_tools_of_an_mcp_session(tmp_path: Path) -> None:
    from google.genai import _extra_utils, types

    async with sdk_session(tmp_path) as session:
        published = {tool.name: tool.input_schema for tool in (await session.list_tools()).tools}
        config, adapters = await _extra_utils.parse_config_for_mcp_sessions({"tools": [session]})
        assert config is not None
        assert config.tools is not None
        declarations = {d.name: d for tool in config.tools for d in tool.function_declarations or []}
        assert set(declarations) == TOOLS == set(adapters)
        for name, declaration in declarations.items():
            parameters = declaration.parameters
            assert parameters is not None
            for path in optional_paths(published[name]):
                node: types.Schema = parameters
                for part in path.split("."):
                    inner = node.items if part == "[]" else (node.properties or {})[part]
                    assert inner is not None
                    node = inner
                assert node.nullable, f"{name}.{path} is optional but not nullable for Gemini"

        async def call(name: str, args: dict[str, Any]) -> tuple[bool, str]:
            result = await adapters[name].call_tool(types.FunctionCall(name=name, args=args))
            return bool(result.is_error), result.content[0].text

        SHAPES.update(published)
        await exercise(call, None)


async def test_pydantic_ai_strict_tool_definitions(tmp_path: Path) -> None:
    from fastmcp.client.transports import StdioTransport
    from pydantic_ai.mcp import MCPToolset
    from pydantic_ai.models import ModelRequestParameters
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider
    from pydantic_ai.tools import ToolDefinition

    transport = StdioTransport(SERVER[0], SERVER[1:], env=server_env(tmp_path), cwd=str(tmp_path))
    toolset: MCPToolset[Any] = MCPToolset(transport, tool_error_behavior="error")
    model = OpenAIChatModel("gpt-4o", provider=OpenAIProvider(api_key="sk-dummy-not-used"))
    async with toolset:
        tools = {tool.name: tool for tool in await toolset.list_tools()}
        assert set(tools) == TOOLS
        definitions = [
            ToolDefinition(
                name=n, description=t.description, parameters_json_schema=t.input_schema, strict=True
            )
            for n, t in tools.items()
        ]
        customised = model.customize_request_parameters(ModelRequestParameters(function_tools=definitions))
        converted = {d.name: d.parameters_json_schema for d in customised.function_tools}
        for name, schema in converted.items():
            assert_nulls_survive(tools[name].input_schema, schema)

        async def call(name: str, args: dict[str, Any]) -> tuple[bool, str]:
            try:
                result = await toolset.direct_call_tool(name, args)
            except Exception as exc:  # tool_error_behavior="error": a refusal is raised
                return True, str(exc)
            return False, result if isinstance(result, str) else json.dumps(result)

        await exercise(call, converted)


async def test_langchain_core_openai_strict_conversion(tmp_path: Path) -> None:
    from langchain_core.tools import StructuredTool
    from langchain_core.utils.function_calling import convert_to_openai_tool

    async with sdk_session(tmp_path) as session:
        listed = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert set(listed) == TOOLS

        def as_langchain(name: str) -> StructuredTool:
            async def run(**args: Any) -> str:
                result = await session.call_tool(name, args)
                prefix = "ERROR " if result.is_error else ""
                return prefix + result.content[0].text

            tool = listed[name]
            # As langchain-mcp-adapters builds it: the inputSchema itself is the args schema.
            return StructuredTool(
                name=name,
                description=tool.description or "",
                args_schema=copy.deepcopy(tool.input_schema),
                coroutine=run,
            )

        tools = {name: as_langchain(name) for name in listed}
        converted = {}
        for name, tool in tools.items():
            function = convert_to_openai_tool(tool, strict=True)["function"]
            assert function["strict"] is True
            assert_nulls_survive(listed[name].input_schema, function["parameters"])
            converted[name] = function["parameters"]

        async def call(name: str, args: dict[str, Any]) -> tuple[bool, str]:
            text = str(await tools[name].ainvoke(args))
            return text.startswith("ERROR "), text.removeprefix("ERROR ")

        await exercise(call, converted)
