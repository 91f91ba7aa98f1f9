"""Names of saved result files: one rule for `output_name`, checked before submit and applied when saving.

Pure: no filesystem access (the download folder's confinement is checked where files are written).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

FileKind = Literal["video", "cover"]

_TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")
_EXT = re.compile(r"[A-Za-z0-9]{1,10}")
_NOT_SAFE = re.compile(r"[^a-z0-9._-]+")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_NAME = 100


def safe_name(task_id: str, name: str | None, kind: FileKind, index: int, ext: str) -> str:
    """A deterministic, harmless file name such as ``task_123.mp4`` or ``my-fox_task_123-2.cover.jpg``.

    ``index`` is the 0-based position in the task's ``videos`` list (0 adds no suffix, 1 adds ``-2``).
    ``name`` is slugged to ``[a-z0-9._-]``; input that is clearly an attempt to leave the folder (an
    absolute path, ``..``, control characters) raises ValueError rather than being quietly renamed.
    """
    if not _TASK_ID.fullmatch(task_id):
        raise ValueError(f"task id {task_id!r} is not a plain imini task id (letters, digits, _ and -)")
    ext = ext.removeprefix(".")
    if not _EXT.fullmatch(ext):
        raise ValueError(f"file extension {ext!r} must be 1–10 letters or digits")
    if index < 0:
        raise ValueError(f"index must be 0 or more, got {index}")
    stem = task_id if index == 0 else f"{task_id}-{index + 1}"
    suffix = (".cover." if kind == "cover" else ".") + ext.lower()
    prefix = _slug(name) if name is not None else ""
    prefix = prefix[: max(0, _MAX_NAME - len(stem) - len(suffix) - 1)].rstrip("-._")
    return f"{prefix}_{stem}{suffix}" if prefix else f"{stem}{suffix}"


def _slug(name: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError("the file name contains control characters (such as NUL or a line break)")
    if name.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(name):
        raise ValueError(f"{name!r} is a path; give a plain name such as 'my fox'")
    if any(part.strip() == ".." for part in re.split(r"[\\/]", name)):
        raise ValueError(f"{name!r} tries to leave the download folder ('..'); give a plain name")
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    slug = _NOT_SAFE.sub("-", ascii_name)
    slug = re.sub(r"\.{2,}", ".", slug)
    return slug.strip("-._")
