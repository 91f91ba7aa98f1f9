"""The view's `ui://` resource, its content-security policy, and the `_meta` that binds a tool to it."""

from __future__ import annotations

from importlib import resources
from typing import Any

from mcp.server.apps import APP_MIME_TYPE, Apps, ResourceCsp
from mcp.server.mcpserver.resources import FunctionResource

from imini_mcp.settings import Settings

VIEW_URI = "ui://imini/video.html"
VIEW_FILE = "view.html"
# The spec's key, and the older flat one that hosts built before it still read (the TS SDK stamps both).
VIEW_META: dict[str, Any] = {"ui": {"resourceUri": VIEW_URI}, "ui/resourceUri": VIEW_URI}
# Where imini's result videos and covers are served from (https://file.iminicdn.com/…mp4 and …jpg).
IMINI_MEDIA_HOSTS = ("https://file.iminicdn.com",)


def media_hosts(settings: Settings) -> list[str]:
    """The origins the view loads media from: imini's file host. None under --simulate: the simulated results
    are files beside the journal (file:// URLs, which no sandboxed view may load), and the view reads them
    through the task's media resources instead (media.py), as data: URLs, which every host's policy admits."""
    return [] if settings.simulate else list(IMINI_MEDIA_HOSTS)


def view_html() -> str:
    return (resources.files("imini_mcp.mcp.apps") / VIEW_FILE).read_text(encoding="utf-8")


def viewer(settings: Settings) -> Apps:
    """The Apps extension holding the view. The page (~400 kB) is read when a host asks for it, not at start."""
    csp = ResourceCsp(resource_domains=media_hosts(settings))
    apps = Apps()
    apps.add_resource(
        FunctionResource(
            uri=VIEW_URI,
            name="video_view",
            title="imini video",
            description="The storyboard as a timeline with a Submit button, the task's status while it renders, "
            "and the finished video with its cover, size and links.",
            mime_type=APP_MIME_TYPE,
            meta={"ui": {"csp": csp.model_dump(by_alias=True, exclude_none=True), "prefersBorder": True}},
            fn=view_html,
        )
    )
    return apps
