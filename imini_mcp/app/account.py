"""Whose call this is, and how a waiting call reports progress: the two things every use case is given."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from imini_mcp.imini import IminiClient

# (seconds waited, a sentence for the person) -> None; the MCP layer turns it into progress notifications.
Progress = Callable[[float, str], Awaitable[None]]


@dataclass(frozen=True)
class Account:
    """The store partition of one person and the imini client holding that person's key."""

    owner: str
    client: IminiClient
    # OAuth mode: only task ids in this owner's own records exist for them, whatever imini would answer for
    # another id (one upstream key may serve several people).
    journal_only: bool = False
