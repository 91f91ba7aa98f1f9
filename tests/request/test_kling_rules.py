"""kling's storyboard and camera rules (rules/kling.py; imini-api.md §2.2, §3–4), as a specification.

Storyboards are kling-v3's and kling-v3-omni's; camera moves are kling-v3's. The omni-only rules are in
test_omni_rules.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imini_mcp.request import check_generate_arguments
from tests.request.builders import (
    CAM,
    CAT,
    FIRST,
    LAST,
    MP,
    PROPERTY_SETTINGS,
    V3,
    camera,
    image,
    problems_of,
    sent_shots,
    shots,
    storyboard,
)

# ---------------------------------------------------------------------------------------------------
# VALID: arguments → the exact body sent to imini

VALID = [
    # Storyboards (§4)
    pytest.param(
        {"duration": 5, "extra_params": storyboard(shots(2, 3))},
        {"model": V3, "duration": 5, "extra_params": storyboard(sent_shots(2, 3))},
        id="shots without index are numbered 1..N",
    ),
    pytest.param(
        {
            "duration": 5,
            "extra_params": storyboard(
                [
                    {"index": 1, "prompt": "shot 1", "duration": 2},
                    {"index": 2, "prompt": "shot 2", "duration": 3},
                ]
            ),
        },
        {"model": V3, "duration": 5, "extra_params": storyboard(sent_shots(2, 3))},
        id="a shot duration given as the integer 2 is sent as the string 2",
    ),
    pytest.param(
        {"duration": 5, "extra_params": storyboard(shots(2, "3"))},
        {"model": V3, "duration": 5, "extra_params": storyboard(sent_shots(2, 3))},
        id="shot durations may mix integers and digit strings",
    ),
    pytest.param(
        {"extra_params": storyboard(shots(2, 3, 4))},
        {"model": V3, "duration": 9, "extra_params": storyboard(sent_shots(2, 3, 4))},
        id="customize with duration omitted sends the sum of the shots as duration",
    ),
    pytest.param(
        {"duration": 6, "extra_params": storyboard(shots(1, 1, 1, 1, 1, 1))},
        {"model": V3, "duration": 6, "extra_params": storyboard(sent_shots(1, 1, 1, 1, 1, 1))},
        id="six shots of 1 second each (the most shots, the shortest shots)",
    ),
    pytest.param(
        {"duration": 15, "extra_params": storyboard(shots(15))},
        {"model": V3, "duration": 15, "extra_params": storyboard(sent_shots(15))},
        id="a single 15-second shot",
    ),
    pytest.param(
        {"duration": 4, "extra_params": storyboard(shots(1, 3, prompt_length=512))},
        {"model": V3, "duration": 4, "extra_params": storyboard(sent_shots(1, 3, prompt_length=512))},
        id="shot prompts of exactly 512 characters",
    ),
    pytest.param(
        {"prompt": "ignored here", "duration": 5, "extra_params": storyboard(shots(5))},
        {"model": V3, "prompt": "ignored here", "duration": 5, "extra_params": storyboard(sent_shots(5))},
        id="a top-level prompt in a custom storyboard is allowed and sent",
    ),
    pytest.param(
        {
            "prompt": "a fox hunts; then sleeps",
            "duration": 10,
            "extra_params": {"multi_shot": True, "shot_type": "intelligence"},
        },
        {
            "model": V3,
            "prompt": "a fox hunts; then sleeps",
            "duration": 10,
            "extra_params": {"multi_shot": True, "shot_type": "intelligence"},
        },
        id="intelligence mode splits the top-level prompt itself",
    ),
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"multi_shot": False}},
        {"model": V3, "prompt": "a red fox", "extra_params": {"multi_shot": False}},
        id="multi_shot false alone is a single-shot video",
    ),
    pytest.param(
        {"reference_images": [image(FIRST, "first_frame")], "extra_params": storyboard(shots(2, 3))},
        {
            "model": V3,
            "duration": 5,
            "reference_images": [image(FIRST, "first_frame")],
            "extra_params": storyboard(sent_shots(2, 3)),
        },
        id="a storyboard may start from a single first_frame",
    ),
    # Camera (§2.2)
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"camera_control": camera(zoom=5)}},
        {"model": V3, "prompt": "a red fox", "extra_params": {"camera_control": camera(zoom=5)}},
        id="simple camera with exactly one non-zero value",
    ),
    pytest.param(
        {
            "prompt": "a red fox",
            "extra_params": {
                "camera_control": camera(horizontal=0, vertical=0, pan=-10, tilt=0, roll=0, zoom=0)
            },
        },
        {
            "model": V3,
            "prompt": "a red fox",
            "extra_params": {
                "camera_control": camera(horizontal=0, vertical=0, pan=-10, tilt=0, roll=0, zoom=0)
            },
        },
        id="simple camera keeps explicit zeros as given; -10 is the lower bound",
    ),
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"camera_control": camera(roll=10)}},
        {"model": V3, "prompt": "a red fox", "extra_params": {"camera_control": camera(roll=10)}},
        id="simple camera value 10 is the upper bound",
    ),
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"camera_control": camera("down_back")}},
        {"model": V3, "prompt": "a red fox", "extra_params": {"camera_control": camera("down_back")}},
        id="a preset camera move takes no config",
    ),
    pytest.param(
        {
            "prompt": "the fox runs",
            "reference_images": [image(FIRST, "first_frame")],
            "extra_params": {"camera_control": camera("forward_up")},
        },
        {
            "model": V3,
            "prompt": "the fox runs",
            "reference_images": [image(FIRST, "first_frame")],
            "extra_params": {"camera_control": camera("forward_up")},
        },
        id="camera control works with a first_frame alone",
    ),
]


# ---------------------------------------------------------------------------------------------------
# INVALID: arguments → exactly these problem paths, nothing sent

INVALID = [
    # Storyboard switches (§4)
    pytest.param(
        {"duration": 5, "extra_params": {"multi_shot": True, "multi_prompt": shots(2, 3)}},
        {"extra_params.shot_type"},
        id="multi_shot without shot_type",
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"shot_type": "customize"}},
        {"extra_params.shot_type"},
        id="shot_type without multi_shot",
    ),
    pytest.param(
        {"prompt": "p", "duration": 5, "extra_params": {"multi_prompt": shots(2, 3)}},
        {MP},
        id="multi_prompt without multi_shot",
    ),
    pytest.param(
        {
            "prompt": "p",
            "extra_params": {"multi_shot": False, "shot_type": "customize", "multi_prompt": shots(5)},
        },
        {"extra_params.shot_type", MP},
        id="shot_type and multi_prompt with multi_shot false",
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"multi_shot": True, "shot_type": "freestyle"}},
        {"extra_params.shot_type"},
        id="shot_type other than customize or intelligence",
    ),
    pytest.param(
        {"duration": 5, "extra_params": {"multi_shot": True, "shot_type": "customize"}},
        {MP},
        id="customize without multi_prompt",
    ),
    pytest.param(
        {
            "prompt": "p",
            "duration": 5,
            "extra_params": {"multi_shot": True, "shot_type": "intelligence", "multi_prompt": shots(5)},
        },
        {MP},
        id="intelligence with multi_prompt",
    ),
    pytest.param(
        {"duration": 5, "extra_params": {"multi_shot": True, "shot_type": "intelligence"}},
        {"prompt"},
        id="intelligence without a prompt",
    ),
    # Shots (§4)
    pytest.param({"duration": 5, "extra_params": storyboard([])}, {MP}, id="zero shots"),
    pytest.param({"duration": 7, "extra_params": storyboard(shots(*[1] * 7))}, {MP}, id="seven shots"),
    pytest.param(
        {"duration": 4, "extra_params": storyboard(shots(1, 3, prompt_length=513))},
        {f"{MP}[0].prompt", f"{MP}[1].prompt"},
        id="shot prompts of 513 characters",
    ),
    pytest.param(
        {"duration": 3, "extra_params": storyboard([{"prompt": "", "duration": 3}])},
        {f"{MP}[0].prompt"},
        id="an empty shot prompt",
    ),
    pytest.param(
        {"duration": 3, "extra_params": storyboard([{"duration": 3}])},
        {f"{MP}[0].prompt"},
        id="a shot without a prompt",
    ),
    pytest.param(
        {"duration": 3, "extra_params": storyboard([{"prompt": "a"}])},
        {f"{MP}[0].duration"},
        id="a shot without a duration",
    ),
    pytest.param({"extra_params": storyboard(shots(3, 0))}, {f"{MP}[1].duration"}, id="shot duration 0"),
    pytest.param({"extra_params": storyboard(shots(3, "0"))}, {f"{MP}[1].duration"}, id='shot duration "0"'),
    pytest.param({"extra_params": storyboard(shots(3, -1))}, {f"{MP}[1].duration"}, id="shot duration -1"),
    pytest.param(
        {"extra_params": storyboard(shots(3, "2.5"))}, {f"{MP}[1].duration"}, id='shot duration "2.5"'
    ),
    pytest.param({"extra_params": storyboard(shots(3, 2.5))}, {f"{MP}[1].duration"}, id="shot duration 2.5"),
    pytest.param(
        {"extra_params": storyboard(shots(3, True))}, {f"{MP}[1].duration"}, id="shot duration true"
    ),
    pytest.param(
        {"extra_params": storyboard(shots(3, "two"))}, {f"{MP}[1].duration"}, id='shot duration "two"'
    ),
    pytest.param(
        {"duration": 8, "extra_params": storyboard(shots(2, 3))},
        {MP},
        id="shot durations that do not add up to duration",
    ),
    pytest.param({"extra_params": storyboard(shots(2))}, {MP}, id="duration omitted and shots summing to 2"),
    pytest.param(
        {"extra_params": storyboard(shots(8, 8))}, {MP}, id="duration omitted and shots summing to 16"
    ),
    pytest.param(
        {
            "duration": 5,
            "extra_params": storyboard(
                [{"index": 2, "prompt": "a", "duration": 2}, {"index": 1, "prompt": "b", "duration": 3}]
            ),
        },
        {f"{MP}[0].index", f"{MP}[1].index"},
        id="shot indexes 2,1 are out of order",
    ),
    pytest.param(
        {
            "duration": 5,
            "extra_params": storyboard(
                [{"index": 1, "prompt": "a", "duration": 2}, {"index": 3, "prompt": "b", "duration": 3}]
            ),
        },
        {f"{MP}[1].index"},
        id="shot indexes 1,3 have a gap",
    ),
    pytest.param(
        {"duration": 5, "extra_params": storyboard([{"index": 0, "prompt": "a", "duration": 5}])},
        {f"{MP}[0].index"},
        id="shot index 0; numbering starts at 1",
    ),
    # Images in a storyboard (§3–4)
    pytest.param(
        {
            "reference_images": [image(FIRST, "first_frame"), image(LAST, "last_frame")],
            "extra_params": storyboard(shots(2, 3)),
        },
        {"reference_images"},
        id="a last_frame with multi_shot",
    ),
    pytest.param(
        {"reference_images": [image(CAT, "asset")], "extra_params": storyboard(shots(2, 3))},
        {"reference_images"},
        id="an asset image with multi_shot",
    ),
    # Camera (§2.2, §3)
    pytest.param(
        {
            "prompt": "p",
            "reference_images": [image(FIRST, "first_frame"), image(LAST, "last_frame")],
            "extra_params": {"camera_control": camera(zoom=5)},
        },
        {"extra_params.camera_control"},
        id="camera_control with a last_frame",
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"camera_control": camera(zoom=0)}},
        {CAM},
        id="simple camera with no non-zero value",
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"camera_control": {"type": "simple", "config": {}}}},
        {CAM},
        id="simple camera with an empty config",
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"camera_control": camera(zoom=5, pan=-2)}},
        {CAM},
        id="simple camera with two non-zero values",
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"camera_control": camera()}},
        {CAM},
        id="simple camera without config",
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"camera_control": camera("down_back", zoom=5)}},
        {CAM},
        id="a preset camera move with a config",
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"camera_control": camera("orbit")}},
        {"extra_params.camera_control.type"},
        id="an unknown camera type",
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"camera_control": camera(zoom=11)}},
        {f"{CAM}.zoom"},
        id="camera value 11",
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"camera_control": camera(tilt=-11)}},
        {f"{CAM}.tilt"},
        id="camera value -11",
    ),
]


def test_a_blank_shot_prompt_is_refused() -> None:
    """A shot prompt of spaces says nothing, so it is refused."""
    exc = problems_of(
        {
            "extra_params": {
                "multi_shot": True,
                "shot_type": "customize",
                "multi_prompt": [{"prompt": "   ", "duration": "5"}],
            }
        }
    )
    assert {p.path for p in exc.problems} == {"extra_params.multi_prompt[0].prompt"}


# ---------------------------------------------------------------------------------------------------
# PROPERTIES: any valid storyboard is numbered and summed


@st.composite
def storyboards(draw: st.DrawFn) -> tuple[dict[str, Any], list[int], list[str]]:
    """A valid custom storyboard: 1–6 shots, each ≥ 1 s, summing to 3–15 s."""
    count = draw(st.integers(1, 6))
    total = draw(st.integers(max(3, count), 15))
    cuts = sorted(
        draw(st.lists(st.integers(1, total - 1), min_size=count - 1, max_size=count - 1, unique=True))
    )
    durations = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    prompts = draw(
        st.lists(st.text(min_size=1, max_size=512).filter(str.strip), min_size=count, max_size=count)
    )
    given = []
    for n, (seconds, prompt) in enumerate(zip(durations, prompts, strict=True), start=1):
        shot: dict[str, Any] = {"prompt": prompt, "duration": draw(st.sampled_from([seconds, str(seconds)]))}
        if draw(st.booleans()):
            shot["index"] = n
        given.append(draw(st.permutations(list(shot.items()))))
    args: dict[str, Any] = {"extra_params": storyboard([dict(items) for items in given])}
    if draw(st.booleans()):
        args["duration"] = total
    return args, durations, prompts


@PROPERTY_SETTINGS
@given(storyboards())
def test_any_valid_storyboard_is_numbered_and_summed(
    case: tuple[dict[str, Any], list[int], list[str]],
) -> None:
    """Shots are sent numbered 1..N with string durations adding up to the integer duration."""
    args, durations, prompts = case
    body = check_generate_arguments(args).to_body()
    sent = body["extra_params"]["multi_prompt"]
    assert [s["index"] for s in sent] == list(range(1, len(durations) + 1))
    assert [s["prompt"] for s in sent] == prompts
    assert [s["duration"] for s in sent] == [str(d) for d in durations]
    assert all(isinstance(s["duration"], str) for s in sent)
    assert isinstance(body["duration"], int)
    assert sum(int(s["duration"]) for s in sent) == body["duration"]
    json.dumps(body, allow_nan=False)
