"""Output file names: one `output_name` rule, stated once, that the schema publishes, validation checks before
submit and saving applies (`safe_name`): 1–80 letters, digits, - or _, starting with a letter or digit, used
exactly as given. A name that saving would have to change is refused before anything is sent, with a usable
name as the fix; nothing is renamed behind the caller's back.

The rule lives in the request layer; the files layer only checks the result stays in its folder
(tests/files/test_part_files.py). The saved file itself is checked end to end in tests/mcp/test_files.py.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imini_mcp.request import GenerateVideoArguments, InvalidArguments, arguments_schema, safe_name
from imini_mcp.request.check import check_generate_arguments

TASK = "task_2042864638838083584"


@pytest.mark.parametrize(
    ("name", "kind", "index", "ext", "expected"),
    [
        (None, "video", 0, "mp4", "task_123.mp4"),
        (None, "video", 1, "mp4", "task_123-2.mp4"),
        (None, "cover", 0, "jpg", "task_123.cover.jpg"),
        (None, "cover", 1, ".jpg", "task_123-2.cover.jpg"),
        ("Fox-at_Dawn", "video", 0, "mp4", "Fox-at_Dawn_task_123.mp4"),
        ("Fox-at_Dawn", "cover", 0, "jpg", "Fox-at_Dawn_task_123.cover.jpg"),
        ("7", "video", 2, "mp4", "7_task_123-3.mp4"),
    ],
)
def test_a_usable_name_is_saved_exactly_as_given(
    name: str | None, kind: str, index: int, ext: str, expected: str
) -> None:
    assert safe_name("task_123", name, kind, index, ext) == expected  # type: ignore[arg-type]


def test_the_longest_name_is_kept_whole() -> None:
    name = "x" * 80
    assert safe_name(TASK, name, "cover", 3, "jpg") == f"{name}_{TASK}-4.cover.jpg"


# name → the name the refusal suggests
CHANGED_WHEN_SAVED = {
    "my fox!": "my-fox",
    "My fox!": "My-fox",
    "Füchse im Schnee": "Fuchse-im-Schnee",
    "fox.mp4": "fox-mp4",
    "-fox": "fox",
    "_fox": "fox",
    "狐狸": "my-video",
    "x" * 81: "x" * 80,
    "../../etc/passwd": "etc-passwd",
    "/etc/passwd": "etc-passwd",
    "C:\\x": "C-x",
    "a\x00b": "a-b",
    "a\nb": "a-b",
}


@pytest.mark.parametrize(("name", "suggested"), CHANGED_WHEN_SAVED.items())
def test_a_name_saving_would_change_is_refused_before_submit_with_a_usable_name(
    name: str, suggested: str
) -> None:
    with pytest.raises(InvalidArguments) as refused:
        check_generate_arguments({"prompt": "a fox", "output_name": name, "dry_run": True})
    [problem] = refused.value.problems
    assert problem.path == "output_name"
    assert problem.fix.endswith(f'e.g. "{suggested}".')
    assert safe_name("task_1", suggested, "video", 0, "mp4") == f"{suggested}_task_1.mp4"  # the fix works
    with pytest.raises(ValueError, match="output_name"):  # and saving refuses what validation refused
        safe_name("task_1", name, "video", 0, "mp4")


def test_a_too_long_name_is_measured_in_characters() -> None:
    with pytest.raises(InvalidArguments) as refused:
        check_generate_arguments({"prompt": "a fox", "output_name": "x" * 300, "dry_run": True})
    [problem] = refused.value.problems
    assert problem.problem == "is 300 characters long; the limit is 80."
    assert "items" not in str(refused.value)


def test_the_schema_states_the_rule_validation_and_saving_apply() -> None:
    published = arguments_schema(GenerateVideoArguments)["properties"]["output_name"]
    pattern = published["pattern"]
    assert "1–80 letters, digits, - or _, starting with a letter or digit" in published["description"]
    assert "<output_name>_<task id>.mp4" in published["description"]
    for name in ("Fox-at_Dawn", "7", "x" * 80, *CHANGED_WHEN_SAVED):
        accepted = True
        try:
            check_generate_arguments({"prompt": "a fox", "output_name": name, "dry_run": True})
        except InvalidArguments:
            accepted = False
        assert accepted == bool(re.search(pattern, name)), name


@pytest.mark.parametrize("task_id", ["", "../x", "task/1", "task_1\x00", ".task", "a" * 81])
def test_odd_task_ids_are_refused(task_id: str) -> None:
    with pytest.raises(ValueError, match="task id"):
        safe_name(task_id, None, "video", 0, "mp4")


@given(st.text(max_size=120))
def test_any_name_is_saved_as_given_or_refused_in_words(name: str) -> None:
    try:
        saved = safe_name(TASK, name, "video", 0, "mp4")
    except ValueError as exc:
        refusal: str | None = str(exc)
    else:
        refusal = None
    if refusal is not None:
        assert "Fix: " in refusal
        return
    assert saved == f"{name}_{TASK}.mp4"
    assert len(saved) <= 255
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*\.mp4", saved)
