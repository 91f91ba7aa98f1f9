"""The kling/kling-v3 request rules, as a specification (shared/imini-api.md §2–4, pricing §8).

Every row of these tables is one rule of `POST /v1/videos/generate` for `kling/kling-v3`:

* VALID: tool arguments → the exact JSON body imini receives (`to_body()`).
* INVALID: tool arguments → the exact set of problem paths reported (nothing is sent).
* ALL AT ONCE: independent problems are all reported in one answer, numbered.
* COST: the indicative credit estimate (rate per second × length).
* PROPERTIES: random storyboards are numbered and summed correctly; random junk never crashes.

"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imini_mcp.request import (
    GenerateVideoArguments,
    InvalidArguments,
    check_generate_arguments,
    estimate_cost,
)
from tests.conftest import DOC_EXAMPLE as DOCUMENTED_EXAMPLE  # imini-api.md §2.3, verbatim

MODEL = "kling/kling-v3"
FIRST = "https://example.com/first.png"
LAST = "https://example.com/last.jpg"
CAT = "https://example.com/cat.png"
DATA_URI = "data:image/png;base64,iVBORw0KGgo="
LEAKS = ("pydantic", "input_value", "https://errors")


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


def image(url: str, role: str | None = None) -> dict[str, Any]:
    return {"url": url} if role is None else {"url": url, "reference_type": role}


def camera(kind: str = "simple", **config: float) -> dict[str, Any]:
    return {"type": kind, "config": config} if config else {"type": kind}


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


# ---------------------------------------------------------------------------------------------------
# VALID: arguments → the exact body sent to imini

VALID = [
    pytest.param(
        DOCUMENTED_EXAMPLE,
        DOCUMENTED_EXAMPLE,
        id="the documented example body (§2.3) is sent unchanged",
    ),
    pytest.param(
        {"prompt": "a red fox in snow"},
        {"model": MODEL, "prompt": "a red fox in snow"},
        id="text-to-video needs only a prompt; defaults are not sent",
    ),
    pytest.param(
        {"model": MODEL, "prompt": "a red fox"},
        {"model": MODEL, "prompt": "a red fox"},
        id="the model may be given explicitly",
    ),
    pytest.param(
        {
            "prompt": "a red fox",
            "resolution": "720P",
            "aspect_ratio": "16:9",
            "duration": 5,
            "generate_audio": False,
        },
        {
            "model": MODEL,
            "prompt": "a red fox",
            "resolution": "720P",
            "aspect_ratio": "16:9",
            "duration": 5,
            "generate_audio": False,
        },
        id="defaults given explicitly are sent as given",
    ),
    pytest.param(
        {"prompt": "a red fox", "resolution": "1080p"},
        {"model": MODEL, "prompt": "a red fox", "resolution": "1080P"},
        id="lowercase 1080p is sent as the documented 1080P",
    ),
    pytest.param(
        {"prompt": "a red fox", "aspect_ratio": "9:16", "generate_audio": True},
        {"model": MODEL, "prompt": "a red fox", "aspect_ratio": "9:16", "generate_audio": True},
        id="portrait with audio",
    ),
    pytest.param(
        {"prompt": "a red fox", "aspect_ratio": "1:1"},
        {"model": MODEL, "prompt": "a red fox", "aspect_ratio": "1:1"},
        id="square aspect ratio",
    ),
    pytest.param(
        {"prompt": "a red fox", "duration": 3},
        {"model": MODEL, "prompt": "a red fox", "duration": 3},
        id="duration 3 is the shortest video",
    ),
    pytest.param(
        {"prompt": "a red fox", "duration": 15},
        {"model": MODEL, "prompt": "a red fox", "duration": 15},
        id="duration 15 is the longest video",
    ),
    pytest.param(
        {"prompt": "p" * 2500},
        {"model": MODEL, "prompt": "p" * 2500},
        id="a prompt of exactly 2500 characters",
    ),
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"negative_prompt": "n" * 2500}},
        {"model": MODEL, "prompt": "a red fox", "extra_params": {"negative_prompt": "n" * 2500}},
        id="a negative_prompt of exactly 2500 characters",
    ),
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"cfg_scale": 0}},
        {"model": MODEL, "prompt": "a red fox", "extra_params": {"cfg_scale": 0}},
        id="cfg_scale 0 is the lower bound",
    ),
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"cfg_scale": 1}},
        {"model": MODEL, "prompt": "a red fox", "extra_params": {"cfg_scale": 1}},
        id="cfg_scale 1 is the upper bound",
    ),
    # Storyboards (§4)
    pytest.param(
        {"duration": 5, "extra_params": storyboard(shots(2, 3))},
        {"model": MODEL, "duration": 5, "extra_params": storyboard(sent_shots(2, 3))},
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
        {"model": MODEL, "duration": 5, "extra_params": storyboard(sent_shots(2, 3))},
        id="a shot duration given as the integer 2 is sent as the string 2",
    ),
    pytest.param(
        {"duration": 5, "extra_params": storyboard(shots(2, "3"))},
        {"model": MODEL, "duration": 5, "extra_params": storyboard(sent_shots(2, 3))},
        id="shot durations may mix integers and digit strings",
    ),
    pytest.param(
        {"extra_params": storyboard(shots(2, 3, 4))},
        {"model": MODEL, "duration": 9, "extra_params": storyboard(sent_shots(2, 3, 4))},
        id="customize with duration omitted sends the sum of the shots as duration",
    ),
    pytest.param(
        {"duration": 6, "extra_params": storyboard(shots(1, 1, 1, 1, 1, 1))},
        {"model": MODEL, "duration": 6, "extra_params": storyboard(sent_shots(1, 1, 1, 1, 1, 1))},
        id="six shots of 1 second each (the most shots, the shortest shots)",
    ),
    pytest.param(
        {"duration": 15, "extra_params": storyboard(shots(15))},
        {"model": MODEL, "duration": 15, "extra_params": storyboard(sent_shots(15))},
        id="a single 15-second shot",
    ),
    pytest.param(
        {"duration": 4, "extra_params": storyboard(shots(1, 3, prompt_length=512))},
        {"model": MODEL, "duration": 4, "extra_params": storyboard(sent_shots(1, 3, prompt_length=512))},
        id="shot prompts of exactly 512 characters",
    ),
    pytest.param(
        {"prompt": "ignored here", "duration": 5, "extra_params": storyboard(shots(5))},
        {"model": MODEL, "prompt": "ignored here", "duration": 5, "extra_params": storyboard(sent_shots(5))},
        id="a top-level prompt in a custom storyboard is allowed and sent",
    ),
    pytest.param(
        {
            "prompt": "a fox hunts; then sleeps",
            "duration": 10,
            "extra_params": {"multi_shot": True, "shot_type": "intelligence"},
        },
        {
            "model": MODEL,
            "prompt": "a fox hunts; then sleeps",
            "duration": 10,
            "extra_params": {"multi_shot": True, "shot_type": "intelligence"},
        },
        id="intelligence mode splits the top-level prompt itself",
    ),
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"multi_shot": False}},
        {"model": MODEL, "prompt": "a red fox", "extra_params": {"multi_shot": False}},
        id="multi_shot false alone is a single-shot video",
    ),
    # Reference images (§3)
    pytest.param(
        {"prompt": "the fox runs", "reference_images": [image(FIRST, "first_frame")]},
        {"model": MODEL, "prompt": "the fox runs", "reference_images": [image(FIRST, "first_frame")]},
        id="image-to-video with one first_frame",
    ),
    pytest.param(
        {"prompt": "morph", "reference_images": [image(FIRST, "first_frame"), image(LAST, "last_frame")]},
        {
            "model": MODEL,
            "prompt": "morph",
            "reference_images": [image(FIRST, "first_frame"), image(LAST, "last_frame")],
        },
        id="first_frame plus last_frame interpolates between them",
    ),
    pytest.param(
        {"prompt": "morph", "reference_images": [image(LAST, "last_frame"), image(FIRST, "first_frame")]},
        {
            "model": MODEL,
            "prompt": "morph",
            "reference_images": [image(LAST, "last_frame"), image(FIRST, "first_frame")],
        },
        id="frame images may come in any order and are sent in the order given",
    ),
    pytest.param(
        {"prompt": "the cat", "reference_images": [image(CAT)]},
        {"model": MODEL, "prompt": "the cat", "reference_images": [image(CAT, "asset")]},
        id="a reference image without reference_type is sent as asset",
    ),
    pytest.param(
        {"prompt": "four cats", "reference_images": [image(CAT, "asset")] * 3 + [image(DATA_URI)]},
        {
            "model": MODEL,
            "prompt": "four cats",
            "reference_images": [image(CAT, "asset")] * 3 + [image(DATA_URI, "asset")],
        },
        id="four asset images (the most), one of them a data URI",
    ),
    pytest.param(
        {"prompt": "fox", "reference_images": [image("HTTPS://EXAMPLE.COM/FOX.JPG", "first_frame")]},
        {
            "model": MODEL,
            "prompt": "fox",
            "reference_images": [image("HTTPS://EXAMPLE.COM/FOX.JPG", "first_frame")],
        },
        id="an http(s) URL in any case is accepted and sent unchanged",
    ),
    pytest.param(
        {"prompt": "a red fox", "reference_images": []},
        {"model": MODEL, "prompt": "a red fox", "reference_images": []},
        id="an empty reference_images list is text-to-video",
    ),
    pytest.param(
        {"reference_images": [image(FIRST, "first_frame")], "extra_params": storyboard(shots(2, 3))},
        {
            "model": MODEL,
            "duration": 5,
            "reference_images": [image(FIRST, "first_frame")],
            "extra_params": storyboard(sent_shots(2, 3)),
        },
        id="a storyboard may start from a single first_frame",
    ),
    # Camera (§2.2)
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"camera_control": camera(zoom=5)}},
        {"model": MODEL, "prompt": "a red fox", "extra_params": {"camera_control": camera(zoom=5)}},
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
            "model": MODEL,
            "prompt": "a red fox",
            "extra_params": {
                "camera_control": camera(horizontal=0, vertical=0, pan=-10, tilt=0, roll=0, zoom=0)
            },
        },
        id="simple camera keeps explicit zeros as given; -10 is the lower bound",
    ),
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"camera_control": camera(roll=10)}},
        {"model": MODEL, "prompt": "a red fox", "extra_params": {"camera_control": camera(roll=10)}},
        id="simple camera value 10 is the upper bound",
    ),
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"camera_control": camera("down_back")}},
        {"model": MODEL, "prompt": "a red fox", "extra_params": {"camera_control": camera("down_back")}},
        id="a preset camera move takes no config",
    ),
    pytest.param(
        {
            "prompt": "the fox runs",
            "reference_images": [image(FIRST, "first_frame")],
            "extra_params": {"camera_control": camera("forward_up")},
        },
        {
            "model": MODEL,
            "prompt": "the fox runs",
            "reference_images": [image(FIRST, "first_frame")],
            "extra_params": {"camera_control": camera("forward_up")},
        },
        id="camera control works with a first_frame alone",
    ),
    # Explicit nulls, this server's own options, JSON text
    pytest.param(
        {
            "prompt": "a red fox",
            "resolution": None,
            "aspect_ratio": None,
            "duration": None,
            "generate_audio": None,
            "reference_images": None,
            "extra_params": None,
        },
        {"model": MODEL, "prompt": "a red fox"},
        id="explicit nulls are treated as not set",
    ),
    pytest.param(
        {
            "prompt": "a red fox",
            "extra_params": {"cfg_scale": 0.5, "negative_prompt": None, "camera_control": None},
        },
        {"model": MODEL, "prompt": "a red fox", "extra_params": {"cfg_scale": 0.5}},
        id="explicit nulls inside extra_params are not sent",
    ),
    pytest.param(
        {"model": None, "prompt": "a red fox"},
        {"model": MODEL, "prompt": "a red fox"},
        id="model null is treated as omitted and the model is added",
    ),
    pytest.param(
        {"prompt": "a red fox", "dry_run": True, "wait_seconds": 30, "idempotency_key": "job-42"},
        {"model": MODEL, "prompt": "a red fox"},
        id="dry_run, wait_seconds and idempotency_key are never sent to imini",
    ),
    pytest.param(
        {"prompt": "a red fox", "dry_run": False, "wait_seconds": 0, "idempotency_key": None},
        {"model": MODEL, "prompt": "a red fox"},
        id="this server's options are not sent even at their defaults",
    ),
    pytest.param(
        {"extra_params": json.dumps(storyboard(shots(2, 3))), "duration": 5},
        {"model": MODEL, "duration": 5, "extra_params": storyboard(sent_shots(2, 3))},
        id="extra_params sent as JSON text is accepted",
    ),
    pytest.param(
        {"prompt": "the fox runs", "reference_images": json.dumps([image(FIRST, "first_frame")])},
        {"model": MODEL, "prompt": "the fox runs", "reference_images": [image(FIRST, "first_frame")]},
        id="reference_images sent as JSON text is accepted",
    ),
    pytest.param(
        {
            "duration": 5,
            "extra_params": {
                "multi_shot": True,
                "shot_type": "customize",
                "multi_prompt": json.dumps(shots(2, 3)),
            },
        },
        {"model": MODEL, "duration": 5, "extra_params": storyboard(sent_shots(2, 3))},
        id="multi_prompt sent as JSON text is accepted",
    ),
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"camera_control": json.dumps(camera(zoom=5))}},
        {"model": MODEL, "prompt": "a red fox", "extra_params": {"camera_control": camera(zoom=5)}},
        id="camera_control sent as JSON text is accepted",
    ),
]


@pytest.mark.parametrize(("args", "body"), VALID)
def test_valid_arguments_become_this_exact_body(args: dict[str, Any], body: dict[str, Any]) -> None:
    assert check_generate_arguments(args).to_body() == body


def test_the_documented_example_keeps_its_key_order() -> None:
    sent = check_generate_arguments(DOCUMENTED_EXAMPLE).to_body()
    assert json.dumps(sent) == json.dumps(DOCUMENTED_EXAMPLE)


def test_model_is_added_first_when_omitted() -> None:
    sent = check_generate_arguments({"prompt": "a red fox", "duration": 5}).to_body()
    assert next(iter(sent)) == "model"


def test_validation_does_not_change_the_callers_arguments() -> None:
    args = {"extra_params": storyboard(shots(2, "3"))}
    before = json.dumps(args)
    check_generate_arguments(args)
    assert json.dumps(args) == before


# ---------------------------------------------------------------------------------------------------
# INVALID: arguments → exactly these problem paths, nothing sent

MP = "extra_params.multi_prompt"
CAM = "extra_params.camera_control.config"

INVALID = [
    # Prompt (§2.1)
    pytest.param({}, {"prompt"}, id="text-to-video without a prompt"),
    pytest.param({"prompt": None}, {"prompt"}, id="text-to-video with prompt null"),
    pytest.param({"prompt": ""}, {"prompt"}, id="an empty prompt"),
    pytest.param({"prompt": " \n\t "}, {"prompt"}, id="a whitespace-only prompt"),
    pytest.param({"prompt": "p" * 2501}, {"prompt"}, id="a prompt of 2501 characters"),
    pytest.param({"prompt": 42}, {"prompt"}, id="a prompt that is not a string"),
    pytest.param(
        {"reference_images": [image(FIRST, "first_frame")]},
        {"prompt"},
        id="image-to-video without a prompt",
    ),
    # Enums and ranges (§2.1)
    pytest.param({"prompt": "p", "model": "kling/kling-v2"}, {"model"}, id="a model not in the catalogue"),
    pytest.param({"prompt": "p", "resolution": "4K"}, {"resolution"}, id="resolution 4K"),
    pytest.param({"prompt": "p", "resolution": "480P"}, {"resolution"}, id="resolution 480P"),
    pytest.param({"prompt": "p", "aspect_ratio": "4:3"}, {"aspect_ratio"}, id="aspect ratio 4:3"),
    pytest.param({"prompt": "p", "duration": 2}, {"duration"}, id="duration 2 is too short"),
    pytest.param({"prompt": "p", "duration": 16}, {"duration"}, id="duration 16 is too long"),
    pytest.param({"prompt": "p", "duration": 5.5}, {"duration"}, id="duration 5.5 is not whole seconds"),
    pytest.param({"prompt": "p", "duration": "abc"}, {"duration"}, id="duration abc is not a number"),
    pytest.param({"prompt": "p", "duration": True}, {"duration"}, id="duration true is not a number"),
    pytest.param(
        {"prompt": "p", "generate_audio": "yes"}, {"generate_audio"}, id="generate_audio yes is not a boolean"
    ),
    pytest.param(
        {"prompt": "p", "generate_audio": 1}, {"generate_audio"}, id="generate_audio 1 is not a boolean"
    ),
    # Unknown and misplaced fields (§2.1 "not present → do not send", §2.2 "exactly six keys")
    pytest.param({"prompt": "p", "seed": 42}, {"seed"}, id="an unknown top-level field such as seed"),
    pytest.param(
        {"prompt": "p", "negative_prompt": "blurry"},
        {"negative_prompt"},
        id="negative_prompt at top level belongs in extra_params",
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"element_list": []}},
        {"extra_params.element_list"},
        id="an unknown extra_params key",
    ),
    pytest.param(
        {"duration": 3, "extra_params": storyboard([{"prompt": "a", "duration": 3, "camera": "pan"}])},
        {f"{MP}[0].camera"},
        id="an unknown key inside a shot",
    ),
    pytest.param(
        {"prompt": "p", "reference_images": [{"url": CAT, "weight": 0.5}]},
        {"reference_images[0].weight"},
        id="an unknown key inside a reference image",
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"camera_control": camera(zoom=5, dolly=2)}},
        {f"{CAM}.dolly"},
        id="an unknown key inside the camera config",
    ),
    pytest.param(
        {"prompt": "p", "extra_params": "not json"}, {"extra_params"}, id="extra_params that is not an object"
    ),
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
    # Reference images (§3)
    pytest.param(
        {"prompt": "p", "reference_images": [image(CAT, "asset")] * 5},
        {"reference_images"},
        id="five reference images",
    ),
    pytest.param(
        {"prompt": "p", "reference_images": [image(LAST, "last_frame")]},
        {"reference_images"},
        id="a last_frame alone",
    ),
    pytest.param(
        {"prompt": "p", "reference_images": [image(FIRST, "first_frame"), image(LAST, "first_frame")]},
        {"reference_images"},
        id="two first_frames",
    ),
    pytest.param(
        {
            "prompt": "p",
            "reference_images": [
                image(FIRST, "first_frame"),
                image(LAST, "last_frame"),
                image(LAST, "last_frame"),
            ],
        },
        {"reference_images"},
        id="two last_frames",
    ),
    pytest.param(
        {"prompt": "p", "reference_images": [image(FIRST, "first_frame"), image(CAT, "asset")]},
        {"reference_images"},
        id="a first_frame mixed with an asset",
    ),
    pytest.param(
        {"prompt": "p", "reference_images": [image(FIRST, "first_frame"), image(CAT)]},
        {"reference_images"},
        id="a first_frame mixed with an image whose role defaults to asset",
    ),
    pytest.param(
        {"prompt": "p", "reference_images": [image(CAT, "style")]},
        {"reference_images[0].reference_type"},
        id="an unknown reference_type",
    ),
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
    pytest.param(
        {"prompt": "p", "reference_images": [image("ftp://example.com/cat.png")]},
        {"reference_images[0].url"},
        id="an ftp image URL",
    ),
    pytest.param(
        {"prompt": "p", "reference_images": [image("/home/me/cat.png")]},
        {"reference_images[0].url"},
        id="a bare local file path as image URL",
    ),
    pytest.param(
        {"prompt": "p", "reference_images": [image("cat.png")]},
        {"reference_images[0].url"},
        id="a relative file name as image URL",
    ),
    pytest.param(
        {"prompt": "p", "reference_images": [{"reference_type": "asset"}]},
        {"reference_images[0].url"},
        id="a reference image without url",
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
    # Other extension parameters (§2.2)
    pytest.param(
        {"prompt": "p", "extra_params": {"cfg_scale": -0.1}}, {"extra_params.cfg_scale"}, id="cfg_scale -0.1"
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"cfg_scale": 1.1}}, {"extra_params.cfg_scale"}, id="cfg_scale 1.1"
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"cfg_scale": True}},
        {"extra_params.cfg_scale"},
        id="cfg_scale true is not a number",
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"negative_prompt": "n" * 2501}},
        {"extra_params.negative_prompt"},
        id="a negative_prompt of 2501 characters",
    ),
    pytest.param(
        {"prompt": "p", "extra_params": {"multi_shot": "yes", "shot_type": "intelligence"}},
        {"extra_params.multi_shot"},
        id="multi_shot yes is not a boolean",
    ),
]


@pytest.mark.parametrize(("args", "paths"), INVALID)
def test_invalid_arguments_report_exactly_these_paths(args: dict[str, Any], paths: set[str]) -> None:
    exc = problems_of(args)
    assert {p.path for p in exc.problems} == paths
    for p in exc.problems:
        assert p.problem.strip()
        assert p.fix.strip()
        for leak in LEAKS:
            assert leak not in p.problem
            assert leak not in p.fix
    assert str(exc).startswith("Not submitted — nothing was sent")


MESSAGES = [
    pytest.param(
        {"prompt": "p", "negative_prompt": "blurry"},
        "negative_prompt",
        ["extra_params.negative_prompt"],
        id="a misplaced negative_prompt points to extra_params.negative_prompt",
    ),
    pytest.param(
        {"duration": 8, "extra_params": storyboard(shots(2, 3))},
        MP,
        ["5", "8"],
        id="a wrong shot sum names both the sum and the duration",
    ),
    pytest.param(
        {"duration": 5, "extra_params": {"multi_shot": True, "multi_prompt": shots(2, 3)}},
        "extra_params.shot_type",
        ["customize", "intelligence"],
        id="a missing shot_type names both choices",
    ),
    pytest.param(
        {"prompt": "p", "resolution": "4K"},
        "resolution",
        ["720P", "1080P", "4K"],
        id="a bad enum value names the allowed values and what was given",
    ),
    pytest.param(
        {"prompt": "p" * 2501},
        "prompt",
        ["2501", "2500"],
        id="a long prompt names its length and the limit",
    ),
    pytest.param(
        {
            "duration": 5,
            "extra_params": storyboard(
                [{"index": 1, "prompt": "a", "duration": 2}, {"index": 3, "prompt": "b", "duration": 3}]
            ),
        },
        f"{MP}[1].index",
        ["3", "2"],
        id="a wrong index names the index given and the one expected",
    ),
]


@pytest.mark.parametrize(("args", "path", "words"), MESSAGES)
def test_problems_say_what_to_do(args: dict[str, Any], path: str, words: list[str]) -> None:
    [problem] = [p for p in problems_of(args).problems if p.path == path]
    text = f"{problem.problem} {problem.fix}"
    for word in words:
        assert re.search(rf"(?<![\w.]){re.escape(word)}(?![\w])", text), (word, text)


# ---------------------------------------------------------------------------------------------------
# ALL AT ONCE: independent problems are reported together


def test_every_independent_problem_is_reported_in_one_answer() -> None:
    args = {
        "model": "kling/kling-v2",  # field: other model
        "resolution": "4K",  # field: enum
        "aspect_ratio": "4:3",  # field: enum
        "seed": 42,  # field: unknown
        "duration": 8,
        "reference_images": [image("ftp://example.com/a.png", "first_frame")],  # field: url
        "extra_params": {
            "multi_shot": True,
            "shot_type": "customize",
            "multi_prompt": [
                {"index": 1, "prompt": "a", "duration": 2},
                {"index": 3, "prompt": "b", "duration": 3},  # cross-field: index out of order
            ],  # cross-field: 2 + 3 ≠ 8
            "cfg_scale": 1.1,  # field: range
            "camera_control": camera(zoom=5, pan=5),  # cross-field: two non-zero values
        },
    }
    exc = problems_of(args)
    assert {p.path for p in exc.problems} == {
        "model",
        "resolution",
        "aspect_ratio",
        "seed",
        "reference_images[0].url",
        f"{MP}[1].index",
        MP,
        "extra_params.cfg_scale",
        CAM,
    }
    assert len(exc.problems) == 9
    message = str(exc)
    assert message.startswith("Not submitted — nothing was sent")
    numbered = re.findall(r"^(\d+)\. ", message, flags=re.MULTILINE)
    assert numbered == [str(n) for n in range(1, 10)]
    for leak in LEAKS:
        assert leak not in message


# ---------------------------------------------------------------------------------------------------
# COST (§8): credits per second × seconds

COSTS = [
    pytest.param({"prompt": "p"}, 120, 5, id="720P without audio, default 5 s"),
    pytest.param(
        {"prompt": "p", "generate_audio": True, "duration": 10}, 170, 10, id="720P with audio, 10 s"
    ),
    pytest.param(
        {"prompt": "p", "resolution": "1080P"},
        160,
        5,
        id="1080P without audio, 5 s (the documented 800 credits)",
    ),
    pytest.param(
        {"prompt": "p", "resolution": "1080P", "generate_audio": True, "duration": 15},
        220,
        15,
        id="1080P with audio, 15 s",
    ),
    pytest.param(
        {"prompt": "p", "resolution": "1080p", "duration": 3},
        160,
        3,
        id="lowercase 1080p is priced as 1080P, 3 s",
    ),
    pytest.param(
        {"extra_params": storyboard(shots(2, 3, 4))},
        120,
        9,
        id="a storyboard without duration is priced on the sum of its shots",
    ),
    pytest.param(
        {
            "resolution": "1080P",
            "generate_audio": True,
            "duration": 8,
            "extra_params": storyboard(shots(2, 3, 3)),
        },
        220,
        8,
        id="a storyboard with duration is priced on that duration",
    ),
    pytest.param(
        {"prompt": "p", "duration": 10, "extra_params": {"multi_shot": True, "shot_type": "intelligence"}},
        120,
        10,
        id="intelligence mode is priced on duration",
    ),
    pytest.param(
        {"prompt": "p", "resolution": None, "generate_audio": None, "duration": None},
        120,
        5,
        id="explicit nulls are priced as the defaults",
    ),
]


@pytest.mark.parametrize(("args", "per_second", "seconds"), COSTS)
def test_cost_is_rate_times_seconds(args: dict[str, Any], per_second: int, seconds: int) -> None:
    cost = estimate_cost(check_generate_arguments(args))
    assert (cost.credits_per_second, cost.seconds, cost.credits) == (
        per_second,
        seconds,
        per_second * seconds,
    )
    assert cost.basis


# ---------------------------------------------------------------------------------------------------
# PROPERTIES

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


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

BASES: list[dict[str, Any]] = [
    {"prompt": "a red fox"},
    DOCUMENTED_EXAMPLE,
    {"prompt": "morph", "reference_images": [image(FIRST, "first_frame"), image(LAST, "last_frame")]},
    {"prompt": "p", "extra_params": {"camera_control": camera(zoom=5), "cfg_scale": 0.5}},
    {"prompt": "p", "duration": 10, "extra_params": {"multi_shot": True, "shot_type": "intelligence"}},
]


@PROPERTY_SETTINGS
@given(
    base=st.sampled_from(BASES),
    field=st.sampled_from([*GenerateVideoArguments.model_fields, "seed", "negative_prompt"]),
    value=junk,
)
def test_junk_in_any_top_level_field_is_refused_in_plain_words_never_a_crash(
    base: dict[str, Any], field: str, value: Any
) -> None:
    result = outcome({**base, field: value})
    if isinstance(result, InvalidArguments):
        assert result.problems
        assert not [leak for leak in LEAKS if leak in str(result)]
    else:
        body = result.to_body()
        assert body["model"] == MODEL or field == "model"
        json.dumps(body)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000, id="a deeply nested JSON array"),
        pytest.param('{"a":' * 100_000, id="a deeply nested JSON object"),
    ],
)
def test_deeply_nested_json_text_is_refused_not_a_crash(text: str) -> None:
    exc = problems_of({"prompt": "p", "extra_params": text})
    assert {p.path for p in exc.problems} == {"extra_params"}


def test_nan_and_infinity_are_refused() -> None:
    exc = problems_of(
        {"prompt": "p", "extra_params": {"cfg_scale": math.nan, "camera_control": camera(zoom=math.inf)}}
    )
    assert {p.path for p in exc.problems} == {"extra_params.cfg_scale", f"{CAM}.zoom"}


def test_a_blank_shot_prompt_is_refused() -> None:
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


def test_explicit_nulls_use_the_defaults_and_send_nothing() -> None:
    args = check_generate_arguments(
        {"prompt": "p", "resolution": None, "generate_audio": None, "extra_params": {"negative_prompt": None}}
    )
    assert args.to_body() == {"model": "kling/kling-v3", "prompt": "p"}
    assert estimate_cost(args).credits == 120 * 5
