"""Every catalogued model's request rules, as a specification (shared/imini-api.md §7, prices §8).

* VALID: tool arguments for a model → the exact JSON body imini receives (`to_body()`).
* INVALID: tool arguments → the exact set of problem paths reported (nothing is sent).
* NOT TAKEN: every field a model does not take is refused with the model named, never dropped.
* COST: the indicative estimate per model, rough where imini publishes no per-second price.
* SCHEMA: one flat published schema, no nested oneOf/anyOf, enums that are the union of the models.
* SIMULATOR: every body the package would send is accepted by the independent simulated imini.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imini_mcp.request import (
    GenerateVideoArguments,
    InvalidArguments,
    arguments_schema,
    check_generate_arguments,
    estimate_cost,
    request_notes,
)
from imini_mcp.request.catalog import (
    ALL_ASPECT_RATIOS,
    BODY_FIELDS,
    CATALOG,
    DEFAULT_MODEL,
    EXTRA_PARAMS,
    MODEL_IDS,
)
from imini_mcp.simulator import MODELS as SIMULATED_MODELS
from imini_mcp.simulator import validate_generate_request
from tests.test_models import PROPERTY_SETTINGS, junk, outcome

V3 = "kling/kling-v3"
OMNI = "kling/kling-v3-omni"
MOTION = "kling/kling-v3-motion-control"
SEED = "doubao/seedance-2.0"
FAST = "doubao/seedance-2.0-fast"
HORSE = "dashscope/happyhorse-1.0"

CAT = "https://example.com/cat.png"
DOG = "https://example.com/dog.jpg"
FIRST = "https://example.com/first.png"
LAST = "https://example.com/last.png"
VIDEO = "https://example.com/dance.mp4"
VIDEO2 = "https://example.com/walk.mov"
AUDIO = "https://example.com/beat.mp3"
LEAKS = ("pydantic", "input_value", "https://errors")


def image(url: str, role: str | None = None) -> dict[str, Any]:
    return {"url": url} if role is None else {"url": url, "reference_type": role}


def assets(count: int) -> list[dict[str, Any]]:
    return [image(f"https://example.com/a{n}.png") for n in range(1, count + 1)]


def sent_assets(count: int) -> list[dict[str, Any]]:
    return [image(f"https://example.com/a{n}.png", "asset") for n in range(1, count + 1)]


def video(url: str = VIDEO, refer_type: str | None = None) -> dict[str, Any]:
    return {"url": url} if refer_type is None else {"url": url, "refer_type": refer_type}


def storyboard(*durations: int) -> dict[str, Any]:
    return {
        "multi_shot": True,
        "shot_type": "customize",
        "multi_prompt": [{"prompt": f"shot {n}", "duration": d} for n, d in enumerate(durations, start=1)],
    }


def sent_storyboard(*durations: int) -> dict[str, Any]:
    return {
        "multi_shot": True,
        "shot_type": "customize",
        "multi_prompt": [
            {"index": n, "prompt": f"shot {n}", "duration": str(d)} for n, d in enumerate(durations, start=1)
        ],
    }


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


def problems_of(args: dict[str, Any]) -> InvalidArguments:
    with pytest.raises(InvalidArguments) as caught:
        check_generate_arguments(args)
    return caught.value


# ---------------------------------------------------------------------------------------------------
# VALID: arguments → the exact body sent to imini

VALID = [
    # kling/kling-v3-omni
    pytest.param(
        {"model": OMNI, "prompt": "a fox"}, {"model": OMNI, "prompt": "a fox"}, id="omni text-to-video"
    ),
    pytest.param(
        {
            "model": OMNI,
            "prompt": "<<<image_1>>> dances like the person in <<<video_1>>>",
            "resolution": "1080p",
            "duration": 8,
            "reference_images": [image(CAT)],
            "reference_videos": [video(refer_type="feature")],
        },
        {
            "model": OMNI,
            "prompt": "<<<image_1>>> dances like the person in <<<video_1>>>",
            "resolution": "1080P",
            "duration": 8,
            "reference_images": [image(CAT, "asset")],
            "reference_videos": [video(refer_type="feature")],
        },
        id="omni feature video with an asset, references in the prompt",
    ),
    pytest.param(
        {"model": OMNI, "prompt": "make it night", "reference_videos": [video(refer_type="base")]},
        {"model": OMNI, "prompt": "make it night", "reference_videos": [video(refer_type="base")]},
        id="omni video edit (base) without duration",
    ),
    pytest.param(
        {
            "model": OMNI,
            "prompt": "dress <<<video_1>>>'s dancer like <<<image_2>>>",
            "reference_images": assets(4),
            "reference_videos": [video(refer_type="base")],
            "generate_audio": False,
        },
        {
            "model": OMNI,
            "prompt": "dress <<<video_1>>>'s dancer like <<<image_2>>>",
            "generate_audio": False,
            "reference_images": sent_assets(4),
            "reference_videos": [video(refer_type="base")],
        },
        id="omni edit with 4 assets (the most) and audio explicitly off",
    ),
    pytest.param(
        {"model": OMNI, "extra_params": storyboard(2, 3)},
        {"model": OMNI, "duration": 5, "extra_params": sent_storyboard(2, 3)},
        id="omni custom storyboard: duration computed, shots numbered",
    ),
    pytest.param(
        {
            "model": OMNI,
            "prompt": "morph",
            "generate_audio": True,
            "aspect_ratio": "1:1",
            "reference_images": [image(FIRST, "first_frame"), image(LAST, "last_frame")],
        },
        {
            "model": OMNI,
            "prompt": "morph",
            "aspect_ratio": "1:1",
            "generate_audio": True,
            "reference_images": [image(FIRST, "first_frame"), image(LAST, "last_frame")],
        },
        id="omni first and last frame with audio",
    ),
    # kling/kling-v3-motion-control
    pytest.param(
        motion(resolution="1080p"),
        {
            "model": MOTION,
            "prompt": "the fox dances",
            "resolution": "1080P",
            "reference_images": [image(CAT)],
            "reference_videos": [video()],
            "extra_params": {"character_orientation": "video"},
        },
        id="motion control: the image is sent as {url} only",
    ),
    pytest.param(
        motion(generate_audio=True, extra_params={"character_orientation": "image"}),
        {
            "model": MOTION,
            "prompt": "the fox dances",
            "generate_audio": True,
            "reference_images": [image(CAT)],
            "reference_videos": [video()],
            "extra_params": {"character_orientation": "image"},
        },
        id="motion control with audio, keeping the image's orientation",
    ),
    # doubao/seedance-2.0 and -fast
    pytest.param(
        {"model": SEED, "prompt": "a fox"}, {"model": SEED, "prompt": "a fox"}, id="seedance defaults"
    ),
    pytest.param(
        {
            "model": SEED,
            "prompt": "a fox",
            "resolution": "480P",
            "aspect_ratio": "21:9",
            "duration": 4,
            "generate_audio": False,
        },
        {
            "model": SEED,
            "prompt": "a fox",
            "resolution": "480P",
            "aspect_ratio": "21:9",
            "duration": 4,
            "generate_audio": False,
        },
        id="seedance 480P 21:9, 4 s (the shortest), silent",
    ),
    pytest.param(
        {"model": SEED, "prompt": "p", "aspect_ratio": "adaptive", "duration": 15},
        {"model": SEED, "prompt": "p", "aspect_ratio": "adaptive", "duration": 15},
        id="seedance adaptive, 15 s",
    ),
    pytest.param(
        {
            "model": SEED,
            "prompt": "p",
            "reference_images": assets(9),
            "reference_videos": [video(), video(VIDEO2), video()],
            "reference_audios": [{"url": AUDIO}] * 3,
        },
        {
            "model": SEED,
            "prompt": "p",
            "reference_images": sent_assets(9),
            "reference_videos": [video(), video(VIDEO2), video()],
            "reference_audios": [{"url": AUDIO}] * 3,
        },
        id="seedance multimodal: 9 assets, 3 videos, 3 audios (the most)",
    ),
    pytest.param(
        {"model": SEED, "prompt": "p", "reference_videos": [video()], "reference_audios": [{"url": AUDIO}]},
        {"model": SEED, "prompt": "p", "reference_videos": [video()], "reference_audios": [{"url": AUDIO}]},
        id="seedance audio with a video and no image",
    ),
    pytest.param(
        {
            "model": SEED,
            "prompt": "p",
            "reference_images": [image(FIRST, "first_frame"), image(LAST, "last_frame")],
        },
        {
            "model": SEED,
            "prompt": "p",
            "reference_images": [image(FIRST, "first_frame"), image(LAST, "last_frame")],
        },
        id="seedance first and last frame",
    ),
    pytest.param(
        {"model": FAST, "prompt": "a fox", "aspect_ratio": "3:4"},
        {"model": FAST, "prompt": "a fox", "aspect_ratio": "3:4"},
        id="seedance fast takes the same parameters",
    ),
    # dashscope/happyhorse-1.0
    pytest.param(
        {"model": HORSE, "prompt": "p" * 5000, "aspect_ratio": "4:3", "duration": 15, "resolution": "720P"},
        {"model": HORSE, "prompt": "p" * 5000, "resolution": "720P", "aspect_ratio": "4:3", "duration": 15},
        id="happyhorse text-to-video, a 5000-character prompt",
    ),
    pytest.param(
        {
            "model": HORSE,
            "prompt": "it runs",
            "reference_images": [image(FIRST, "first_frame")],
            "duration": 3,
        },
        {
            "model": HORSE,
            "prompt": "it runs",
            "duration": 3,
            "reference_images": [image(FIRST, "first_frame")],
        },
        id="happyhorse image-to-video (no aspect_ratio)",
    ),
    pytest.param(
        {
            "model": HORSE,
            "prompt": " ".join(f"character{n}" for n in range(1, 10)) + " dance together",
            "aspect_ratio": "9:16",
            "reference_images": assets(9),
        },
        {
            "model": HORSE,
            "prompt": " ".join(f"character{n}" for n in range(1, 10)) + " dance together",
            "aspect_ratio": "9:16",
            "reference_images": sent_assets(9),
        },
        id="happyhorse reference-to-video: 9 assets named character1..9",
    ),
    pytest.param(
        {
            "model": HORSE,
            "prompt": "dress character1 in the sweater",
            "reference_images": assets(5),
            "reference_videos": [video()],
            "extra_params": {"audio_setting": "origin"},
        },
        {
            "model": HORSE,
            "prompt": "dress character1 in the sweater",
            "reference_images": sent_assets(5),
            "reference_videos": [video()],
            "extra_params": {"audio_setting": "origin"},
        },
        id="happyhorse video edit: video + 5 assets, original sound",
    ),
    pytest.param(
        {"model": HORSE, "prompt": "make it a watercolour", "reference_videos": [video()]},
        {"model": HORSE, "prompt": "make it a watercolour", "reference_videos": [video()]},
        id="happyhorse video edit without images (style transfer)",
    ),
    pytest.param(
        {"model": HORSE, "prompt": "restyle", "reference_videos": [video(" HTTPS://example.com/dance.mp4 ")]},
        {"model": HORSE, "prompt": "restyle", "reference_videos": [video()]},
        id="a video URL's scheme is sent in lower case, without surrounding spaces",
    ),
]


@pytest.mark.parametrize(("args", "body"), VALID)
def test_valid_arguments_become_this_exact_body(args: dict[str, Any], body: dict[str, Any]) -> None:
    sent = check_generate_arguments(args).to_body()
    assert sent == body
    assert list(sent) == [key for key in BODY_FIELDS if key in sent]  # the documented key order


@pytest.mark.parametrize(("args", "body"), VALID)
def test_the_simulated_imini_accepts_every_body_this_server_sends(
    args: dict[str, Any], body: dict[str, Any]
) -> None:
    assert validate_generate_request(check_generate_arguments(args).to_body()) == []


# ---------------------------------------------------------------------------------------------------
# INVALID: arguments → exactly these problem paths, nothing sent

INVALID = [
    # kling/kling-v3-omni
    pytest.param({"model": OMNI, "prompt": "p", "resolution": "480P"}, {"resolution"}, id="omni 480P"),
    pytest.param({"model": OMNI, "prompt": "p", "aspect_ratio": "4:3"}, {"aspect_ratio"}, id="omni 4:3"),
    pytest.param({"model": OMNI}, {"prompt"}, id="omni without a prompt"),
    pytest.param({"model": OMNI, "prompt": "p" * 2501}, {"prompt"}, id="omni prompt of 2501 characters"),
    pytest.param(
        {"model": OMNI, "prompt": "p", "reference_videos": [video()]},
        {"reference_videos[0].refer_type"},
        id="omni video without refer_type",
    ),
    pytest.param(
        {"model": OMNI, "prompt": "p", "reference_videos": [video(refer_type="style")]},
        {"reference_videos[0].refer_type"},
        id="omni refer_type other than base or feature",
    ),
    pytest.param(
        {"model": OMNI, "prompt": "p", "reference_videos": [video(refer_type="feature")] * 2},
        {"reference_videos"},
        id="omni two videos",
    ),
    pytest.param(
        {"model": OMNI, "prompt": "p", "duration": 5, "reference_videos": [video(refer_type="base")]},
        {"duration"},
        id="omni duration with a base video",
    ),
    pytest.param(
        {
            "model": OMNI,
            "prompt": "p",
            "reference_images": [image(FIRST, "first_frame")],
            "reference_videos": [video(refer_type="base")],
        },
        {"reference_images"},
        id="omni first_frame with a base video",
    ),
    pytest.param(
        {
            "model": OMNI,
            "prompt": "p",
            "reference_images": [image(FIRST, "first_frame")],
            "reference_videos": [video(refer_type="feature")],
        },
        {"reference_images"},
        id="omni first_frame with a feature video",
    ),
    pytest.param(
        {
            "model": OMNI,
            "prompt": "p",
            "generate_audio": True,
            "reference_videos": [video(refer_type="feature")],
        },
        {"generate_audio"},
        id="omni audio with a reference video",
    ),
    pytest.param(
        {"model": OMNI, "reference_videos": [video(refer_type="feature")], "extra_params": storyboard(2, 3)},
        {"extra_params.multi_shot"},
        id="omni storyboard with a reference video",
    ),
    pytest.param(
        {"model": OMNI, "prompt": "<<<image_2>>> waves", "reference_images": [image(CAT)]},
        {"prompt"},
        id="omni <<<image_2>>> with one image",
    ),
    pytest.param(
        {"model": OMNI, "prompt": "like <<<video_1>>>"}, {"prompt"}, id="omni <<<video_1>>> with no video"
    ),
    pytest.param({"model": OMNI, "prompt": "<<<element_1>>> waves"}, {"prompt"}, id="omni <<<element_1>>>"),
    pytest.param(
        {
            "model": OMNI,
            "extra_params": {
                "multi_shot": True,
                "shot_type": "customize",
                "multi_prompt": [{"prompt": "<<<image_1>>> jumps", "duration": 5}],
            },
        },
        {"extra_params.multi_prompt[0].prompt"},
        id="omni <<<image_1>>> in a shot with no image",
    ),
    pytest.param(
        {"model": OMNI, "prompt": "p", "reference_images": assets(5)},
        {"reference_images"},
        id="omni 5 assets",
    ),
    pytest.param(
        {"model": OMNI, "prompt": "p", "reference_videos": [video("data:video/mp4;base64,AAAA", "feature")]},
        {"reference_videos[0].url"},
        id="omni video as a data URI",
    ),
    pytest.param(
        {"model": OMNI, "prompt": "p", "reference_videos": [video("/home/me/clip.mp4", "feature")]},
        {"reference_videos[0].url"},
        id="omni video as a local path",
    ),
    pytest.param(
        {"model": OMNI, "prompt": "p", "extra_params": {"negative_prompt": "blur"}},
        {"extra_params.negative_prompt"},
        id="omni negative_prompt",
    ),
    pytest.param(
        {"model": OMNI, "prompt": "p", "extra_params": {"camera_control": {"type": "down_back"}}},
        {"extra_params.camera_control"},
        id="omni camera_control",
    ),
    # kling/kling-v3-motion-control
    pytest.param(
        {"model": MOTION, "prompt": "dance"},
        {"reference_images", "reference_videos", "extra_params.character_orientation"},
        id="motion control with neither image, video nor orientation",
    ),
    pytest.param(motion(prompt=None), {"prompt"}, id="motion control without a prompt"),
    pytest.param(
        motion(aspect_ratio="16:9", duration=5), {"aspect_ratio", "duration"}, id="motion aspect and duration"
    ),
    pytest.param(
        motion(reference_images=[image(CAT, "asset")]),
        {"reference_images[0].reference_type"},
        id="motion control image with a reference_type",
    ),
    pytest.param(
        motion(reference_images=[image(CAT), image(DOG)]), {"reference_images"}, id="motion two images"
    ),
    pytest.param(
        motion(reference_videos=[video(), video(VIDEO2)]), {"reference_videos"}, id="motion two videos"
    ),
    pytest.param(
        motion(reference_videos=[video(refer_type="base")]),
        {"reference_videos[0].refer_type"},
        id="motion video with a refer_type",
    ),
    pytest.param(
        motion(extra_params={"character_orientation": "side"}),
        {"extra_params.character_orientation"},
        id="motion orientation other than image or video",
    ),
    pytest.param(
        motion(extra_params={"character_orientation": "video", "camera_control": {"type": "down_back"}}),
        {"extra_params.camera_control"},
        id="motion camera_control",
    ),
    pytest.param(motion(resolution="4K"), {"resolution"}, id="motion 4K"),
    # doubao/seedance-2.0 and -fast
    pytest.param({"model": SEED, "prompt": "p", "resolution": "1080P"}, {"resolution"}, id="seedance 1080P"),
    pytest.param(
        {"model": FAST, "prompt": "p", "resolution": "1080P"}, {"resolution"}, id="seedance fast 1080P"
    ),
    pytest.param({"model": SEED, "prompt": "p", "duration": 3}, {"duration"}, id="seedance 3 s is too short"),
    pytest.param({"model": SEED, "prompt": "p", "aspect_ratio": "2:1"}, {"aspect_ratio"}, id="seedance 2:1"),
    pytest.param({"model": SEED}, {"prompt"}, id="seedance without a prompt"),
    pytest.param({"model": SEED, "prompt": "p" * 2501}, {"prompt"}, id="seedance prompt of 2501 characters"),
    pytest.param(
        {"model": SEED, "prompt": "p", "extra_params": {"camera_control": {"type": "down_back"}}},
        {"extra_params.camera_control"},
        id="seedance camera_control",
    ),
    pytest.param(
        {"model": SEED, "prompt": "p", "extra_params": storyboard(2, 3)},
        {"extra_params.multi_shot", "extra_params.shot_type", "extra_params.multi_prompt"},
        id="seedance storyboard keys",
    ),
    pytest.param(
        {"model": SEED, "extra_params": storyboard(2, 3)},
        {"prompt", "extra_params.multi_shot", "extra_params.shot_type", "extra_params.multi_prompt"},
        id="seedance storyboard without a prompt",
    ),
    pytest.param(
        {"model": SEED, "prompt": "p", "reference_images": assets(10)},
        {"reference_images"},
        id="seedance 10 images",
    ),
    pytest.param(
        {"model": SEED, "prompt": "p", "reference_videos": [video()] * 4},
        {"reference_videos"},
        id="seedance 4 videos",
    ),
    pytest.param(
        {
            "model": SEED,
            "prompt": "p",
            "reference_images": [image(CAT)],
            "reference_audios": [{"url": AUDIO}] * 4,
        },
        {"reference_audios"},
        id="seedance 4 audios",
    ),
    pytest.param(
        {"model": SEED, "prompt": "p", "reference_audios": [{"url": AUDIO}]},
        {"reference_audios"},
        id="seedance audio alone",
    ),
    pytest.param(
        {
            "model": SEED,
            "prompt": "p",
            "reference_images": [image(FIRST, "first_frame")],
            "reference_videos": [video()],
        },
        {"reference_images"},
        id="seedance first_frame with a video",
    ),
    pytest.param(
        {
            "model": SEED,
            "prompt": "p",
            "reference_images": [image(FIRST, "first_frame")],
            "reference_audios": [{"url": AUDIO}],
        },
        {"reference_images"},
        id="seedance first_frame with audio",
    ),
    pytest.param(
        {"model": SEED, "prompt": "p", "reference_videos": [video(refer_type="feature")]},
        {"reference_videos[0].refer_type"},
        id="seedance video with a refer_type",
    ),
    pytest.param(
        {
            "model": SEED,
            "prompt": "p",
            "reference_videos": [video()],
            "reference_audios": [{"url": "data:audio/mp3;base64,AA"}],
        },
        {"reference_audios[0].url"},
        id="seedance audio as a data URI",
    ),
    pytest.param(
        {"model": SEED, "prompt": "p", "reference_images": [image(LAST, "last_frame")]},
        {"reference_images"},
        id="seedance last_frame alone",
    ),
    # dashscope/happyhorse-1.0
    pytest.param(
        {"model": HORSE, "prompt": "p", "generate_audio": True},
        {"generate_audio"},
        id="happyhorse generate_audio",
    ),
    pytest.param({"model": HORSE, "prompt": "p", "resolution": "480P"}, {"resolution"}, id="happyhorse 480P"),
    pytest.param(
        {"model": HORSE, "prompt": "p", "aspect_ratio": "21:9"}, {"aspect_ratio"}, id="happyhorse 21:9"
    ),
    pytest.param(
        {"model": HORSE, "prompt": "p" * 5001}, {"prompt"}, id="happyhorse prompt of 5001 characters"
    ),
    pytest.param(
        {
            "model": HORSE,
            "prompt": "p",
            "reference_images": [image(FIRST, "first_frame"), image(LAST, "last_frame")],
        },
        {"reference_images[1].reference_type"},
        id="happyhorse last_frame",
    ),
    pytest.param(
        {
            "model": HORSE,
            "prompt": "p",
            "aspect_ratio": "16:9",
            "reference_images": [image(FIRST, "first_frame")],
        },
        {"aspect_ratio"},
        id="happyhorse aspect_ratio in image-to-video",
    ),
    pytest.param(
        {"model": HORSE, "prompt": "p", "aspect_ratio": "16:9", "duration": 5, "reference_videos": [video()]},
        {"aspect_ratio", "duration"},
        id="happyhorse aspect_ratio and duration in video edit",
    ),
    pytest.param(
        {"model": HORSE, "prompt": "p", "reference_images": assets(6), "reference_videos": [video()]},
        {"reference_images"},
        id="happyhorse video edit with 6 images",
    ),
    pytest.param(
        {"model": HORSE, "prompt": "p", "reference_videos": [video()] * 2},
        {"reference_videos"},
        id="happyhorse 2 videos",
    ),
    pytest.param(
        {"model": HORSE, "prompt": "p", "extra_params": {"audio_setting": "auto"}},
        {"extra_params.audio_setting"},
        id="happyhorse audio_setting without a video",
    ),
    pytest.param(
        {
            "model": HORSE,
            "prompt": "p",
            "reference_videos": [video()],
            "extra_params": {"audio_setting": "loud"},
        },
        {"extra_params.audio_setting"},
        id="happyhorse audio_setting other than auto or origin",
    ),
    pytest.param(
        {
            "model": HORSE,
            "prompt": "p",
            "reference_images": [image(FIRST, "first_frame")],
            "reference_videos": [video()],
        },
        {"reference_images"},
        id="happyhorse first_frame with a video",
    ),
    pytest.param(
        {"model": HORSE, "prompt": "character1 meets character3", "reference_images": assets(2)},
        {"prompt"},
        id="happyhorse character3 with two images",
    ),
    pytest.param(
        {"model": HORSE, "prompt": "p", "reference_images": assets(10)},
        {"reference_images"},
        id="happyhorse 10 images",
    ),
    pytest.param(
        {"model": HORSE, "prompt": "p", "reference_images": [image(CAT), image(FIRST, "first_frame")]},
        {"reference_images"},
        id="happyhorse first_frame mixed with an asset",
    ),
    pytest.param(
        {"model": SEED, "prompt": "p", "extra_params": "storyboard"},
        {"extra_params"},
        id="seedance extra_params that is not even an object",
    ),
    # The model itself
    pytest.param({"model": "doubao/seedance-2", "prompt": "p"}, {"model"}, id="a misspelt model"),
    pytest.param({"model": 3, "prompt": "p"}, {"model"}, id="a model that is not a string"),
]


@pytest.mark.parametrize(("args", "paths"), INVALID)
def test_invalid_arguments_report_exactly_these_paths(args: dict[str, Any], paths: set[str]) -> None:
    exc = problems_of(args)
    assert {p.path for p in exc.problems} == paths
    for p in exc.problems:
        assert p.problem.strip()
        assert p.fix.strip()
        for leak in LEAKS:
            assert leak not in str(p)
    assert str(exc).startswith("Not submitted — nothing was sent")


def test_every_problem_of_another_model_comes_at_once() -> None:
    exc = problems_of(
        {
            "model": SEED,
            "resolution": "1080P",
            "duration": 3,
            "reference_images": [image(FIRST, "first_frame")],
            "reference_audios": [{"url": AUDIO}],
            "extra_params": {"camera_control": {"type": "simple", "config": {"zoom": 50}}},
        }
    )
    assert {p.path for p in exc.problems} == {
        "prompt",
        "resolution",
        "duration",
        "reference_images",
        "extra_params.camera_control",
    }
    # A field the model does not take is ONE problem, not also every flaw inside it.
    assert len(exc.problems) == 5


def test_seedance_refuses_a_body_over_64_mb_together_with_the_other_problems() -> None:
    inline = "data:image/png;base64," + "A" * (65 * 1024 * 1024)
    exc = problems_of({"model": SEED, "resolution": "1080P", "reference_images": [image(inline)]})
    assert {p.path for p in exc.problems} == {"prompt", "resolution", "reference_images"}
    [size] = [p for p in exc.problems if p.path == "reference_images"]
    assert "64 MB" in size.problem
    assert check_generate_arguments({"model": V3, "prompt": "p", "reference_images": [image(inline)]})


@pytest.mark.parametrize("broken", [{}, {"reference_type": "asset"}, {"url": 5}])
def test_seedance_sizes_the_body_even_when_an_image_is_broken(broken: dict[str, object]) -> None:
    # Found by the fuzz test: an image without a usable url crashed the body-size rule.
    exc = problems_of({"model": SEED, "prompt": "a fox", "reference_images": [broken]})
    assert [p.path for p in exc.problems] == ["reference_images[0].url"]


def test_a_misspelt_model_is_checked_as_the_closest_one() -> None:
    exc = problems_of({"model": "doubao/seedance-2", "prompt": "p", "resolution": "1080P"})
    by_path = {p.path: p for p in exc.problems}
    assert "did you mean doubao/seedance-2.0?" in by_path["model"].fix
    assert "doubao/seedance-2.0" in by_path["resolution"].problem


# ---------------------------------------------------------------------------------------------------
# NOT TAKEN: a field a model does not take is an error naming the model, never silently dropped

SAMPLES: dict[str, Any] = {
    "aspect_ratio": "16:9",
    "duration": 5,
    "generate_audio": False,
    "reference_videos": [video()],
    "reference_audios": [{"url": AUDIO}],
    "multi_shot": False,
    "shot_type": "intelligence",
    "multi_prompt": [{"prompt": "a shot", "duration": 5}],
    "negative_prompt": "blur",
    "cfg_scale": 0.5,
    "camera_control": {"type": "down_back"},
    "character_orientation": "video",
    "audio_setting": "auto",
}
BASES: dict[str, dict[str, Any]] = {model: {"model": model, "prompt": "p"} for model in MODEL_IDS} | {
    MOTION: motion()
}
NOT_TAKEN = [
    pytest.param(model, name, id=f"{model} has no {name}")
    for model, spec in CATALOG.items()
    for name in SAMPLES
    if not spec.takes(name)
]


@pytest.mark.parametrize(("model", "name"), NOT_TAKEN)
def test_a_field_the_model_does_not_take_is_refused_naming_the_model(model: str, name: str) -> None:
    args = json.loads(json.dumps(BASES[model]))
    path = name
    if name in EXTRA_PARAMS:
        args.setdefault("extra_params", {})[name] = SAMPLES[name]
        path = f"extra_params.{name}"
    else:
        args[name] = SAMPLES[name]
    [problem] = problems_of(args).problems
    assert problem.path == path
    assert problem.problem == f"{model} has no `{path}`."
    assert problem.fix.startswith("remove it")


def test_the_documented_example_of_a_refused_field_reads_as_promised() -> None:
    exc = problems_of(
        {"model": SEED, "prompt": "p", "extra_params": {"camera_control": {"type": "down_back"}}}
    )
    assert str(exc).splitlines()[1] == (
        "1. extra_params.camera_control: doubao/seedance-2.0 has no `extra_params.camera_control`. "
        "Fix: remove it (describe the camera move in the prompt), or use a model that takes it: kling/kling-v3."
    )


def test_every_field_of_the_schema_is_taken_by_some_model() -> None:
    for name in [*BODY_FIELDS, *EXTRA_PARAMS]:
        assert any(spec.takes(name) for spec in CATALOG.values()), name


# ---------------------------------------------------------------------------------------------------
# COST (§8): per-second rate × seconds, per model; rough where no per-second price is published

COSTS = [
    pytest.param({"model": OMNI, "prompt": "p"}, 120, 5, False, id="omni 720P silent"),
    pytest.param(
        {"model": OMNI, "prompt": "p", "resolution": "1080P", "generate_audio": True, "duration": 8},
        200,
        8,
        False,
        id="omni 1080P with audio",
    ),
    pytest.param(
        {
            "model": OMNI,
            "prompt": "p",
            "resolution": "1080P",
            "duration": 10,
            "reference_videos": [video(refer_type="feature")],
        },
        220,
        10,
        False,
        id="omni 1080P with a feature video",
    ),
    pytest.param(
        {"model": OMNI, "prompt": "p", "reference_videos": [video(refer_type="base")]},
        170,
        5,
        True,
        id="omni edit: the video's length, assumed",
    ),
    pytest.param(
        {"model": OMNI, "extra_params": storyboard(3, 4)}, 120, 7, False, id="omni storyboard on its sum"
    ),
    pytest.param(motion(), 220, 5, True, id="motion control: rule of thumb, video length assumed"),
    pytest.param(motion(resolution="1080P"), 220, 5, True, id="motion control 1080P"),
    pytest.param({"model": SEED, "prompt": "p"}, 200, 5, False, id="seedance 720P with audio by default"),
    pytest.param(
        {"model": SEED, "prompt": "p", "resolution": "480P", "duration": 4}, 100, 4, False, id="seedance 480P"
    ),
    pytest.param(
        {"model": SEED, "prompt": "p", "reference_videos": [video()]},
        200,
        5,
        True,
        id="seedance with a video is rough",
    ),
    pytest.param({"model": FAST, "prompt": "p", "duration": 10}, 160, 10, False, id="seedance fast 720P"),
    pytest.param({"model": FAST, "prompt": "p", "resolution": "480P"}, 80, 5, False, id="seedance fast 480P"),
    pytest.param({"model": HORSE, "prompt": "p"}, 300, 5, True, id="happyhorse 1080P by default, rough"),
    pytest.param({"model": HORSE, "prompt": "p", "duration": 10}, 300, 10, True, id="happyhorse 10 s"),
    pytest.param(
        {"model": HORSE, "prompt": "p", "reference_videos": [video()]}, 300, 5, True, id="happyhorse edit"
    ),
]


@pytest.mark.parametrize(("args", "per_second", "seconds", "rough"), COSTS)
def test_cost_per_model(args: dict[str, Any], per_second: int, seconds: int, rough: bool) -> None:
    cost = estimate_cost(check_generate_arguments(args))
    assert (cost.credits_per_second, cost.seconds, cost.credits) == (
        per_second,
        seconds,
        per_second * seconds,
    )
    assert cost.basis.startswith("rough: ") is rough
    assert ("Rough figure" in cost.disclaimer) is rough


def test_per_model_defaults_are_priced_and_said_but_not_sent() -> None:
    seedance = check_generate_arguments({"model": SEED, "prompt": "p"})
    assert "generate_audio" not in seedance.to_body()
    assert "with audio (default)" in estimate_cost(seedance).basis
    assert any("makes sound by default" in note for note in request_notes(seedance))
    horse = check_generate_arguments({"model": HORSE, "prompt": "p"})
    assert "resolution" not in horse.to_body()
    assert estimate_cost(horse).basis.startswith("rough: 1080P (default)")
    assert any("1080P by default" in note for note in request_notes(horse))


def test_a_length_set_by_a_video_says_so() -> None:
    args = check_generate_arguments(motion())
    assert "the reference video's length (unknown here: 5 s assumed, up to 30 s)" in estimate_cost(args).basis
    assert any("cannot measure" in note for note in request_notes(args))


def test_kling_v3_is_unchanged_and_the_default() -> None:
    args = check_generate_arguments({"prompt": "p"})
    assert args.model == DEFAULT_MODEL == V3
    assert args.to_body() == {"model": V3, "prompt": "p"}
    assert estimate_cost(args).basis == "720P without audio: 120 credits/s × 5 s"
    assert request_notes(args) == []


# ---------------------------------------------------------------------------------------------------
# SCHEMA: one flat, portable object


def _combinators(node: Any, path: str = "") -> list[tuple[str, str, list[Any]]]:
    found: list[tuple[str, str, list[Any]]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("oneOf", "anyOf", "allOf"):
                found.append((path, key, value))
            found += _combinators(value, f"{path}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            found += _combinators(value, f"{path}/{n}")
    return found


SCHEMA = arguments_schema(GenerateVideoArguments)


def test_the_schema_has_no_oneof_and_no_anyof_deeper_than_one_level() -> None:
    found = _combinators(SCHEMA)
    assert [kind for _, kind, _ in found] == ["anyOf"]  # the shot duration: integer or digit string
    for path, _, branches in found:
        for branch in branches:
            assert not _combinators(branch), path  # no combinator inside a combinator
            assert branch.get("type") in ("integer", "string", "number", "boolean"), (
                path
            )  # no per-model objects


def test_the_schema_is_one_object_with_the_union_of_the_models() -> None:
    props = SCHEMA["properties"]
    assert SCHEMA["type"] == "object"
    assert SCHEMA["additionalProperties"] is False
    assert props["model"]["enum"] == list(MODEL_IDS)
    assert props["model"]["default"] == V3
    assert props["resolution"]["enum"] == ["480P", "720P", "1080P"]
    assert props["aspect_ratio"]["enum"] == list(ALL_ASPECT_RATIOS)
    assert set(ALL_ASPECT_RATIOS) == {"16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive"}
    assert (props["duration"]["minimum"], props["duration"]["maximum"]) == (3, 15)
    assert props["prompt"]["maxLength"] == 5000
    assert props["reference_images"]["maxItems"] == 9
    assert props["reference_videos"]["maxItems"] == 3
    assert props["reference_audios"]["maxItems"] == 3
    assert set(SCHEMA["$defs"]["ExtraParams"]["properties"]) == set(EXTRA_PARAMS)


def test_each_field_says_which_models_use_it() -> None:
    extra = SCHEMA["$defs"]["ExtraParams"]["properties"]
    for name, prop in extra.items():
        takers = [model for model, spec in CATALOG.items() if spec.takes(name)]
        assert "Models: " in prop["description"], name
        for model in takers:
            assert model in prop["description"], (name, model)
    for name in ("reference_videos", "reference_audios"):
        assert "Models: " in SCHEMA["properties"][name]["description"]
    assert "refer_type" in SCHEMA["$defs"]["ReferenceVideo"]["properties"]
    assert all(model in SCHEMA["properties"]["model"]["description"] for model in MODEL_IDS)


def test_the_simulator_knows_the_same_models() -> None:
    assert SIMULATED_MODELS == MODEL_IDS


def test_the_readme_lists_every_models_rules_and_notes() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for model, spec in CATALOG.items():
        assert f"### `{model}`" in readme, model
        for line in [*spec.rules, *(f"Note: {note}" for note in spec.notes)]:
            assert f"- {line}\n" in readme, (model, line)
    refused = str(
        problems_of({"model": SEED, "prompt": "p", "extra_params": {"camera_control": {"type": "down_back"}}})
    ).splitlines()[1]
    assert f"\n{refused}\n" in readme


# ---------------------------------------------------------------------------------------------------
# PROPERTIES: junk in any field of any model's request is refused in plain words, never a crash; and
# whatever this server accepts, the independent simulated imini accepts too.

FIELDS = [*BODY_FIELDS, *(f"extra_params.{key}" for key in EXTRA_PARAMS), "reference_videos", "seed"]
VALID_ARGS = [case.values[0] for case in VALID]


@PROPERTY_SETTINGS
@given(
    base=st.sampled_from(VALID_ARGS),
    field=st.sampled_from(FIELDS),
    value=junk | st.sampled_from(list(SAMPLES.values())),
)
def test_junk_in_any_field_of_any_model_is_refused_or_accepted_by_the_simulator_too(
    base: dict[str, Any], field: str, value: Any
) -> None:
    args = json.loads(json.dumps(base))
    if field.startswith("extra_params."):
        extra = args.get("extra_params")
        args["extra_params"] = (extra if isinstance(extra, dict) else {}) | {field.split(".", 1)[1]: value}
    else:
        args[field] = value
    result = outcome(args)
    if isinstance(result, InvalidArguments):
        assert result.problems
        assert not [leak for leak in LEAKS if leak in str(result)]
        return
    accepted = result
    body = accepted.to_body()
    assert body["model"] in CATALOG
    assert validate_generate_request(json.loads(json.dumps(body, allow_nan=False))) == []
    estimate_cost(accepted)
