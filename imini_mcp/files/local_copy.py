"""Result files given as file:// URLs (the simulated imini keeps its results on this machine): copied into the
output folder with a download's checks, and only from the folders the caller allows.

Contract: :func:`copy_local_file` leaves a complete, checked copy at ``dest`` (through a part file, like a
download) or raises :class:`GetFailed` (the URL names nothing allowed, or not the right content) with no
file left behind; an ``OSError`` is the destination's (the caller reports it as a disk error).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from imini_mcp.files.content import Receiver
from imini_mcp.files.direct_get import GetFailed
from imini_mcp.files.part_files import PartFile
from imini_mcp.request import FileKind as Kind

__all__ = ["copy_local_file"]


def source_path(url: str, allowed: tuple[Path, ...]) -> Path:
    """The regular file a file:// URL names, after checking it lies inside one of ``allowed`` (symlinks resolved)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        raise GetFailed("it is not a file:// URL of this machine", transient=False)
    try:
        path = Path(url2pathname(parts.path)).resolve(strict=True)  # url2pathname also unquotes
    except (OSError, RuntimeError, ValueError) as exc:
        raise GetFailed("the file does not exist (any more)", transient=False) from exc
    if not any(path.is_relative_to(Path(root).expanduser().resolve()) for root in allowed):
        raise GetFailed("local files are only copied from the simulated imini's folder", transient=False)
    if not path.is_file():
        raise GetFailed("it is not a regular file", transient=False)
    return path


def copy_local_file(
    url: str, dest: Path, kind: Kind, allowed: tuple[Path, ...], max_bytes: int, chunk_size: int
) -> int:
    """Copy the file ``url`` names (inside ``allowed``) to ``dest``, checked as a download is; returns its size."""
    source = source_path(url, allowed)
    try:
        reader = source.open("rb")
    except OSError as exc:
        raise GetFailed(f"it cannot be read ({exc.strerror or exc})", transient=False) from exc
    with reader:
        part = PartFile.create(dest)
        try:
            receiver = Receiver(kind, max_bytes)
            while chunk := reader.read(chunk_size):
                receiver.take(chunk)
                part.write(chunk)
            receiver.finish(None, receiver.received)
            part.commit()
        except BaseException:
            part.discard()
            raise
    return receiver.received
