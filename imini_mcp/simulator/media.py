"""The result files: the real sample video and cover, synthetic MP4s of any size, and the frame size."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources

CHUNK = 64 * 1024
_ZEROS = bytes(CHUNK)  # one shared buffer, so streaming any size costs constant memory
_FTYP = struct.pack(">I4s4sI4s4s4s", 28, b"ftyp", b"isom", 0x200, b"isom", b"iso2", b"mp41")
MIN_VIDEO_SIZE = len(_FTYP) + 8  # ftyp box + an empty mdat box


def frame_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """Output size: the short side is the resolution's number (720P → 720), the long side follows the
    ratio, rounded to even pixels (1280x720, 720x1280, 1680x720 for 21:9, 854x480). The real service may
    deviate by a few pixels; "adaptive" is shown as 16:9."""
    short = int(resolution.rstrip("Pp"))
    wide, high = (int(n) for n in (aspect_ratio if ":" in aspect_ratio else "16:9").split(":"))
    long_side = 2 * round(short * max(wide, high) / min(wide, high) / 2)
    return (long_side, short) if wide >= high else (short, long_side)


@cache
def sample(name: str) -> bytes:
    """A file of ``simdata/`` (``sample.mp4``, ``cover.jpg``), read once."""
    # One joinpath() step at a time: namespace-package paths (MultiplexedPath) accept only one.
    return (resources.files("imini_mcp.simulator") / "simdata" / name).read_bytes()


def chunks_of(data: bytes) -> Callable[[], Iterator[bytes]]:
    """A fresh iterator over ``data`` in CHUNK-sized slices, each time it is called."""

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(data), CHUNK):
            yield data[start : start + CHUNK]

    return chunks


def iter_synthetic_mp4(size: int, chunk_size: int = CHUNK) -> Iterator[bytes]:
    """Exactly ``size`` bytes: an ``ftyp`` box, then one ``mdat`` box of zeros. Constant memory."""
    if size < MIN_VIDEO_SIZE:
        raise ValueError(f"size must be >= {MIN_VIDEO_SIZE}")
    if chunk_size > CHUNK:
        raise ValueError(f"chunk_size must be <= {CHUNK}")
    mdat_size = size - len(_FTYP)
    if mdat_size <= 0xFFFFFFFF:
        mdat_header = struct.pack(">I4s", mdat_size, b"mdat")
    else:  # 64-bit "largesize" form, for files over 4 GiB
        mdat_header = struct.pack(">I4sQ", 1, b"mdat", mdat_size)
        if size < len(_FTYP) + len(mdat_header):  # pragma: no cover - impossible at this size
            raise ValueError("size too small")
    yield _FTYP + mdat_header
    remaining = size - len(_FTYP) - len(mdat_header)
    full = _ZEROS[:chunk_size] if chunk_size != CHUNK else _ZEROS
    while remaining >= chunk_size:
        yield full
        remaining -= chunk_size
    if remaining:
        yield _ZEROS[:remaining]
