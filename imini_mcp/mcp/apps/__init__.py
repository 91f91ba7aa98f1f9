"""The MCP Apps view (`io.modelcontextprotocol/ui`): one `ui://` page that hosts with Apps show next to
`generate_video` and `get_task` results: the storyboard as a timeline with a Submit button, the task's status
while it renders, and the finished video.

The page is `view.html`, built from web/viewer/ (tests/mcp/test_view_bundle.py checks that it is what those
sources build to). Clients without Apps ignore the binding and keep the text and structured results.
"""

from imini_mcp.mcp.apps.media import register_media
from imini_mcp.mcp.apps.view import VIEW_META, VIEW_URI, media_hosts, viewer

__all__ = ["VIEW_META", "VIEW_URI", "media_hosts", "register_media", "viewer"]
