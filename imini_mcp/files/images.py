"""Reference images for kling-v3 from https URLs, data URIs and local files (imini-api.md §3).

Contract: :func:`prepare_image` turns one caller reference into what goes in ``reference_images[].url``
(an https URL unchanged, or a ``data:`` URI with the true mime type read from the bytes) or raises
:class:`ImageProblem` saying which rule failed and how to fix it. Local files must resolve (symlinks
followed) inside one of the allowed folders. No network, no environment or settings read here; all
I/O is synchronous (call it through ``anyio.to_thread`` from async code). Where a local path may point
is :mod:`imini_mcp.files.local_paths`'s job.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import stat
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from io import BytesIO
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from imini_mcp.files.image_problem import ImageProblem, clip
from imini_mcp.files.local_paths import resolve_local_path

__all__ = [
    "ImageLimits",
    "ImageProblem",
    "PreparedImage",
    "classify",
    "inspect_image",
    "make_resolver",
    "prepare_image",
    "resolve_local_path",
    "shorten_data_uris",
]

_MIME_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png"}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
# data:<mime>[;param=value]*;base64,<payload>; the payload itself is checked by b64decode(validate=True).
_DATA_URI = re.compile(
    r"^data:(?P<mime>[A-Za-z0-9.+-]+/[A-Za-z0-9.+-]+)?(?:;[A-Za-z0-9.+-]+=[^;,]*)*;base64,(?P<payload>.*)$",
    re.DOTALL,
)
# Enough to tell a data URI from text that merely starts with "data:" (no spaces before the comma).
_DATA_URI_HEAD = re.compile(r"^data:[^\s,]*,")
# Only used to say in plain words what a refused file is; acceptance is decided by Pillow.
_SNIFF: tuple[tuple[bytes, int, str], ...] = (
    (b"GIF87a", 0, "a GIF image"),
    (b"GIF89a", 0, "a GIF image"),
    (b"WEBP", 8, "a WEBP image"),
    (b"BM", 0, "a BMP image"),
    (b"II*\x00", 0, "a TIFF image"),
    (b"MM\x00*", 0, "a TIFF image"),
    (b"ftypheic", 4, "a HEIC image"),
    (b"ftypavif", 4, "an AVIF image"),
    (b"%PDF", 0, "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"\xff\xd8\xff", 0, "JPEG"),
)


@dataclass(frozen=True)
class ImageLimits:
    """Per-image rules of kling-v3 (imini-api.md §3)."""

    max_bytes: int = 10 * 1024 * 1024
    # imini's page says each side >= 200 px, but Kling upstream documents >= 300 px and imini forwards
    # the image to Kling; enforcing 300 refuses early what would otherwise fail (and maybe bill) later.
    min_side: int = 300
    max_ratio: float = 2.5  # long side / short side, inclusive: 1:2.5 .. 2.5:1
    formats: frozenset[str] = frozenset({"JPEG", "PNG"})  # Pillow format names


@dataclass(frozen=True)
class PreparedImage:
    """A reference image ready for the wire; ``url`` is what imini receives."""

    url: str
    source: Literal["url", "data_uri", "file"]
    path: str | None = None
    mime: str | None = None
    width: int | None = None
    height: int | None = None
    size: int | None = None


def classify(ref: str) -> Literal["url", "data_uri", "file"]:
    """Which kind of reference ``ref`` is; a scheme other than http(s), data or file is refused."""
    text = ref.strip()
    if not text:
        raise ImageProblem(
            "A reference image is empty.", "Give an https URL, a data:image/… URI or a path to a local file."
        )
    lowered = text.lower()
    if lowered.startswith(("http://", "https://")):
        return "url"
    if lowered.startswith("data:"):
        return "data_uri"
    if lowered.startswith("file:") or _WINDOWS_DRIVE.match(text):
        return "file"
    match = _SCHEME.match(text)
    if match:
        raise ImageProblem(
            f"Reference image {clip(text)!r} uses an unsupported scheme ({match.group(1)}:).",
            "Use an https:// URL, a data:image/png or data:image/jpeg URI, or a local file path "
            "(write ./name if a file name contains a colon).",
        )
    return "file"


def inspect_image(data: bytes, *, name: str, limits: ImageLimits) -> tuple[str, int, int]:
    """``(mime, width, height)`` of an image that passes every rule in ``limits``, from its bytes alone."""
    if len(data) > limits.max_bytes:  # before Pillow sees it: no decoding of oversized input
        raise _too_big(name, len(data), limits)
    if not data:
        raise ImageProblem(f"Image {name} is empty (0 bytes).", "Give a JPEG or PNG image.")

    from PIL import Image  # lazy: Pillow costs start-up time and most calls never need it

    allowed = _words(sorted(limits.formats), "and")
    try:
        with _bomb_guard(), Image.open(BytesIO(data), formats=sorted(limits.formats)) as img:
            fmt = img.format or ""
            width, height = img.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(name) from exc
    except Exception as exc:  # Pillow signals unreadable input with many exception types
        what = _what_is(data)
        if what in limits.formats:  # the right signature, yet Pillow could not read the header
            raise ImageProblem(
                f"Image {name} looks like a {what} image but cannot be read (damaged or truncated).",
                "Re-export or re-download the image.",
            ) from exc
        described = f"a {what} image" if what in _MIME_BY_FORMAT else what
        raise ImageProblem(
            f"Image {name} is {described}; only {allowed} images are accepted.",
            f"Convert it to {_words(sorted(limits.formats), 'or')} (e.g. export it as PNG) and try again.",
        ) from exc

    short, long = min(width, height), max(width, height)
    if short < limits.min_side:
        raise ImageProblem(
            f"Image {name} is {width}×{height} px; the short side must be at least {limits.min_side} px.",
            f"Use a larger image (at least {limits.min_side}×{limits.min_side} px).",
        )
    if Fraction(long, short) > Fraction(str(limits.max_ratio)):
        raise ImageProblem(
            f"Image {name} is {width}×{height} px, an aspect ratio of {long / short:.2f}:1; "
            f"it must be between 1:{limits.max_ratio:g} and {limits.max_ratio:g}:1.",
            f"Crop it so the long side is at most {limits.max_ratio:g} × the short side.",
        )
    _check_integrity(data, fmt, width, height, name)
    return _MIME_BY_FORMAT.get(fmt, Image.MIME.get(fmt, "application/octet-stream")), width, height


def prepare_image(
    ref: str, *, allowed_roots: Sequence[Path], input_root: Path, limits: ImageLimits = ImageLimits()
) -> PreparedImage:
    """Check one reference and return it ready for the wire (see the module docstring)."""
    kind = classify(ref)
    text = ref.strip()
    if kind == "url":
        return _prepare_url(text)
    if kind == "data_uri":
        data, label = _decode_data_uri(text, limits)
        name = f"data URI ({label or 'no type'}, {len(data):,} bytes)"
        mime, width, height = inspect_image(data, name=name, limits=limits)
        return PreparedImage(
            url=_data_uri(mime, data),
            source="data_uri",
            mime=mime,
            width=width,
            height=height,
            size=len(data),
        )
    path = resolve_local_path(text, allowed_roots=allowed_roots, input_root=input_root)
    name = str(path)
    data = _read_local_file(path, name, limits)
    mime, width, height = inspect_image(data, name=name, limits=limits)
    return PreparedImage(
        url=_data_uri(mime, data),
        source="file",
        path=name,
        mime=mime,
        width=width,
        height=height,
        size=len(data),
    )


def shorten_data_uris(value: Any, keep: int = 48) -> Any:
    """A deep copy of a JSON-like value with long ``data:`` strings cut to ``keep`` chars plus their size."""
    if isinstance(value, dict):
        return {key: shorten_data_uris(item, keep) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(shorten_data_uris(item, keep) for item in value)
    if isinstance(value, str) and len(value) > keep + 30 and _DATA_URI_HEAD.match(value):
        head, comma, payload = value.partition(",")
        if comma and head.endswith(";base64"):
            stripped = payload.rstrip("=")
            return f"{value[:keep]}…({len(stripped) * 3 // 4:,} bytes)"
        return f"{value[:keep]}…({len(value):,} characters)"
    return value


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _words(items: Sequence[str], joiner: str) -> str:
    """["JPEG", "PNG"] → "JPEG and PNG"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {joiner} {items[-1]}"


def _human_bytes(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n:,} bytes ({n / (1024 * 1024):.1f} MB)"
    return f"{n:,} bytes"


def _too_big(name: str, size: int, limits: ImageLimits) -> ImageProblem:
    return ImageProblem(
        f"Image {name} is {_human_bytes(size)}; the limit is {_human_bytes(limits.max_bytes)}.",
        "Compress or downscale it (e.g. save as JPEG at quality 85), or host it and pass its https URL.",
    )


def _too_many_pixels(name: str) -> ImageProblem:
    from PIL import Image

    return ImageProblem(
        f"Image {name} has too many pixels to be checked safely (more than {Image.MAX_IMAGE_PIXELS:,}).",
        "Downscale it (a few thousand pixels per side is plenty) and try again.",
    )


def _what_is(data: bytes) -> str:
    """A format name ("PNG", "JPEG") or a plain description of what ``data`` is."""
    for magic, offset, label in _SNIFF:
        if data[offset : offset + len(magic)] == magic:
            return label
    head = data[:512].lstrip()
    if head[:1] in (b"<", b"{", b"[") or (head and all(32 <= b < 127 or b in b"\t\r\n" for b in head)):
        return "text, not an image"
    return "not a recognised image"


@contextmanager
def _bomb_guard() -> Iterator[None]:
    """Turns Pillow's DecompressionBombWarning into an exception so it is reported, not printed.

    (``catch_warnings`` changes process-wide state; a rare race with another thread only means a
    warning is printed or escalated there, never a wrong answer here.)
    """
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _check_integrity(data: bytes, fmt: str, width: int, height: int, name: str) -> None:
    """Catch truncated or corrupt files cheaply, so imini does not fail the task (and maybe bill) later."""
    from PIL import Image

    try:
        with _bomb_guard(), Image.open(BytesIO(data), formats=[fmt]) as img:
            if fmt == "JPEG":
                # Decode at 1/8 scale (DCT scaling): reads every byte, costs 1/64 of the memory.
                img.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                img.load()
            else:
                img.verify()  # PNG: walks every chunk and checks CRCs, without inflating the pixels
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(name) from exc
    except Exception as exc:  # truncated/corrupt data: OSError, SyntaxError, struct.error, ...
        raise ImageProblem(
            f"Image {name} is damaged or truncated ({exc}).", "Re-export or re-download the image."
        ) from exc


def _prepare_url(text: str) -> PreparedImage:
    parts = urlsplit(text)
    if not parts.hostname:
        raise ImageProblem(f"Image URL {clip(text)!r} has no host name.", "Give a full https:// URL.")
    if any(char.isspace() for char in text):
        raise ImageProblem(f"Image URL {clip(text)!r} contains spaces.", "Percent-encode them (%20).")
    # "HTTPS://" is a valid URL, but imini only knows the lower-case scheme: send that.
    return PreparedImage(url=urlunsplit(parts._replace(scheme=parts.scheme.lower())), source="url")


def _read_local_file(path: Path, name: str, limits: ImageLimits) -> bytes:
    """The bytes of a resolved local image, at most ``limits.max_bytes + 1`` of them."""
    try:
        # Re-checked on the open file: the path could have been swapped (for a link or a FIFO)
        # since it was resolved. O_NOFOLLOW refuses a link, O_NONBLOCK keeps a FIFO from blocking.
        flags = (
            os.O_RDONLY
            | getattr(os, "O_NOFOLLOW", 0)
            | getattr(os, "O_NONBLOCK", 0)
            | getattr(os, "O_BINARY", 0)
        )
        with os.fdopen(os.open(path, flags), "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ImageProblem(
                    f"Image path {name} is not a regular file.", "Give the path of one image file."
                )
            size = info.st_size
            if size > limits.max_bytes:  # refuse from the size alone, without reading the file
                raise _too_big(name, size, limits)
            return fh.read(limits.max_bytes + 1)  # +1: notices a file that grew after fstat
    except OSError as exc:
        raise ImageProblem(
            f"Image file {name} cannot be read ({exc.strerror}).", "Check its permissions."
        ) from exc


def _decode_data_uri(text: str, limits: ImageLimits) -> tuple[bytes, str | None]:
    match = _DATA_URI.match(text)
    if match is None:
        raise ImageProblem(
            f"Data URI {clip(text)!r} is not of the form data:image/png;base64,<data>.",
            "Send the image base64-encoded as data:image/png;base64,… or data:image/jpeg;base64,…",
        )
    payload = match.group("payload")
    # 4 base64 characters carry 3 bytes: refuse oversized payloads before decoding them.
    if len(payload) // 4 * 3 > limits.max_bytes + 3:
        raise _too_big(f"data URI ({match.group('mime') or 'no type'})", len(payload) // 4 * 3, limits)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageProblem(
            f"Data URI {clip(text)!r} does not carry valid base64 ({exc}).",
            "Encode the file with standard base64 (A–Z, a–z, 0–9, +, /, = padding; no spaces or line breaks).",
        ) from exc
    return data, match.group("mime")


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def make_resolver(
    *, local_files: bool, allowed_roots: Sequence[Path], input_root: Path, limits: ImageLimits = ImageLimits()
) -> Callable[[str], str]:
    """What `models.check_generate_arguments` calls per image: the wire URL, or ValueError("… Fix: …")."""
    roots = list(allowed_roots) if local_files else []

    def resolve(ref: str) -> str:
        try:
            if not local_files and classify(ref) == "file":
                raise ImageProblem(
                    f"is a local path ({clip(ref)}), but this server does not read local files",
                    "pass a public https URL or a data:image/…;base64 URI (or enable IMINI_LOCAL_FILES on a local "
                    "server).",
                )
            return prepare_image(ref, allowed_roots=roots, input_root=input_root, limits=limits).url
        except ImageProblem as exc:
            raise ValueError(f"{exc.message.rstrip('.')}. Fix: {exc.fix}") from exc

    return resolve
