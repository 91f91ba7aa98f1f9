"""The published surface is pinned: tools/list, prompts/list, resources/list (the MCP Apps view) and
resources/templates/list, byte for byte.

A change to what clients see must be deliberate: regenerate the pins (and the tool schemas the package ships,
imini_mcp/mcp/tools/schemas.json) with `IMINI_UPDATE_PINS=1 pytest tests/mcp/test_published_surface.py` and
review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

import imini_mcp.mcp.tools as tools_package
from imini_mcp.mcp.tooling import SCHEMAS_FILE
from imini_mcp.mcp.tools import SPECS

pytestmark = pytest.mark.anyio

PINS = Path(__file__).parent / "pins"
METHODS = {
    "tools/list": Client.list_tools,
    "prompts/list": Client.list_prompts,
    "resources/list": Client.list_resources,
    "resources/templates/list": Client.list_resource_templates,
}


def _text(result: dict[str, Any]) -> str:
    # Key order is kept (not sorted): a reordered schema is a change clients can see too.
    return json.dumps(result, ensure_ascii=False, indent=1) + "\n"


@pytest.mark.parametrize("method", METHODS)
async def test_published_surface_is_unchanged(connect: Any, mode: str, method: str) -> None:
    async with connect() as client:
        assert isinstance(client, Client)
        listed = await METHODS[method](client)
    # The 2026-07-28 envelope stamps server info in _meta: not part of the surface.
    result = listed.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"meta"})
    pin = PINS / f"{method.replace('/', '-')}.{mode}.json"
    if os.environ.get("IMINI_UPDATE_PINS") == "1":
        pin.write_text(_text(result), encoding="utf-8")
    assert _text(result) == pin.read_text(encoding="utf-8")


def test_the_shipped_tool_schemas_are_what_the_models_publish() -> None:
    """schemas.json (read at start instead of building the schemas) matches the models, key order included."""
    derived = _text({spec.name: spec.derived_schemas() for spec in SPECS})
    shipped = Path(tools_package.__file__).parent / SCHEMAS_FILE
    if os.environ.get("IMINI_UPDATE_PINS") == "1":
        shipped.write_text(derived, encoding="utf-8")
    assert derived == shipped.read_text(encoding="utf-8")
