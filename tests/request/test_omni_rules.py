"""kling/kling-v3-omni's request (imini-api.md §7; rules/omni.py), as a specification: kling-v3's fields plus
one reference video to edit (refer_type base) or imitate (feature), named in the prompt as <<<video_1>>>."""

from __future__ import annotations

import pytest

from tests.request.builders import (
    CAT,
    FIRST,
    LAST,
    OMNI,
    assets,
    image,
    sent_assets,
    sent_shots,
    shots,
    storyboard,
    video,
)

# ---------------------------------------------------------------------------------------------------
# VALID: arguments → the exact body sent to imini

VALID = [
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
        {"model": OMNI, "extra_params": storyboard(shots(2, 3))},
        {"model": OMNI, "duration": 5, "extra_params": storyboard(sent_shots(2, 3))},
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
]


# ---------------------------------------------------------------------------------------------------
# INVALID: arguments → exactly these problem paths, nothing sent

INVALID = [
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
        {
            "model": OMNI,
            "reference_videos": [video(refer_type="feature")],
            "extra_params": storyboard(shots(2, 3)),
        },
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
]
