"""Simulated tasks that outlive the process: one JSON file per task, and result files given as file:// URLs.

With ``SimulatorConfig.tasks_dir`` every created task is written to ``<tasks_dir>/<task_id>.json`` (atomically:
a temporary file renamed over it) and read back from there, so a simulator started later on the same folder,
in another process, answers for it like imini would. A task's age is measured with the config's clock, so
that clock must mean the same in every process sharing the folder: a wall clock (``time.time``).

With ``SimulatorConfig.media_dir`` a succeeded task's video and cover are written to
``<media_dir>/<task_id>.mp4`` / ``.jpg`` and given as file:// URLs, which stay valid after the process that
gave them has exited (the ``/files/`` URLs of the HTTP server die with it).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from imini_mcp.simulator.tasks import Task, media_file

_TASK_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")  # what may become a file name (ids come from URL paths)


def _write_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    """``path`` holds either its old content or all of ``chunks``, never a part (readers in other processes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with temporary.open("wb") as fh:
            fh.writelines(chunks)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


class TaskFolder:
    """The tasks of every simulator that shares ``path``: one JSON file per task, the truth for all of them."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _file(self, task_id: str) -> Path | None:
        return self.path / f"{task_id}.json" if _TASK_ID.fullmatch(task_id) else None

    def save(self, task: Task) -> None:
        file = self._file(task.task_id)
        assert file is not None, "the simulator's own task ids are plain"
        data = {**vars(task), "created_wall": task.created_wall.isoformat()}
        _write_atomically(file, [json.dumps(data, indent=1).encode()])

    def load(self, task_id: str) -> Task | None:
        """The task, or None: unknown, not a plain id, or unreadable (as imini would, it does not exist)."""
        file = self._file(task_id)
        try:
            data: dict[str, Any] = json.loads(file.read_bytes()) if file else {}
            return Task(**{**data, "created_wall": datetime.fromisoformat(data["created_wall"])})
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def all(self) -> list[Task]:
        found = (self.load(file.stem) for file in sorted(self.path.glob("*.json")))
        return [task for task in found if task is not None]

    def clear(self) -> None:
        for file in self.path.glob("*.json"):
            with contextlib.suppress(FileNotFoundError):
                file.unlink()


def keep_media(media_dir: Path, task_id: str, files: dict[str, Iterable[bytes]]) -> None:
    """Write a task's result files (extension → content) once; files already there are left as they are."""
    for ext, content in files.items():
        path = media_file(media_dir, task_id, ext)
        if not path.is_file():
            _write_atomically(path, content)
