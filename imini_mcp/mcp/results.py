"""What a tool call returns: the result model as structured content, short text for clients that show only
text, and resource links to the videos, covers and saved files.

Clients that show the MCP Apps view get no resource links: Claude hands a view no result at all when the
result holds one (anthropics/claude-ai-mcp#753), and the URLs are in the text and structured content anyway.
"""

from __future__ import annotations

import json
from pathlib import Path

from mcp.types import CallToolResult, ContentBlock, ResourceLink, TextContent
from pydantic import BaseModel

from imini_mcp.app import GenerateVideoResult, TaskList, TaskView


def tool_result(
    model: BaseModel, text: str, view: TaskView | None = None, *, links: bool = True
) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text), *(_links(view) if links else [])],
        structured_content=model.model_dump(mode="json"),
    )


def _links(view: TaskView | None) -> list[ContentBlock]:
    """resource_link blocks for the results: imini's URLs, and file URIs of saved copies."""
    if view is None:
        return []
    links: list[ContentBlock] = []
    for n, video in enumerate(view.videos, start=1):
        links.append(
            ResourceLink(
                type="resource_link", uri=video.url, name=f"{view.task_id} video {n}", mime_type="video/mp4"
            )
        )
        if video.cover_url:
            links.append(
                ResourceLink(
                    type="resource_link",
                    uri=video.cover_url,
                    name=f"{view.task_id} cover {n}",
                    mime_type="image/jpeg",
                )
            )
    links.extend(
        ResourceLink(
            type="resource_link",
            uri=Path(file.path).as_uri(),
            name=Path(file.path).name,
            mime_type="video/mp4" if file.kind == "video" else "image/jpeg",
            size=file.size,
        )
        for file in view.files
    )
    return links


def render_task(view: TaskView) -> str:
    lines = [f"Task {view.task_id}: {view.status}" + (" (final)" if view.is_terminal else "")]
    for n, video in enumerate(view.videos, start=1):
        size = f" {video.width}x{video.height}" if video.width and video.height else ""
        length = f", {video.duration:g} s" if video.duration else ""
        lines.append(f"Video {n}{size}{length}: {video.url}")
        if video.cover_url:
            lines.append(f"Cover {n}: {video.cover_url}")
    lines += [f"Saved {f.kind}: {f.path} ({f.size:,} bytes)" for f in view.files]
    if view.download_error:
        lines.append(f"Download failed: {view.download_error}")
    if view.error:
        lines.append(f"Error: {view.error.code or 'unknown'}: {view.error.message or 'no message'}")
    lines.append(f"Next: {view.next_step}")
    return "\n".join(lines)


def render_generate(result: GenerateVideoResult) -> str:
    cost = result.estimated_cost
    if result.replayed:
        head = (
            "Replay: this idempotency_key was already used for the same request, so nothing was sent or billed "
            "again. This is the task that first call created."
        )
    else:
        head = "Submitted to imini." if result.submitted else "Dry run: valid, nothing was sent."
    priced = "Estimated cost of that task" if result.replayed else "Estimated cost"
    lines = [head, f"{priced}: ~{cost.credits} credits ({cost.basis}; estimate only)."]
    lines += [f"Note: {note}" for note in result.notes]
    if result.task:
        lines.append(render_task(result.task))
    else:
        lines.append(
            "Body that would be sent:\n" + json.dumps(result.request_body, indent=2, ensure_ascii=False)
        )
        lines.append(f"Next: {result.next_step}")
    return "\n".join(lines)


def render_task_list(result: TaskList) -> str:
    if not result.tasks:
        return result.next_step
    lines = [f"{len(result.tasks)} of {result.total_in_journal} journalled tasks, newest first:"]
    for t in result.tasks:
        who = t.task_id or f"journal #{t.journal_id}"
        shown = "expired: imini no longer knows it" if t.state == "expired" else t.status or t.state
        lines.append(f"- {who} [{shown}] {t.submitted_at} {t.summary}")
        lines += [f"    video: {v.url}" for v in t.videos]
        if t.error:
            lines.append(f"    error: {t.error.code}: {t.error.message}")
    lines.append(f"Next: {result.next_step}")
    return "\n".join(lines)
