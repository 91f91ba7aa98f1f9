"""The `imini_key` tool (OAuth mode only): whether the signed-in person has an imini key connected (its last four
characters), a link to connect one (or another one), or removing it. The key itself is never an argument or a
result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from imini_mcp.mcp.context import account_of, state_of
from imini_mcp.mcp.errors import tool_errors
from imini_mcp.mcp.oauth.connect import LINK_TTL, key_link

NAME = "imini_key"


class KeyConnection(BaseModel):
    connected: bool = Field(description="Whether an imini key is on file for you.")
    last_four: str | None = Field(None, description="Its last four characters, to tell keys apart.")
    connected_at: str | None = Field(None, description="When it was connected (UTC, ISO 8601).")
    connect_url: str | None = Field(
        None, description="action connect: open this page to connect a key (once, within 10 minutes)."
    )
    removed: bool = Field(False, description="action remove: whether a key was removed.")
    next_step: str


async def imini_key(ctx: Context, action: Literal["status", "connect", "remove"] = "status") -> KeyConnection:
    """Your imini API key on this server: "status" (the default) says whether one is connected (its last four
    characters), "connect" gives a page to connect one (or replace it: the key goes to imini only, never
    through the chat), "remove" deletes it from this server. Free."""
    state = state_of(ctx)
    with tool_errors():
        owner = (await account_of(ctx)).owner
        assert state.vault is not None, "the tool exists in OAuth mode only"
        if action == "connect":
            url = await key_link(state)
            step = f"Open the page to connect your key; the link works once, for {LINK_TTL / 60:g} minutes."
            return KeyConnection(connected=False, connect_url=url, next_step=step)
        if action == "remove":
            removed = await state.vault.remove_key(owner)
            step = (
                "Removed: calls that spend credits will ask for a key again."
                if removed
                else "No key was on file."
            )
            return KeyConnection(connected=False, removed=removed, next_step=step)
        status = await state.vault.status(owner)
    if not status.connected:
        return KeyConnection(
            connected=False, next_step='No key yet: call imini_key with {"action": "connect"}.'
        )
    at = datetime.fromtimestamp(status.connected_at, UTC).isoformat() if status.connected_at else None
    return KeyConnection(
        connected=True,
        last_four=status.last_four,
        connected_at=at,
        next_step='Connected. To use another key, call imini_key with {"action": "connect"}; to forget it, "remove".',
    )


def register_key_tool(server: MCPServer) -> None:
    server.add_tool(
        imini_key,
        name=NAME,
        title="Your imini key",
        annotations=ToolAnnotations(
            title="Your imini key",
            read_only_hint=False,
            destructive_hint=True,
            idempotent_hint=True,
            open_world_hint=False,
        ),
        structured_output=True,
    )
