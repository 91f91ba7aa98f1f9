"""Whether what arrives is the file asked for: the answer's status and announced size, then the body as it
streams in (:class:`Receiver`: the size limit, the MP4 or JPEG/PNG signature, a truncated transfer).

A refusal is a :class:`GetFailed` in plain words saying what arrived instead, and whether a retry may help.
"""

from __future__ import annotations

import stat
from pathlib import Path

from imini_mcp.files.direct_get import GetFailed
from imini_mcp.request import FileKind as Kind

__all__ = ["Receiver", "judge_answer", "verified_size"]

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_HEAD = 12  # bytes needed to judge the content: an MP4 box header or an image signature
# Worth another try: the same GET may well succeed a moment later.
_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def judge_answer(status: int, expected: int | None, max_bytes: int) -> None:
    """Refuse an answer before reading its body: an error status, or an announced size over the limit."""
    if not 200 <= status < 300:
        raise GetFailed(
            f"the server answered HTTP {status}", transient=status in _TRANSIENT_STATUS, status=status
        )
    if expected is not None and expected > max_bytes:
        raise GetFailed(f"the file is {expected:,} bytes, over the {max_bytes:,}-byte limit", transient=False)


class Receiver:
    """The body, checked as it arrives: the size limit, and the content judged by its first bytes (not
    after 2 GB of HTML)."""

    def __init__(self, kind: Kind, max_bytes: int) -> None:
        self.kind = kind
        self.max_bytes = max_bytes
        self.head = b""
        self.received = 0

    def take(self, chunk: bytes | memoryview) -> None:
        self.received += len(chunk)
        if self.received > self.max_bytes:
            raise GetFailed(f"the file is over the {self.max_bytes:,}-byte limit", transient=False)
        if len(self.head) < _HEAD:
            self.head += bytes(chunk[: _HEAD - len(self.head)])
            if len(self.head) >= _HEAD:
                _check_magic(self.head, self.kind)

    def finish(self, expected: int | None, arrived: int) -> None:
        """``arrived`` counts the bytes on the wire, which is what Content-Length counts."""
        if expected is not None and arrived != expected:
            raise GetFailed(
                f"the transfer was truncated ({arrived:,} of {expected:,} bytes arrived)", transient=True
            )
        _check_magic(self.head, self.kind)


def verified_size(path: Path, kind: Kind) -> int | None:
    """Size of a usable file already at ``path`` (regular, non-empty, right magic), else None."""
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
            return None
        with path.open("rb") as fh:
            head = fh.read(_HEAD)
    except OSError:
        return None
    return info.st_size if _magic_ok(head, kind) else None


def _magic_ok(head: bytes, kind: Kind) -> bool:
    if kind == "video":
        return head[4:8] == b"ftyp"  # every MP4 starts with an ftyp box
    return head.startswith((_JPEG, _PNG))


def _check_magic(head: bytes, kind: Kind) -> None:
    if _magic_ok(head, kind):
        return
    stripped = head.lstrip()
    if stripped[:1] == b"<":
        what = "an HTML/XML page"
    elif stripped[:1] in (b"{", b"["):
        what = "JSON"
    elif not head:
        what = "an empty body"
    else:
        what = "data that is not an MP4 video" if kind == "video" else "data that is not a JPEG or PNG image"
    raise GetFailed(f"the server sent {what} instead of the {kind}", transient=False)
