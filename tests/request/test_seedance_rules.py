"""doubao/seedance-2.0 and -fast's request (imini-api.md §7; rules/seedance.py), as a specification: frames or
multimodal references (images, videos, audio), seven aspect ratios, sound on by default, a 64 MB body."""

from __future__ import annotations

import pytest

from imini_mcp.request import check_generate_arguments
from tests.request.builders import (
    AUDIO,
    CAT,
    FAST,
    FIRST,
    LAST,
    SEED,
    V3,
    VIDEO2,
    assets,
    image,
    problems_of,
    sent_assets,
    shots,
    storyboard,
    video,
)

# ---------------------------------------------------------------------------------------------------
# VALID: arguments → the exact body sent to imini

VALID = [
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
]


# ---------------------------------------------------------------------------------------------------
# INVALID: arguments → exactly these problem paths, nothing sent

INVALID = [
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
        {"model": SEED, "prompt": "p", "extra_params": storyboard(shots(2, 3))},
        {"extra_params.multi_shot", "extra_params.shot_type", "extra_params.multi_prompt"},
        id="seedance storyboard keys",
    ),
    pytest.param(
        {"model": SEED, "extra_params": storyboard(shots(2, 3))},
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
    pytest.param(
        {"model": SEED, "prompt": "p", "extra_params": "storyboard"},
        {"extra_params"},
        id="seedance extra_params that is not even an object",
    ),
]


def test_seedance_refuses_a_body_over_64_mb_together_with_the_other_problems() -> None:
    """A body over 64 MB (inline images count) is refused with the other problems; kling has no such limit."""
    inline = "data:image/png;base64," + "A" * (65 * 1024 * 1024)
    exc = problems_of({"model": SEED, "resolution": "1080P", "reference_images": [image(inline)]})
    assert {p.path for p in exc.problems} == {"prompt", "resolution", "reference_images"}
    [size] = [p for p in exc.problems if p.path == "reference_images"]
    assert "64 MB" in size.problem
    assert check_generate_arguments({"model": V3, "prompt": "p", "reference_images": [image(inline)]})


@pytest.mark.parametrize("broken", [{}, {"reference_type": "asset"}, {"url": 5}])
def test_seedance_sizes_the_body_even_when_an_image_is_broken(broken: dict[str, object]) -> None:
    """An image without a usable url is reported once, and the body-size rule does not crash on it."""
    # Found by the fuzz test: an image without a usable url crashed the body-size rule.
    exc = problems_of({"model": SEED, "prompt": "a fox", "reference_images": [broken]})
    assert [p.path for p in exc.problems] == ["reference_images[0].url"]
