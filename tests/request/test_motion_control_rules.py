"""kling/kling-v3-motion-control's request (imini-api.md §7; rules/motion_control.py), as a specification: one
character image sent as {url} only, one motion video, and a required character_orientation."""

from __future__ import annotations

import pytest

from tests.request.builders import (
    CAT,
    DOG,
    MOTION,
    VIDEO2,
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
