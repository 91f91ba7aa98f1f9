"""A task's video and cover as resources, for a view that cannot load them from their URL.

Under --simulate the results are files kept beside the journal and given as file:// URLs (so they outlive the
process, see mcp/simulated.py). A sandboxed view may not load file:// URLs, so it reads them here, through the
host (`resources/read`), and plays them as data: URLs. Only files of the simulated imini's own folder are
served, and only to the account whose task it is; anything else answers "no local copy" with its URL.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from imini_mcp.mcp.context import account_of, state_of
from imini_mcp.mcp.errors import tool_errors
from imini_mcp.mcp.simulated import SimulatedImini
from imini_mcp.settings import Settings

VIDEO_TEMPLATE = "imini://tasks/{task_id}/video/{n}"
COVER_TEMPLATE = "imini://tasks/{task_id}/cover/{n}"
MAX_MEDIA_BYTES = 20 * 2**20  # a data: URL travels whole through the host: the samples are a few kB


def register_media(server: MCPServer) -> None:
    server.resource(
        VIDEO_TEMPLATE,
        name="task_video",
        title="A task's video (local copy)",
        description="Video n (from 1) of a journalled task, when this server keeps it on disk (--simulate).",
        mime_type="video/mp4",
    )(task_video)
    server.resource(
        COVER_TEMPLATE,
        name="task_cover",
        title="A task's cover image (local copy)",
        description="The cover of video n (from 1) of a journalled task, when this server keeps it on disk.",
        mime_type="image/jpeg",
    )(task_cover)


async def task_video(task_id: str, n: str, ctx: Context) -> bytes:
    return await _local_copy(ctx, task_id, n, "url")


async def task_cover(task_id: str, n: str, ctx: Context) -> bytes:
    return await _local_copy(ctx, task_id, n, "cover_url")


async def _local_copy(ctx: Context, task_id: str, n: str, field: str) -> bytes:
    with tool_errors():
        owner = (await account_of(ctx)).owner
    state = state_of(ctx)
    record = await state.service.task_record(owner, task_id)
    index = int(n) - 1 if n.isdigit() else -1
    if record is None or not 0 <= index < len(record.videos):
        raise ResourceNotFoundError(f"No video {n} of a journalled task {task_id!r}")
    url = str(record.videos[index].get(field) or "")
    path = local_file(url, state.settings)
    if path is None:
        raise ResourceNotFoundError(f"No local copy of {url or 'that file'}: load it from its URL")
    try:
        size = path.stat().st_size
        if size > MAX_MEDIA_BYTES:
            raise ResourceError(
                f"{path.name} is {size:,} bytes, over the {MAX_MEDIA_BYTES:,} served this way"
            )
        return await anyio.to_thread.run_sync(path.read_bytes)
    except OSError as exc:
        raise ResourceNotFoundError(f"The local copy {path.name} cannot be read: {exc.strerror}") from None


def local_file(url: str, settings: Settings) -> Path | None:
    """The file a file:// result URL names, if it lies in the simulated imini's folder; else None."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost") or not settings.simulate:
        return None
    path = Path(url2pathname(parts.path)).resolve()
    folder = SimulatedImini.media_dir(settings).resolve()
    return path if path.is_relative_to(folder) else None
