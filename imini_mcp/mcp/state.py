"""What every request handler reaches: the process-wide resources the lifespan created, once per server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx2

from imini_mcp.app import Account, BackgroundJobs, KeyVault, VideoService
from imini_mcp.imini import RetryPolicy
from imini_mcp.request import ImageResolver
from imini_mcp.settings import Settings

if TYPE_CHECKING:
    from imini_mcp.mcp.oauth import ResourceServer


@dataclass
class AppState:
    """Process-wide resources, created once in the lifespan."""

    settings: Settings
    service: VideoService
    jobs: BackgroundJobs
    account: Account  # single-user mode: the configured key, store owner ""
    http: httpx2.AsyncClient
    base_url: str
    retry: RetryPolicy | None
    resolve_image: ImageResolver
    oauth: ResourceServer | None = None  # OAuth mode: the issuer and the token verifier
    vault: KeyVault | None = None  # OAuth mode: each person's imini key, the key page's entries


def app_state(lifespan_context: Any) -> AppState:
    """The lifespan's state, from `ctx.request_context.lifespan_context` (tools) or `ctx.lifespan_context`."""
    assert isinstance(lifespan_context, AppState)
    return lifespan_context
