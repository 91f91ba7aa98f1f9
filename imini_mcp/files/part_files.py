"""Where a download is written: a ``.<name>.part-<hex>`` file next to its destination, fsynced and renamed
over it only once complete (:class:`PartFile`), else removed; so ``dest`` is only ever a whole file.

Also the two checks around it: :func:`confined_path` keeps a name inside its folder, and
:func:`sweep_partial_downloads` removes part files a killed process left behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from pathlib import Path
from typing import IO

__all__ = ["PartFile", "confined_path", "sweep_partial_downloads"]

_FLUSH_BEHIND = 8 * 1024 * 1024
_FADV_DONTNEED: int | None = getattr(os, "POSIX_FADV_DONTNEED", None)  # Linux and BSDs; not macOS, Windows


def confined_path(directory: Path, filename: str) -> Path:
    """``directory/filename``, after checking that it cannot land outside ``directory`` (ValueError)."""
    if (
        filename in ("", ".", "..")
        or "/" in filename
        or "\\" in filename
        or "\x00" in filename
        or Path(filename).name != filename
    ):
        raise ValueError(f"{filename!r} is not a plain file name")
    base = Path(directory).expanduser().resolve()
    # resolve() follows an existing symlink at the destination: one pointing elsewhere is refused.
    target = (base / filename).resolve()
    if target == base or not target.is_relative_to(base):
        raise ValueError(f"{filename!r} would be saved outside {base}")
    return base / filename  # unresolved leaf: os.replace swaps a link itself, never writes through it


def sweep_partial_downloads(directory: Path, *, older_than: float) -> list[Path]:
    """Remove `.<name>.part-<hex>` files left by a process killed mid-download. Only files untouched for
    `older_than` seconds: another process may be writing a fresh one right now."""
    if not directory.is_dir():
        return []
    cutoff = time.time() - older_than
    removed = []
    for path in directory.glob(".*.part-*"):
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except OSError:
            continue  # gone already, or not ours to remove
    return removed


class PartFile:
    """``.<name>.part-<random>`` next to ``dest``: written, then fsynced and renamed, or removed."""

    def __init__(self, dest: Path, path: Path, fh: IO[bytes]) -> None:
        self.dest = dest
        self.path = path
        self.fh = fh
        self._written = 0
        self._behind = (0, 0)  # the last two flush-behind marks

    @classmethod
    def create(cls, dest: Path) -> PartFile:
        path = dest.with_name(f".{dest.name}.part-{secrets.token_hex(6)}")
        # O_EXCL: never open (or follow a symlink to) something that is already there.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        return cls(dest, path, os.fdopen(fd, "wb"))

    def write(self, data: bytes | memoryview) -> None:
        self.fh.write(data)
        self._flush_behind(len(data))

    def write_all(self, chunks: list[bytes]) -> None:
        self.fh.writelines(chunks)
        self._flush_behind(sum(map(len, chunks)))

    def _flush_behind(self, count: int) -> None:
        """Every few MiB, start writing what lies behind to disk and drop what already reached it from the
        page cache: the final fsync then has only the tail left to wait for, and a large video does not
        crowd the cache (or make the kernel find fresh pages for all of it)."""
        self._written += count
        older, newer = self._behind
        if _FADV_DONTNEED is None or self._written - newer < _FLUSH_BEHIND:
            return
        # DONTNEED starts writeback of dirty pages and drops clean ones: the window since `older` covers the
        # previous one again, written out by now, and the new one, whose writeback starts here.
        os.posix_fadvise(self.fh.fileno(), older, self._written - older, _FADV_DONTNEED)
        self._behind = (newer, self._written)

    def commit(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.replace(self.path, self.dest)
        _fsync_dir(self.dest.parent)  # makes the rename itself durable

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.fh.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders; the rename is still atomic there
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
