"""dashscope/happyhorse-1.0's request (imini-api.md §7; rules/happyhorse.py), as a specification: text-,
image- and reference-to-video (characterN names the N-th image) and video edit, each with its own fields."""

from __future__ import annotations

import pytest

from tests.request.builders import (
    CAT,
    FIRST,
    HORSE,
    LAST,
    assets,
    image,
    sent_assets,
    video,
)

# ---------------------------------------------------------------------------------------------------
# VALID: arguments → the exact body sent to imini

VALID = [
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


# ---------------------------------------------------------------------------------------------------
# INVALID: arguments → exactly these problem paths, nothing sent

INVALID = [
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
]
