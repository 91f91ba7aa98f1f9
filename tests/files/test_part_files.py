"""Where downloads land: `confined_path` keeps a file name inside its folder, and part files left by a
killed process are swept once stale. (The atomic write itself is tested through download_file, in
tests/files/test_downloads.py and tests/files/test_direct_downloads.py.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imini_mcp.files import confined_path, sweep_partial_downloads


def test_confined_path_keeps_a_plain_name(tmp_path: Path) -> None:
    assert confined_path(tmp_path, "task_1.mp4") == tmp_path.resolve() / "task_1.mp4"


@pytest.mark.parametrize("filename", ["", ".", "..", "../x.mp4", "a/b.mp4", "/etc/passwd", "a\\b", "a\x00b"])
def test_confined_path_refuses_anything_but_a_plain_name(tmp_path: Path, filename: str) -> None:
    with pytest.raises(ValueError, match="plain file name"):
        confined_path(tmp_path, filename)


def test_confined_path_refuses_a_link_that_points_outside(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "task_1.mp4").symlink_to(tmp_path / "elsewhere.mp4")
    with pytest.raises(ValueError, match="outside"):
        confined_path(folder, "task_1.mp4")


def test_stale_partial_downloads_are_swept_fresh_ones_kept(tmp_path: Path) -> None:
    stale = tmp_path / ".task_1.mp4.part-abc123"
    fresh = tmp_path / ".task_2.mp4.part-def456"
    video = tmp_path / "task_3.mp4"
    for path in (stale, fresh, video):
        path.write_bytes(b"x")
    os.utime(stale, (0, 0))
    removed = sweep_partial_downloads(tmp_path, older_than=3600)
    assert removed == [stale]
    assert fresh.exists()
    assert video.exists()
