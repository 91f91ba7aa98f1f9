"""The kling/kling-v3 request (the default model), as a specification (shared/imini-api.md §2–3).

Every row of these tables is one rule of `POST /v1/videos/generate` for `kling/kling-v3`:

* VALID: tool arguments → the exact JSON body imini receives (`to_body()`).
* INVALID: tool arguments → the exact set of problem paths reported (nothing is sent).
* MESSAGES: a problem names what was given, the limit and the way out.
* ALL AT ONCE: independent problems are all reported in one answer, numbered.

Its storyboard and camera rules are in test_kling_rules.py, its prices in test_pricing.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from imini_mcp.request import check_generate_arguments
from tests.conftest import DOC_EXAMPLE as DOCUMENTED_EXAMPLE  # imini-api.md §2.3, verbatim
from tests.request.builders import (
    CAM,
    CAT,
    DATA_URI,
    FIRST,
    LAST,
    LEAKS,
    MP,
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
    pytest.param(
        DOCUMENTED_EXAMPLE,
        DOCUMENTED_EXAMPLE,
        id="the documented example body (§2.3) is sent unchanged",
    ),
    pytest.param(
        {"prompt": "a red fox in snow"},
        {"model": V3, "prompt": "a red fox in snow"},
        id="text-to-video needs only a prompt; defaults are not sent",
    ),
    pytest.param(
        {"model": V3, "prompt": "a red fox"},
        {"model": V3, "prompt": "a red fox"},
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
            "model": V3,
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
        {"model": V3, "prompt": "a red fox", "resolution": "1080P"},
        id="lowercase 1080p is sent as the documented 1080P",
    ),
    pytest.param(
        {"prompt": "a red fox", "aspect_ratio": "9:16", "generate_audio": True},
        {"model": V3, "prompt": "a red fox", "aspect_ratio": "9:16", "generate_audio": True},
        id="portrait with audio",
    ),
    pytest.param(
        {"prompt": "a red fox", "aspect_ratio": "1:1"},
        {"model": V3, "prompt": "a red fox", "aspect_ratio": "1:1"},
        id="square aspect ratio",
    ),
    pytest.param(
        {"prompt": "a red fox", "duration": 3},
        {"model": V3, "prompt": "a red fox", "duration": 3},
        id="duration 3 is the shortest video",
    ),
    pytest.param(
        {"prompt": "a red fox", "duration": 15},
        {"model": V3, "prompt": "a red fox", "duration": 15},
        id="duration 15 is the longest video",
    ),
    pytest.param(
        {"prompt": "p" * 2500},
        {"model": V3, "prompt": "p" * 2500},
        id="a prompt of exactly 2500 characters",
    ),
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"negative_prompt": "n" * 2500}},
        {"model": V3, "prompt": "a red fox", "extra_params": {"negative_prompt": "n" * 2500}},
        id="a negative_prompt of exactly 2500 characters",
    ),
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"cfg_scale": 0}},
        {"model": V3, "prompt": "a red fox", "extra_params": {"cfg_scale": 0}},
        id="cfg_scale 0 is the lower bound",
    ),
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"cfg_scale": 1}},
        {"model": V3, "prompt": "a red fox", "extra_params": {"cfg_scale": 1}},
        id="cfg_scale 1 is the upper bound",
    ),
    # Reference images (§3)
    pytest.param(
        {"prompt": "the fox runs", "reference_images": [image(FIRST, "first_frame")]},
        {"model": V3, "prompt": "the fox runs", "reference_images": [image(FIRST, "first_frame")]},
        id="image-to-video with one first_frame",
    ),
    pytest.param(
        {"prompt": "morph", "reference_images": [image(FIRST, "first_frame"), image(LAST, "last_frame")]},
        {
            "model": V3,
            "prompt": "morph",
            "reference_images": [image(FIRST, "first_frame"), image(LAST, "last_frame")],
        },
        id="first_frame plus last_frame interpolates between them",
    ),
    pytest.param(
        {"prompt": "morph", "reference_images": [image(LAST, "last_frame"), image(FIRST, "first_frame")]},
        {
            "model": V3,
            "prompt": "morph",
            "reference_images": [image(LAST, "last_frame"), image(FIRST, "first_frame")],
        },
        id="frame images may come in any order and are sent in the order given",
    ),
    pytest.param(
        {"prompt": "the cat", "reference_images": [image(CAT)]},
        {"model": V3, "prompt": "the cat", "reference_images": [image(CAT, "asset")]},
        id="a reference image without reference_type is sent as asset",
    ),
    pytest.param(
        {"prompt": "four cats", "reference_images": [image(CAT, "asset")] * 3 + [image(DATA_URI)]},
        {
            "model": V3,
            "prompt": "four cats",
            "reference_images": [image(CAT, "asset")] * 3 + [image(DATA_URI, "asset")],
        },
        id="four asset images (the most), one of them a data URI",
    ),
    pytest.param(
        {"prompt": "fox", "reference_images": [image("HTTPS://EXAMPLE.COM/FOX.JPG", "first_frame")]},
        {
            "model": V3,
            "prompt": "fox",
            "reference_images": [image("HTTPS://EXAMPLE.COM/FOX.JPG", "first_frame")],
        },
        id="an http(s) URL in any case is accepted and sent unchanged",
    ),
    pytest.param(
        {"prompt": "a red fox", "reference_images": []},
        {"model": V3, "prompt": "a red fox", "reference_images": []},
        id="an empty reference_images list is text-to-video",
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
        {"model": V3, "prompt": "a red fox"},
        id="explicit nulls are treated as not set",
    ),
    pytest.param(
        {
            "prompt": "a red fox",
            "extra_params": {"cfg_scale": 0.5, "negative_prompt": None, "camera_control": None},
        },
        {"model": V3, "prompt": "a red fox", "extra_params": {"cfg_scale": 0.5}},
        id="explicit nulls inside extra_params are not sent",
    ),
    pytest.param(
        {"model": None, "prompt": "a red fox"},
        {"model": V3, "prompt": "a red fox"},
        id="model null is treated as omitted and the model is added",
    ),
    pytest.param(
        {"prompt": "a red fox", "dry_run": True, "wait_seconds": 30, "idempotency_key": "job-42"},
        {"model": V3, "prompt": "a red fox"},
        id="dry_run, wait_seconds and idempotency_key are never sent to imini",
    ),
    pytest.param(
        {"prompt": "a red fox", "dry_run": False, "wait_seconds": 0, "idempotency_key": None},
        {"model": V3, "prompt": "a red fox"},
        id="this server's options are not sent even at their defaults",
    ),
    pytest.param(
        {"extra_params": json.dumps(storyboard(shots(2, 3))), "duration": 5},
        {"model": V3, "duration": 5, "extra_params": storyboard(sent_shots(2, 3))},
        id="extra_params sent as JSON text is accepted",
    ),
    pytest.param(
        {"prompt": "the fox runs", "reference_images": json.dumps([image(FIRST, "first_frame")])},
        {"model": V3, "prompt": "the fox runs", "reference_images": [image(FIRST, "first_frame")]},
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
        {"model": V3, "duration": 5, "extra_params": storyboard(sent_shots(2, 3))},
        id="multi_prompt sent as JSON text is accepted",
    ),
    pytest.param(
        {"prompt": "a red fox", "extra_params": {"camera_control": json.dumps(camera(zoom=5))}},
        {"model": V3, "prompt": "a red fox", "extra_params": {"camera_control": camera(zoom=5)}},
        id="camera_control sent as JSON text is accepted",
    ),
]


def test_the_documented_example_keeps_its_key_order() -> None:
    """imini's documented example comes out byte for byte, keys in its order."""
    sent = check_generate_arguments(DOCUMENTED_EXAMPLE).to_body()
    assert json.dumps(sent) == json.dumps(DOCUMENTED_EXAMPLE)


def test_model_is_added_first_when_omitted() -> None:
    """The body always names its model, first."""
    sent = check_generate_arguments({"prompt": "a red fox", "duration": 5}).to_body()
    assert next(iter(sent)) == "model"


def test_validation_does_not_change_the_callers_arguments() -> None:
    """Checking the arguments leaves the caller's dict as it was."""
    args = {"extra_params": storyboard(shots(2, "3"))}
    before = json.dumps(args)
    check_generate_arguments(args)
    assert json.dumps(args) == before


# ---------------------------------------------------------------------------------------------------
# INVALID: arguments → exactly these problem paths, nothing sent

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
    # Image URLs
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


# ---------------------------------------------------------------------------------------------------
# MESSAGES: a problem says what was given and what to do

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
    """The problem at `path` states these words (what was given, the limit, the way out)."""
    [problem] = [p for p in problems_of(args).problems if p.path == path]
    text = f"{problem.problem} {problem.fix}"
    for word in words:
        assert re.search(rf"(?<![\w.]){re.escape(word)}(?![\w])", text), (word, text)


# ---------------------------------------------------------------------------------------------------
# ALL AT ONCE: independent problems are reported together


def test_every_independent_problem_is_reported_in_one_answer() -> None:
    """Field, enum, unknown-key and cross-field problems all come back in one numbered answer."""
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
