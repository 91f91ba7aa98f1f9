"""Reference images (imini-api.md §3): every per-image rule at and just past its limit, the true mime type
from the bytes, data URIs, and local paths that must stay inside the allowed folders."""

from __future__ import annotations

import base64
import copy
import os
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image

from imini_mcp.files.images import (
    ImageLimits,
    ImageProblem,
    classify,
    inspect_image,
    prepare_image,
    shorten_data_uris,
)
from imini_mcp.files.local_paths import resolve_local_path


def image_bytes(size: tuple[int, int] = (300, 300), fmt: str = "PNG") -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, fmt)
    return buffer.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def payload(uri: str) -> bytes:
    return base64.b64decode(uri.partition(",")[2])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "allowed"
    folder.mkdir()
    return folder


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def prepare(ref: str, root: Path, limits: ImageLimits | None = None) -> str:
    """The wire URL for ``ref`` with ``root`` as the only allowed folder and the input folder."""
    return prepare_image(ref, allowed_roots=[root], input_root=root, limits=limits or ImageLimits()).url


def problem(ref: str, root: Path, limits: ImageLimits | None = None) -> ImageProblem:
    with pytest.raises(ImageProblem) as caught:
        prepare(ref, root, limits)
    return caught.value


# ------------------------------------------------------------------------------------------------
# Files that pass: a data URI with the true mime type
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_a_local_file_becomes_a_data_uri_of_its_bytes(root: Path, fmt: str, mime: str) -> None:
    data = image_bytes(fmt=fmt)
    path = write(root, f"a.{fmt.lower()}", data)
    prepared = prepare_image(str(path), allowed_roots=[root], input_root=root)
    assert prepared.url.startswith(f"data:{mime};base64,")
    assert payload(prepared.url) == data
    assert prepared.source == "file"
    assert prepared.path == str(path.resolve())
    assert prepared.mime == mime
    assert (prepared.width, prepared.height) == (300, 300)
    assert prepared.size == len(data)


def test_a_png_named_jpg_is_sent_as_png(root: Path) -> None:
    path = write(root, "photo.jpg", image_bytes(fmt="PNG"))
    assert prepare(str(path), root).startswith("data:image/png;base64,")


def test_a_jpeg_named_png_is_sent_as_jpeg(root: Path) -> None:
    path = write(root, "photo.png", image_bytes(fmt="JPEG"))
    assert prepare(str(path), root).startswith("data:image/jpeg;base64,")


# ------------------------------------------------------------------------------------------------
# Each rule at its limit and just past it
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(300, 300), (300, 400), (400, 300)])
def test_sides_of_300_px_pass(root: Path, size: tuple[int, int]) -> None:
    path = write(root, "a.png", image_bytes(size))
    assert prepare(str(path), root).startswith("data:image/png")


@pytest.mark.parametrize("size", [(299, 300), (300, 299), (299, 299)])
def test_a_side_of_299_px_is_refused(root: Path, size: tuple[int, int]) -> None:
    path = write(root, "a.png", image_bytes(size))
    error = problem(str(path), root)
    assert f"is {size[0]}×{size[1]} px; the short side must be at least 300 px" in error.message


def test_the_short_side_message_names_the_file(root: Path) -> None:
    path = write(root, "tall.png", image_bytes((250, 600)))
    error = problem(str(path), root)
    assert "tall.png" in error.message
    assert "larger image" in error.fix


@pytest.mark.parametrize("size", [(750, 300), (300, 750)])
def test_an_aspect_ratio_of_exactly_2_5_passes(root: Path, size: tuple[int, int]) -> None:
    path = write(root, "a.png", image_bytes(size))
    assert prepare(str(path), root).startswith("data:image/png")


@pytest.mark.parametrize("size", [(753, 300), (300, 753)])
def test_an_aspect_ratio_of_2_51_is_refused(root: Path, size: tuple[int, int]) -> None:
    path = write(root, "a.png", image_bytes(size))
    error = problem(str(path), root)
    assert "aspect ratio of 2.51:1" in error.message
    assert "between 1:2.5 and 2.5:1" in error.message


def test_a_file_of_exactly_max_bytes_passes(root: Path) -> None:
    data = image_bytes()
    path = write(root, "a.png", data)
    assert prepare(str(path), root, ImageLimits(max_bytes=len(data))).startswith("data:image/png")


def test_a_file_one_byte_over_max_bytes_is_refused(root: Path) -> None:
    data = image_bytes()
    path = write(root, "a.png", data)
    error = problem(str(path), root, ImageLimits(max_bytes=len(data) - 1))
    assert f"is {len(data):,} bytes; the limit is {len(data) - 1:,} bytes" in error.message


def test_an_oversized_file_is_refused_from_its_size_alone(root: Path) -> None:
    path = root / "huge.png"
    with path.open("wb") as fh:
        fh.truncate(64 * 1024 * 1024)  # sparse: nothing to read, only the size counts
    error = problem(str(path), root)
    assert "(64.0 MB); the limit is 10,485,760 bytes (10.0 MB)" in error.message


def test_inspect_checks_the_size_before_decoding() -> None:
    with pytest.raises(ImageProblem, match="the limit is 10 bytes"):
        inspect_image(b"\x89PNG" + bytes(100), name="x", limits=ImageLimits(max_bytes=10))


# ------------------------------------------------------------------------------------------------
# Formats and damaged files
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "said"), [("GIF", "a GIF image"), ("WEBP", "a WEBP image"), ("BMP", "a BMP image")]
)
def test_other_image_formats_are_refused(root: Path, fmt: str, said: str) -> None:
    path = write(root, "a.png", image_bytes(fmt=fmt))
    error = problem(str(path), root)
    assert f"is {said}; only JPEG and PNG images are accepted" in error.message


@pytest.mark.parametrize("content", [b"just some text\n", b"<html><body>404</body></html>", b'{"error": 1}'])
def test_text_is_refused(root: Path, content: bytes) -> None:
    path = write(root, "a.png", content)
    assert "is text, not an image" in problem(str(path), root).message


def test_an_empty_file_is_refused(root: Path) -> None:
    path = write(root, "a.png", b"")
    assert "is empty" in problem(str(path), root).message


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_truncated_image_is_refused(root: Path, fmt: str) -> None:
    data = image_bytes(fmt=fmt)
    path = write(root, "a.img", data[: len(data) - 20])
    assert "damaged or truncated" in problem(str(path), root).message


def test_an_image_with_a_broken_header_is_refused(root: Path) -> None:
    path = write(root, "a.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    assert "looks like a PNG image but cannot be read" in problem(str(path), root).message


@pytest.mark.parametrize("limit", [60_000, 1_000])  # 300×300 = 90,000 px: the warning range, then the error
def test_a_decompression_bomb_is_reported_not_raised(
    root: Path, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    path = write(root, "a.png", image_bytes())
    assert "too many pixels" in problem(str(path), root).message


# ------------------------------------------------------------------------------------------------
# Data URIs and URLs
# ------------------------------------------------------------------------------------------------


def test_a_data_uri_is_checked_and_kept(root: Path) -> None:
    data = image_bytes(fmt="JPEG")
    prepared = prepare_image(data_uri(data, "image/jpeg"), allowed_roots=[], input_root=root)
    assert prepared.url == data_uri(data, "image/jpeg")
    assert prepared.source == "data_uri"
    assert prepared.path is None
    assert prepared.size == len(data)


@pytest.mark.parametrize("label", ["image/jpeg", "image/jpg", "application/octet-stream", "IMAGE/GIF"])
def test_a_data_uri_with_a_wrong_label_is_relabelled(root: Path, label: str) -> None:
    data = image_bytes(fmt="PNG")
    assert prepare(data_uri(data, label), root) == data_uri(data, "image/png")


def test_a_data_uri_is_checked_like_a_file(root: Path) -> None:
    error = problem(data_uri(image_bytes((200, 200))), root)
    assert "is 200×200 px" in error.message


@pytest.mark.parametrize(
    "uri",
    [
        "data:image/png,rawbytes",  # not base64
        "data:image/png;base64,@@@@",  # not base64 characters
        "data:image/png;base64,iVBO RW0K",  # whitespace inside
        "data:image/png;base64,iVBORw0",  # bad padding
        "data:image/png;charset=utf-8",  # no payload at all
    ],
)
def test_a_malformed_data_uri_is_refused(root: Path, uri: str) -> None:
    error = problem(uri, root)
    assert "Data URI" in error.message


def test_an_oversized_data_uri_is_refused_before_decoding(root: Path) -> None:
    uri = "data:image/png;base64," + "A" * 4000
    assert "the limit is 100 bytes" in problem(uri, root, ImageLimits(max_bytes=100)).message


@pytest.mark.parametrize(
    "url",
    ["https://example.com/a.png", "http://example.com/a.jpg", "https://cdn.example.com/x?sig=a%2Fb&e=1#f"],
)
def test_an_http_url_is_passed_through_unchanged(url: str, root: Path) -> None:
    prepared = prepare_image(url, allowed_roots=[root], input_root=root)
    assert prepared.url == url
    assert prepared.source == "url"
    assert prepared.mime is None


def test_an_url_without_a_host_is_refused(root: Path) -> None:
    assert "no host" in problem("https:///a.png", root).message


@pytest.mark.parametrize(
    ("ref", "kind"),
    [
        ("https://example.com/a.png", "url"),
        ("HTTP://example.com/a.png", "url"),
        ("data:image/png;base64,AAAA", "data_uri"),
        ("file:///tmp/a.png", "file"),
        ("/tmp/a.png", "file"),
        ("~/a.png", "file"),
        ("a.png", "file"),
        ("sub/a.png", "file"),
        ("./odd:name.png", "file"),
    ],
)
def test_classify(ref: str, kind: str) -> None:
    assert classify(ref) == kind


@pytest.mark.parametrize(
    "ref", ["ftp://example.com/a.png", "javascript:alert(1)", "mailto:a@b.c", "odd:name.png"]
)
def test_other_schemes_are_refused(ref: str) -> None:
    with pytest.raises(ImageProblem, match="unsupported scheme"):
        classify(ref)


def test_an_empty_reference_is_refused() -> None:
    with pytest.raises(ImageProblem, match="empty"):
        classify("  ")


# ------------------------------------------------------------------------------------------------
# Local paths: inside the allowed folders only
# ------------------------------------------------------------------------------------------------


def test_a_relative_path_is_taken_from_the_input_root(root: Path) -> None:
    write(root, "sub/a.png", image_bytes())
    assert (
        resolve_local_path("sub/a.png", allowed_roots=[root], input_root=root)
        == (root / "sub/a.png").resolve()
    )


def test_a_relative_escape_is_refused(root: Path, outside: Path) -> None:
    write(outside, "a.png", image_bytes())
    error = problem("../elsewhere/a.png", root)
    assert "outside the allowed folders" in error.message
    assert "IMINI_ALLOWED_ROOTS" in error.fix


def test_an_absolute_path_outside_the_roots_is_refused(root: Path, outside: Path) -> None:
    path = write(outside, "a.png", image_bytes())
    assert "outside the allowed folders" in problem(str(path), root).message


def test_a_missing_file_outside_the_roots_is_reported_as_outside(root: Path, outside: Path) -> None:
    # The answer must not reveal which files exist outside the allowed folders.
    assert "outside the allowed folders" in problem(str(outside / "nope.png"), root).message


def test_a_home_path_outside_the_roots_is_refused(
    root: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(outside))
    write(outside, "a.png", image_bytes())
    assert "outside the allowed folders" in problem("~/a.png", root).message


def test_a_home_path_inside_a_root_is_accepted(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(root))
    write(root, "a.png", image_bytes())
    assert prepare("~/a.png", root).startswith("data:image/png")


def test_a_symlink_inside_pointing_outside_is_refused(root: Path, outside: Path) -> None:
    target = write(outside, "secret.png", image_bytes())
    (root / "link.png").symlink_to(target)
    assert "outside the allowed folders" in problem(str(root / "link.png"), root).message


def test_a_symlinked_folder_pointing_outside_is_refused(root: Path, outside: Path) -> None:
    write(outside, "a.png", image_bytes())
    (root / "door").symlink_to(outside, target_is_directory=True)
    assert "outside the allowed folders" in problem("door/a.png", root).message


def test_a_symlink_inside_pointing_inside_is_followed(root: Path) -> None:
    target = write(root, "real/a.png", image_bytes())
    (root / "link.png").symlink_to(target)
    resolved = resolve_local_path(str(root / "link.png"), allowed_roots=[root], input_root=root)
    assert resolved == target.resolve()


def test_a_symlinked_root_is_resolved_too(tmp_path: Path, root: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(root, target_is_directory=True)
    write(root, "a.png", image_bytes())
    assert prepare(str(alias / "a.png"), alias).startswith("data:image/png")


def test_no_allowed_roots_refuses_every_file(root: Path) -> None:
    path = write(root, "a.png", image_bytes())
    with pytest.raises(ImageProblem) as caught:
        prepare_image(str(path), allowed_roots=[], input_root=root)
    assert "none are configured" in caught.value.message


def test_a_file_uri_is_percent_decoded(root: Path) -> None:
    path = write(root, "my photo #1.png", image_bytes())
    assert prepare("file://" + quote(str(path)), root).startswith("data:image/png")


def test_a_localhost_file_uri_is_accepted(root: Path) -> None:
    path = write(root, "a.png", image_bytes())
    assert prepare(f"file://localhost{path}", root).startswith("data:image/png")


def test_a_file_uri_with_a_host_is_refused(root: Path) -> None:
    assert "not a plain local" in problem("file://server/share/a.png", root).message


def test_a_file_uri_outside_the_roots_is_refused(root: Path, outside: Path) -> None:
    path = write(outside, "a.png", image_bytes())
    assert "outside the allowed folders" in problem(f"file://{path}", root).message


@pytest.mark.parametrize("ref", ["a\x00.png", "file:///tmp/a%00.png"])
def test_a_nul_byte_is_refused(root: Path, ref: str) -> None:
    assert "NUL" in problem(ref, root).message


def test_a_missing_file_is_refused(root: Path) -> None:
    assert "does not exist" in problem("nope.png", root).message


def test_a_folder_is_refused(root: Path) -> None:
    (root / "pics").mkdir()
    assert "is a folder" in problem("pics", root).message


def test_a_fifo_is_refused_without_blocking(root: Path) -> None:
    os.mkfifo(root / "pipe.png")
    assert "not a regular file" in problem("pipe.png", root).message


def test_a_symlink_loop_is_refused(root: Path) -> None:
    (root / "loop.png").symlink_to(root / "loop.png")
    assert "cannot be resolved" in problem("loop.png", root).message


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads everything")
def test_an_unreadable_file_is_refused(root: Path) -> None:
    path = write(root, "a.png", image_bytes())
    path.chmod(0)
    assert "not readable" in problem("a.png", root).message


# ------------------------------------------------------------------------------------------------
# Dry-run display
# ------------------------------------------------------------------------------------------------


def test_shorten_data_uris_keeps_the_head_and_tells_the_size() -> None:
    data = image_bytes()
    body = {"prompt": "fox", "reference_images": [{"url": data_uri(data), "reference_type": "first_frame"}]}
    short = shorten_data_uris(body)
    uri = data_uri(data)
    assert short["reference_images"][0]["url"] == f"{uri[:48]}…({len(data):,} bytes)"


def test_shorten_data_uris_leaves_everything_else_alone() -> None:
    body = {
        "prompt": "data: a prompt that starts like a data URI, but is not one " * 3,
        "n": 3,
        "flag": None,
        "images": [{"url": "https://example.com/a.png"}, {"url": "data:image/png;base64,AAAA"}],
    }
    short = shorten_data_uris(body)
    assert short["prompt"] == body["prompt"]
    assert short["images"] == body["images"]
    assert short["n"] == 3
    assert short["flag"] is None


def test_shorten_data_uris_does_not_touch_its_input() -> None:
    body = {"images": [{"url": data_uri(image_bytes())}]}
    before = copy.deepcopy(body)
    shorten_data_uris(body)
    assert body == before


def test_a_file_the_server_may_not_read_is_refused(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stands in for chmod 000, which does not stop root (the test environment may run as root).
    write(root, "a.png", image_bytes())
    monkeypatch.setattr("imini_mcp.files.local_paths.os.access", lambda path, mode: False)
    assert "not readable" in problem("a.png", root).message


def test_url_scheme_is_sent_in_lower_case_and_spaces_are_refused(tmp_path: Path) -> None:
    prepared = prepare_image("HTTPS://cdn.example.com/Fox.png", allowed_roots=[tmp_path], input_root=tmp_path)
    assert prepared.url == "https://cdn.example.com/Fox.png"  # only the scheme changes
    with pytest.raises(ImageProblem, match="spaces"):
        prepare_image("https://cdn.example.com/a fox.png", allowed_roots=[tmp_path], input_root=tmp_path)
