"""Output file names (`safe_name`): readable, bounded, never a path, and derived from the task id.

The rule lives in the request layer; the files layer only checks the result stays in its folder
(tests/files/test_part_files.py).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imini_mcp.request import safe_name


@pytest.mark.parametrize(
    ("name", "kind", "index", "ext", "expected"),
    [
        (None, "video", 0, "mp4", "task_123.mp4"),
        (None, "video", 1, "mp4", "task_123-2.mp4"),
        (None, "cover", 0, "jpg", "task_123.cover.jpg"),
        (None, "cover", 1, ".jpg", "task_123-2.cover.jpg"),
        ("My fox!", "video", 0, "mp4", "my-fox_task_123.mp4"),
        ("My fox!", "cover", 0, "jpg", "my-fox_task_123.cover.jpg"),
        ("a/b", "video", 0, "mp4", "a-b_task_123.mp4"),
        ("Füchse im Schnee", "video", 0, "mp4", "fuchse-im-schnee_task_123.mp4"),
        ("狐狸", "video", 0, "mp4", "task_123.mp4"),
        ("", "video", 0, "mp4", "task_123.mp4"),
        ("...hidden", "video", 0, "mp4", "hidden_task_123.mp4"),
        ("fox..mp4", "video", 0, "mp4", "fox.mp4_task_123.mp4"),
        ("~/x", "video", 0, "mp4", "x_task_123.mp4"),
    ],
)
def test_safe_name(name: str | None, kind: str, index: int, ext: str, expected: str) -> None:
    assert safe_name("task_123", name, kind, index, ext) == expected  # type: ignore[arg-type]


def test_a_long_name_is_cut_to_100_characters() -> None:
    name = safe_name("task_2042864638838083584", "x" * 300, "cover", 3, "jpg")
    assert len(name) == 100
    assert name.endswith("_task_2042864638838083584-4.cover.jpg")


@pytest.mark.parametrize(
    "name",
    ["../../x", "../../etc/passwd", "/etc/passwd", "\\\\server\\share", "C:\\x", "a\x00b", "a\nb", "x/../y"],
)
def test_hostile_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        safe_name("task_123", name, "video", 0, "mp4")


@pytest.mark.parametrize("task_id", ["", "../x", "task/1", "task_1\x00", ".task", "a" * 81])
def test_odd_task_ids_are_refused(task_id: str) -> None:
    with pytest.raises(ValueError, match="task id"):
        safe_name(task_id, None, "video", 0, "mp4")


def name_or_refusal(name: str) -> str | ValueError:
    try:
        return safe_name("task_2042864638838083584", name, "video", 0, "mp4")
    except ValueError as exc:
        return exc


@given(st.text(max_size=400))
def test_any_name_gives_a_safe_file_name_or_a_plain_refusal(name: str) -> None:
    result = name_or_refusal(name)
    if isinstance(result, ValueError):
        assert str(result)
        return
    assert 0 < len(result) <= 100
    assert not result.startswith(".")
    assert set(result) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    assert result.endswith("task_2042864638838083584.mp4")
