"""file:// results (the simulated imini keeps its sample videos on this machine): copied with a download's
checks, only from the folders the policy names, and refused everywhere else."""

from __future__ import annotations

from pathlib import Path

import pytest

from imini_mcp.files import DownloadFailed, DownloadPolicy, download_file
from imini_mcp.simulator import iter_synthetic_mp4

pytestmark = pytest.mark.anyio

VIDEO = b"".join(iter_synthetic_mp4(5000))


@pytest.fixture
def media(tmp_path: Path) -> Path:
    folder = tmp_path / "simulated-imini" / "media"
    folder.mkdir(parents=True)
    (folder / "task_1.mp4").write_bytes(VIDEO)
    return folder


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_a_file_url_inside_an_allowed_folder_is_copied_and_verified(
    media: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "videos" / "fox.mp4"
    policy = DownloadPolicy(local_sources=(media,))
    saved = await download_file(None, (media / "task_1.mp4").as_uri(), dest, kind="video", policy=policy)
    assert (saved.path, saved.size, saved.reused) == (dest, len(VIDEO), False)
    assert dest.read_bytes() == VIDEO
    again = await download_file(None, (media / "task_1.mp4").as_uri(), dest, kind="video", policy=policy)
    assert again.reused


async def test_file_urls_are_refused_without_an_allowed_folder(media: Path, tmp_path: Path) -> None:
    with pytest.raises(DownloadFailed, match=r"only http:// and https://"):
        await download_file(None, (media / "task_1.mp4").as_uri(), tmp_path / "out" / "a.mp4", kind="video")
    assert leftovers(tmp_path / "out") == []


@pytest.mark.parametrize("where", ["outside", "symlink out", "missing", "not a video"])
async def test_anything_but_a_checked_file_in_the_folder_is_refused(
    media: Path, tmp_path: Path, where: str
) -> None:
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(VIDEO)
    source = {
        "outside": secret,
        "symlink out": media / "link.mp4",
        "missing": media / "task_2.mp4",
        "not a video": media / "task_3.mp4",
    }[where]
    if where == "symlink out":
        source.symlink_to(secret)
    if where == "not a video":
        source.write_bytes(b"<html>not a video</html>" * 10)
    out = tmp_path / "out"
    with pytest.raises(DownloadFailed, match="Could not copy the video"):
        await download_file(
            None, source.as_uri(), out / "a.mp4", kind="video", policy=DownloadPolicy(local_sources=(media,))
        )
    assert leftovers(out) == []
