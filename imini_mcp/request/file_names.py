"""Names of saved result files: one rule for `output_name`, checked before submit and applied when saving.

The rule: an `output_name` is 1–80 letters (a–z, A–Z), digits, `-` or `_`, starting with a letter or digit,
and is used exactly as given: the files are `<output_name>_<task id>.mp4` and `….cover.jpg`. A name that
would have to change to be saved (a space, an accent, a dot, a path) is refused before anything is sent,
with a usable name as the fix; nothing is renamed behind the caller's back. The schema publishes the same
rule (`OUTPUT_NAME_PATTERN`, `OUTPUT_NAME_RULE`).

Pure: no filesystem access (the download folder's confinement is checked where files are written).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

FileKind = Literal["video", "cover"]

OUTPUT_NAME_MAX = 80
OUTPUT_NAME_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9_-]{{0,{OUTPUT_NAME_MAX - 1}}}$"
OUTPUT_NAME_RULE = f"1–{OUTPUT_NAME_MAX} letters, digits, - or _, starting with a letter or digit"

_OUTPUT_NAME = re.compile(OUTPUT_NAME_PATTERN)
_TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")
_EXT = re.compile(r"[A-Za-z0-9]{1,10}")
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]+")


def output_name_problem(name: str) -> str | None:
    """Why `name` cannot be an output_name, ending in `Fix: …` with a name that can; None when it can."""
    if _OUTPUT_NAME.fullmatch(name):
        return None
    if len(name) > OUTPUT_NAME_MAX:
        problem = f"is {len(name)} characters long; the limit is {OUTPUT_NAME_MAX}. Fix: shorten it"
    elif not name:
        problem = "must not be empty. Fix: give a name"
    else:
        problem = (
            f"may hold only {OUTPUT_NAME_RULE} (files are saved under exactly this name). Fix: change it"
        )
    return f'{problem}, e.g. "{_suggestion(name)}".'


def _suggestion(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    usable = _NOT_ALLOWED.sub("-", ascii_name).strip("-_")[:OUTPUT_NAME_MAX].rstrip("-_")
    return usable or "my-video"


def safe_name(task_id: str, name: str | None, kind: FileKind, index: int, ext: str) -> str:
    """The file name of a result, such as ``task_123.mp4`` or ``my-fox_task_123-2.cover.jpg``.

    ``index`` is the 0-based position in the task's ``videos`` list (0 adds no suffix, 1 adds ``-2``).
    ``name`` (the output_name) is used as given, and must keep the rule above: anything else raises
    ValueError, as does a task id or extension that is not plain letters and digits.
    """
    if not _TASK_ID.fullmatch(task_id):
        raise ValueError(f"task id {task_id!r} is not a plain imini task id (letters, digits, _ and -)")
    ext = ext.removeprefix(".")
    if not _EXT.fullmatch(ext):
        raise ValueError(f"file extension {ext!r} must be 1–10 letters or digits")
    if index < 0:
        raise ValueError(f"index must be 0 or more, got {index}")
    if name is not None and (problem := output_name_problem(name)):
        raise ValueError(f"output_name {problem}")
    stem = task_id if index == 0 else f"{task_id}-{index + 1}"
    suffix = (".cover." if kind == "cover" else ".") + ext.lower()
    return f"{name}_{stem}{suffix}" if name else f"{stem}{suffix}"
