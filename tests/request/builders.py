"""Builders of `generate_video` arguments and the checks the request tests share.

Arguments are built as a caller gives them (`shots`, `image`, `video`…) and as imini receives them
(`sent_shots`, `sent_assets`); `assert_sent` and `assert_refused` are the two halves of every table.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from imini_mcp.request import BODY_FIELDS, GenerateVideoArguments, InvalidArguments, check_generate_arguments

V3 = "kling/kling-v3"
OMNI = "kling/kling-v3-omni"
MOTION = "kling/kling-v3-motion-control"
SEED = "doubao/seedance-2.0"
FAST = "doubao/seedance-2.0-fast"
HORSE = "dashscope/happyhorse-1.0"

FIRST = "https://example.com/first.png"
LAST = "https://example.com/last.jpg"
CAT = "https://example.com/cat.png"
DOG = "https://example.com/dog.jpg"
DATA_URI = "data:image/png;base64,iVBORw0KGgo="
VIDEO = "https://example.com/dance.mp4"
VIDEO2 = "https://example.com/walk.mov"
AUDIO = "https://example.com/beat.mp3"
MP = "extra_params.multi_prompt"
CAM = "extra_params.camera_control.config"
# What a plain-words problem never shows: pydantic's name, its input dumps, its documentation links.
LEAKS = ("pydantic", "input_value", "https://errors")


def image(url: str, role: str | None = None) -> dict[str, Any]:
    return {"url": url} if role is None else {"url": url, "reference_type": role}


def assets(count: int) -> list[dict[str, Any]]:
    return [image(f"https://example.com/a{n}.png") for n in range(1, count + 1)]


def sent_assets(count: int) -> list[dict[str, Any]]:
    return [image(f"https://example.com/a{n}.png", "asset") for n in range(1, count + 1)]


def video(url: str = VIDEO, refer_type: str | None = None) -> dict[str, Any]:
    return {"url": url} if refer_type is None else {"url": url, "refer_type": refer_type}


def shots(*durations: Any, prompt_length: int | None = None) -> list[dict[str, Any]]:
    """Shots as a caller may give them: no index, durations exactly as passed."""
    return [
        {"prompt": "x" * prompt_length if prompt_length else f"shot {n}", "duration": d}
        for n, d in enumerate(durations, start=1)
    ]


def sent_shots(*durations: int, prompt_length: int | None = None) -> list[dict[str, Any]]:
    """Shots as imini receives them: index 1..N, durations as strings (§2.3)."""
    return [
        {"index": n, "prompt": "x" * prompt_length if prompt_length else f"shot {n}", "duration": str(d)}
        for n, d in enumerate(durations, start=1)
    ]


def storyboard(shot_list: list[dict[str, Any]]) -> dict[str, Any]:
    """extra_params of a custom storyboard."""
    return {"multi_shot": True, "shot_type": "customize", "multi_prompt": shot_list}


def camera(kind: str = "simple", **config: float) -> dict[str, Any]:
    return {"type": kind, "config": config} if config else {"type": kind}


def motion(**changes: Any) -> dict[str, Any]:
    """A valid motion-control request, changed."""
    args: dict[str, Any] = {
        "model": MOTION,
        "prompt": "the fox dances",
        "reference_images": [image(CAT)],
        "reference_videos": [video()],
        "extra_params": {"character_orientation": "video"},
    }
    return args | changes


def outcome(args: dict[str, Any]) -> GenerateVideoArguments | InvalidArguments:
    """Validate; any exception other than InvalidArguments propagates (a crash fails the test)."""
    try:
        return check_generate_arguments(args)
    except InvalidArguments as exc:
        return exc


def problems_of(args: dict[str, Any]) -> InvalidArguments:
    with pytest.raises(InvalidArguments) as caught:
        check_generate_arguments(args)
    return caught.value


def assert_sent(args: dict[str, Any], body: dict[str, Any]) -> None:
    """The arguments are valid and imini receives exactly `body`, its keys in the documented order."""
    sent = check_generate_arguments(args).to_body()
    assert sent == body
    assert list(sent) == [key for key in BODY_FIELDS if key in sent]


def assert_refused(args: dict[str, Any], paths: set[str]) -> None:
    """Nothing is sent, and exactly these paths are reported, each in plain words with a fix."""
    exc = problems_of(args)
    assert {p.path for p in exc.problems} == paths
    for p in exc.problems:
        assert p.problem.strip()
        assert p.fix.strip()
        for leak in LEAKS:
            assert leak not in str(p)
    assert str(exc).startswith("Not submitted — nothing was sent")


# ---------------------------------------------------------------------------------------------------
# Random input for the property tests

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
FIELD_NAMES = sorted(
    {
        *GenerateVideoArguments.model_fields,
        "multi_shot",
        "shot_type",
        "multi_prompt",
        "camera_control",
        "config",
        "url",
        "reference_type",
        "index",
        "duration",
        "prompt",
        "zoom",
        "type",
    }
)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
json_typed = st.sampled_from(
    [bool, int, float, str, list[str], dict[str, int], list[dict[str, float]]]
).flatmap(st.from_type)
junk = json_values | json_typed | json_values.map(json.dumps)
