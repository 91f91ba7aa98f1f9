"""kling/kling-v3-motion-control's request (imini-api.md §7; rules/motion_control.py), as a specification: one
character image sent as {url} only, one motion video, and a required character_orientation."""

from __future__ import annotations

from typing import Any

import pytest

from imini_mcp.request import check_generate_arguments
from imini_mcp.simulator import validate_generate_request
from tests.request.builders import (
    CAT,
    DOG,
    MOTION,
    VIDEO2,
    assert_refused,
    assert_sent,
    image,
    motion,
    video,
)

# ---------------------------------------------------------------------------------------------------
# VALID: arguments → the exact body sent to imini

VALID = [
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
]


@pytest.mark.parametrize(("args", "body"), VALID)
def test_valid_arguments_become_this_exact_body(args: dict[str, Any], body: dict[str, Any]) -> None:
    """Valid motion-control arguments are sent as exactly this body."""
    assert_sent(args, body)


@pytest.mark.parametrize(("args", "body"), VALID)
def test_the_simulated_imini_accepts_every_body_this_server_sends(
    args: dict[str, Any], body: dict[str, Any]
) -> None:
    """The independent simulated imini accepts each of these bodies."""
    assert validate_generate_request(check_generate_arguments(args).to_body()) == []


# ---------------------------------------------------------------------------------------------------
# INVALID: arguments → exactly these problem paths, nothing sent

INVALID = [
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
]


@pytest.mark.parametrize(("args", "paths"), INVALID)
def test_invalid_arguments_report_exactly_these_paths(args: dict[str, Any], paths: set[str]) -> None:
    """Invalid motion-control arguments are refused with exactly these problems, nothing sent."""
    assert_refused(args, paths)
