"""Where a local reference image really is: :func:`resolve_local_path` turns a path or ``file:`` URI into
the real path of a readable regular file inside an allowed folder, or raises :class:`ImageProblem`.

Symlinks are followed before the folder check. No network and no settings read here; blocking I/O.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from imini_mcp.files.image_problem import ImageProblem, clip

__all__ = ["resolve_local_path"]


def resolve_local_path(ref: str, *, allowed_roots: Sequence[Path], input_root: Path) -> Path:
    """The real path of a local image, which must be a readable regular file inside an allowed root.

    Accepts absolute paths, ``~`` paths, ``file://`` URIs (percent-decoded) and paths relative to
    ``input_root``. Symlinks are resolved before the containment check, so a link inside a root that
    points outside is refused.
    """
    raw = _local_path_text(ref.strip())
    if "\x00" in raw:
        raise ImageProblem(f"Image path {clip(raw)!r} contains a NUL character.", "Give a plain file path.")
    try:
        path = Path(raw).expanduser()
    except RuntimeError as exc:  # "~" but no home directory can be determined
        raise ImageProblem(
            f"Image path {raw!r} starts with ~ but the home folder is unknown.", "Give an absolute path."
        ) from exc
    if not path.is_absolute():
        path = Path(input_root) / path

    roots = [Path(r).expanduser().resolve() for r in allowed_roots]
    # Containment is checked on a non-strict resolve first, so a path outside the roots is refused the
    # same way whether or not it exists (no probing of other folders through the error messages).
    try:
        _require_inside(raw, path.resolve(), roots)
        real = path.resolve(strict=True)
    except FileNotFoundError as exc:
        raise ImageProblem(
            f"Image file {raw!r} does not exist (looked for {path}).",
            f"Check the path; relative paths are taken from the input folder {input_root}.",
        ) from exc
    except (OSError, RuntimeError) as exc:  # symlink loops, a file used as a folder, permission denied
        raise ImageProblem(
            f"Image path {raw!r} cannot be resolved ({exc.strerror if isinstance(exc, OSError) else exc}).",
            "Give the path of a readable image file.",
        ) from exc
    _require_inside(raw, real, roots)  # the strict resolve may differ if links changed in between
    _require_readable_file(raw, real)
    return real


def _local_path_text(text: str) -> str:
    """The path a ``file:`` URI names (percent-decoded); any other text is already a path."""
    if not text.lower().startswith("file:"):
        return text
    parts = urlsplit(text)
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise ImageProblem(
            f"File URI {clip(text)!r} is not a plain local file:///path.",
            "Use file:///absolute/path/to/image.png (no host, no ?query or #fragment), or a plain path.",
        )
    return unquote(parts.path)


def _require_inside(shown: str, path: Path, roots: Sequence[Path]) -> None:
    if not any(path.is_relative_to(root) for root in roots):
        where = ", ".join(str(r) for r in roots) if roots else "none are configured"
        raise ImageProblem(
            f"Image file {shown!r} is outside the allowed folders ({where}).",
            "Move or copy the image into an allowed folder, or set IMINI_ALLOWED_ROOTS to include its folder.",
        )


def _require_readable_file(shown: str, real: Path) -> None:
    try:
        info = real.stat()
    except OSError as exc:
        raise ImageProblem(
            f"Image file {shown!r} cannot be read ({exc.strerror}).", "Check its permissions."
        ) from exc
    if stat.S_ISDIR(info.st_mode):
        raise ImageProblem(
            f"Image path {shown!r} is a folder, not a file.", "Give the path of one image file."
        )
    if not stat.S_ISREG(info.st_mode):  # FIFOs and devices could block or never end
        raise ImageProblem(f"Image path {shown!r} is not a regular file.", "Give the path of one image file.")
    if not os.access(real, os.R_OK):
        raise ImageProblem(
            f"Image file {shown!r} is not readable by the server.", "Check the file's permissions."
        )
