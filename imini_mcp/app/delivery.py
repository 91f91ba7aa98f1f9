"""Delivering a finished task as files: download every video and cover once, verified, into the output dir.

Runs only for succeeded tasks in output mode `file` or `both`. Downloads of one task are serialised (many
waiters, one download); a verified file already on disk is reused; a failed download leaves nothing at
the final path and is reported on the view (the URLs still work, and the next call tries again).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import anyio
import httpx2

from imini_mcp.app.results import LocalFile, TaskView
from imini_mcp.files import DownloadFailed, DownloadPolicy, confined_path, download_file
from imini_mcp.imini import RequestRejected
from imini_mcp.request import FileKind, safe_name
from imini_mcp.store import TaskStore

log = logging.getLogger(__name__)

OutputMode = Literal["url", "file", "both"]
RESULT_FILES: tuple[tuple[FileKind, str], ...] = (("video", "mp4"), ("cover", "jpg"))  # kind, extension


@dataclass
class FileDelivery:
    store: TaskStore
    output_dir: Path
    default_mode: OutputMode = "url"
    policy: DownloadPolicy = field(default_factory=DownloadPolicy)
    http: httpx2.AsyncClient | None = None  # None: download_file's fast path (see downloads.py)
    # Why files cannot be saved here (a fleet without a shared output folder); None: they can.
    refusal: str | None = None
    _locks: defaultdict[tuple[str, str], anyio.Lock] = field(default_factory=lambda: defaultdict(anyio.Lock))

    def mode(self, asked: str | None, stored: str | None) -> str:
        return asked or stored or self.default_mode

    def check_mode(self, mode: str) -> None:
        """Refuse (before anything is sent) an output mode that saves files where they cannot be saved."""
        if mode != "url" and self.refusal is not None:
            raise RequestRejected(
                f"output {mode!r} is not available here: {self.refusal}",
                next_step='Ask for output "url" (the video and cover URLs), or have the operator set '
                "IMINI_SHARED_OUTPUT_DIR=true with IMINI_OUTPUT_DIR on a folder every replica shares.",
            )

    async def deliver(self, view: TaskView, *, owner: str, mode: str, name: str | None) -> TaskView:
        """Download the results of a succeeded task if `mode` asks for files; return the view with them."""
        if mode == "url" or view.status != "succeeded" or not view.videos:
            return view
        if self.refusal is not None:  # e.g. a task asked for files before the server joined a fleet
            view.download_error = f"Files are not saved on this server: {self.refusal}"
            return view
        saved: list[LocalFile] = []
        errors: list[str] = []
        async with self._locks[(owner, view.task_id)]:
            for index, video in enumerate(view.videos):
                for kind, ext in RESULT_FILES:
                    url = video.url if kind == "video" else video.cover_url
                    if not url:
                        continue
                    try:
                        dest = confined_path(self.output_dir, safe_name(view.task_id, name, kind, index, ext))
                        file = await download_file(self.http, url, dest, kind=kind, policy=self.policy)
                    except (DownloadFailed, ValueError, OSError) as exc:
                        log.warning("saving %s of %s failed: %s", kind, view.task_id, exc)
                        errors.append(f"{kind} {index + 1}: {exc}")
                        continue
                    saved.append(LocalFile(path=str(file.path), kind=kind, size=file.size, source_url=url))
            if saved:
                await anyio.to_thread.run_sync(
                    lambda: self.store.add_files(owner, view.task_id, [f.path for f in saved])
                )
        view.files = saved
        view.download_error = "; ".join(errors) or None
        if errors:
            view.next_step += (
                " Saving a file failed (see download_error); the URLs still work, and calling get_task "
            )
            view.next_step += "again retries the download."
        return view
