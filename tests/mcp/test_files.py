"""Files in and out through the MCP tools: local reference images, verified downloads, resource links."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imini_mcp.simulator import Fault
from tests.conftest import Backend

pytestmark = pytest.mark.anyio


def _image(path: Path, size: tuple[int, int] = (640, 360), fmt: str = "PNG") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (200, 80, 40)).save(path, format=fmt)
    return path


def _first_frame(url: str) -> dict[str, Any]:
    return {
        "prompt": "the scene comes alive",
        "reference_images": [{"url": url, "reference_type": "first_frame"}],
    }


async def test_a_local_image_is_checked_and_sent_as_a_data_uri_with_its_true_type(
    connect: Any, backend: Backend, tmp_path: Path
) -> None:
    image = _image(tmp_path / "frames" / "start.jpg")  # PNG bytes behind a .jpg name
    async with connect(local_files=True) as client:
        dry = await client.call_tool("generate_video", _first_frame(str(image)) | {"dry_run": True})
        real = await client.call_tool(
            "generate_video", _first_frame("frames/start.jpg")
        )  # relative to input root
    shown = dry.structured_content["request_body"]["reference_images"][0]["url"]
    assert shown.startswith("data:image/png;base64,")
    assert "bytes)" in shown
    assert len(shown) < 200  # shortened for reading
    assert not real.is_error, real.content[0].text
    sent = backend.sim.tasks()[real.structured_content["task"]["task_id"]].request["reference_images"][0][
        "url"
    ]
    assert sent.startswith("data:image/png;base64,")
    assert base64.b64decode(sent.split(",", 1)[1]) == image.read_bytes()


async def test_local_images_come_with_one_plain_note_on_what_is_known(connect: Any, tmp_path: Path) -> None:
    """kling-v3's docs do not mention data URIs, but imini's own integration sends local images that way:
    one note says both, and the way out, however many local images the request has."""
    first, last = _image(tmp_path / "first.png"), _image(tmp_path / "last.png")
    images = [
        {"url": str(first), "reference_type": "first_frame"},
        {"url": str(last), "reference_type": "last_frame"},
    ]
    async with connect(local_files=True) as client:
        dry = await client.call_tool(
            "generate_video", {"prompt": "p", "reference_images": images, "dry_run": True}
        )
        public = await client.call_tool(
            "generate_video", _first_frame("https://example.com/start.png") | {"dry_run": True}
        )
    notes = [n for n in dry.structured_content["notes"] if "data URI" in n]
    assert len(notes) == 1
    [note] = notes
    assert "imini's docs show that for seedance and happyhorse, not for kling-v3" in note
    assert "imini's own integration script sends local images" in note
    assert "expected to work [INFER]" in note
    assert "If imini refuses an image, pass it as a public https URL instead." in note
    assert dry.content[0].text.count("data URIs. imini's docs") == 1
    assert not [n for n in public.structured_content["notes"] if "data URI" in n]


async def test_image_problems_come_with_the_other_problems_and_nothing_is_sent(
    connect: Any, backend: Backend, tmp_path: Path
) -> None:
    small = _image(tmp_path / "small.png", (299, 400))
    outside = _image(tmp_path.parent / f"{tmp_path.name}-outside.png")
    link = tmp_path / "link.png"
    os.symlink(outside, link)
    args = {
        "prompt": "p",
        "duration": 99,
        "reference_images": [
            {"url": str(small), "reference_type": "asset"},
            {"url": str(outside), "reference_type": "asset"},
            {"url": str(link), "reference_type": "asset"},
            {"url": str(tmp_path / "missing.png"), "reference_type": "asset"},
        ],
    }
    async with connect(local_files=True) as client:
        result = await client.call_tool("generate_video", args)
    text = result.content[0].text
    assert result.is_error
    assert "5 problems" in text
    assert "duration:" in text
    assert "reference_images[0].url:" in text
    assert "300" in text
    for index in (1, 2):
        assert f"reference_images[{index}].url:" in text
    assert "outside the allowed" in text
    assert "reference_images[3].url:" in text
    assert len(backend.sim.ledger) == 0


async def test_without_local_files_a_path_is_refused_clearly(connect: Any, tmp_path: Path) -> None:
    image = _image(tmp_path / "a.png")
    async with connect(local_files=False) as client:
        result = await client.call_tool("generate_video", _first_frame(str(image)))
    assert result.is_error
    assert "does not read local files" in result.content[0].text


async def test_file_mode_saves_verified_files_once_with_resource_links(
    connect: Any, backend: Backend, tmp_path: Path
) -> None:
    async with connect() as client:
        submitted = await client.call_tool(
            "generate_video", {"prompt": "a fox", "output": "both", "output_name": "Fox-at_Dawn"}
        )
        task_id = submitted.structured_content["task"]["task_id"]
        done = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 300})
        again = await client.call_tool("get_task", {"task_id": task_id})
        listed = await client.call_tool("list_tasks", {})
    files = done.structured_content["files"]
    assert {f["kind"] for f in files} == {"video", "cover"}
    out = tmp_path / "videos"
    # Saved under exactly the output_name the call gave (the one rule: tests/request/test_file_names.py).
    assert sorted(Path(f["path"]).name for f in files) == [
        f"Fox-at_Dawn_{task_id}.cover.jpg",
        f"Fox-at_Dawn_{task_id}.mp4",
    ]
    for f in files:
        path = Path(f["path"])
        assert path.parent == out
        assert path.stat().st_size == f["size"]  # noqa: ASYNC240
    assert Path(files[0]["path"]).read_bytes()[4:8] == b"ftyp"  # noqa: ASYNC240
    links = [c for c in done.content if c.type == "resource_link"]
    assert {str(link.uri).split(":")[0] for link in links} == {"http", "file"}
    assert backend.sim.ledger.count("download") == 2  # the second get_task reused the verified files
    assert again.structured_content["files"] == files
    assert listed.structured_content["tasks"][0]["files"] == [f["path"] for f in files]
    assert not list(out.glob(".*part*"))


async def test_url_mode_downloads_nothing(connect: Any, backend: Backend, tmp_path: Path) -> None:
    async with connect() as client:
        done = await client.call_tool("generate_video", {"prompt": "p", "wait_seconds": 300})
    assert done.structured_content["task"]["status"] == "succeeded"
    assert done.structured_content["task"]["files"] == []
    assert backend.sim.ledger.count("download") == 0
    assert [c.type for c in done.content].count("resource_link") == 2


async def test_a_failed_download_is_reported_the_url_kept_and_retried_later(
    connect: Any, backend: Backend, tmp_path: Path
) -> None:
    out = tmp_path / "videos"
    async with connect(output_mode="file") as client:
        task_id = (await client.call_tool("generate_video", {"prompt": "p"})).structured_content["task"][
            "task_id"
        ]
        backend.sim.add_fault(Fault("download", "reset", times=6))  # 3 attempts each for video and cover
        first = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 300})
        view = first.structured_content
        assert not first.is_error
        assert view["status"] == "succeeded"
        assert "video 1" in view["download_error"]
        assert view["videos"][0]["url"]
        assert view["files"] == []
        assert not (out / f"{task_id}.mp4").exists()
        assert not list(out.glob(".*part*"))
        second = await client.call_tool("get_task", {"task_id": task_id})
    assert second.structured_content["download_error"] is None
    assert (out / f"{task_id}.mp4").read_bytes()[4:8] == b"ftyp"


async def test_a_hostile_output_name_is_refused_before_anything_is_sent(
    connect: Any, backend: Backend
) -> None:
    async with connect() as client:
        result = await client.call_tool("generate_video", {"prompt": "p", "output_name": "../../etc/passwd"})
    assert result.is_error
    assert "output_name:" in result.content[0].text
    assert len(backend.sim.ledger) == 0
