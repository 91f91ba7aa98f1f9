"""The other video models (spec section 7): each validated by its own rules, with its own output defaults."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from imini_mcp.simulator import ManualClock, Simulator, validate_generate_request
from tests.simulator.helpers import ASSET, FIRST, LAST, T2V, assert_envelope, poll, shots, submit, submit_ok

OMNI = "kling/kling-v3-omni"
MOTION = "kling/kling-v3-motion-control"
SEED = "doubao/seedance-2.0"
FAST = "doubao/seedance-2.0-fast"
HORSE = "dashscope/happyhorse-1.0"
VIDEO = {"url": "https://example.com/dance.mp4"}
AUDIO = {"url": "https://example.com/beat.mp3"}
MOTION_BODY: dict[str, Any] = {
    "model": MOTION,
    "prompt": "the fox dances",
    "reference_images": [{"url": "https://example.com/fox.png"}],
    "reference_videos": [VIDEO],
    "extra_params": {"character_orientation": "video"},
}

MODEL_BODIES: dict[str, dict[str, Any]] = {
    "omni-text": {"model": OMNI, "prompt": "a fox"},
    "omni-feature-video": {
        "model": OMNI,
        "prompt": "<<<image_1>>> moves like <<<video_1>>>",
        "duration": 8,
        "reference_images": [ASSET],
        "reference_videos": [dict(VIDEO, refer_type="feature")],
    },
    "omni-edit": {"model": OMNI, "prompt": "night", "reference_videos": [dict(VIDEO, refer_type="base")]},
    "omni-storyboard": {
        "model": OMNI,
        "duration": 5,
        "extra_params": {"multi_shot": True, "shot_type": "customize", "multi_prompt": shots("2", "3")},
    },
    "motion-control": MOTION_BODY,
    "motion-control-1080p-audio": dict(MOTION_BODY, resolution="1080P", generate_audio=True),
    "seedance-defaults": {"model": SEED, "prompt": "a fox"},
    "seedance-480p-21-9-4s": {
        "model": SEED,
        "prompt": "a fox",
        "resolution": "480P",
        "aspect_ratio": "21:9",
        "duration": 4,
        "generate_audio": False,
    },
    "seedance-multimodal": {
        "model": SEED,
        "prompt": "p",
        "reference_images": [ASSET] * 9,
        "reference_videos": [VIDEO] * 3,
        "reference_audios": [AUDIO] * 3,
    },
    "seedance-audio-with-video": {
        "model": SEED,
        "prompt": "p",
        "reference_videos": [VIDEO],
        "reference_audios": [AUDIO],
    },
    "seedance-first-last": {"model": SEED, "prompt": "p", "reference_images": [FIRST, LAST]},
    "seedance-fast-adaptive": {"model": FAST, "prompt": "p", "aspect_ratio": "adaptive"},
    "happyhorse-text-5000": {"model": HORSE, "prompt": "p" * 5000, "aspect_ratio": "3:4", "duration": 15},
    "happyhorse-first-frame": {"model": HORSE, "prompt": "p", "reference_images": [FIRST]},
    "happyhorse-reference": {"model": HORSE, "prompt": "character1", "reference_images": [ASSET] * 9},
    "happyhorse-edit": {
        "model": HORSE,
        "prompt": "p",
        "reference_images": [ASSET] * 5,
        "reference_videos": [VIDEO],
        "extra_params": {"audio_setting": "origin"},
    },
}


@pytest.mark.parametrize("body", MODEL_BODIES.values(), ids=MODEL_BODIES.keys())
@pytest.mark.anyio
async def test_every_model_accepts_its_valid_bodies_and_echoes_the_model(
    client: httpx2.AsyncClient, clock: ManualClock, body: dict[str, Any]
) -> None:
    assert validate_generate_request(body) == []
    response = await submit(client, body)
    assert response.status_code == 200, response.text
    assert response.json()["model"] == body["model"]
    clock.advance(10)
    polled = (await poll(client, response.json()["task_id"])).json()
    assert polled["model"] == body["model"]
    assert polled["status"] == "succeeded"


MODEL_INVALID: dict[str, tuple[dict[str, Any], str]] = {
    # fields only other models take are unknown here
    "kling-v3-reference-videos": (
        dict(T2V, reference_videos=[VIDEO]),
        "reference_videos: unknown field for kling/kling-v3",
    ),
    "seedance-extra-params": (
        {"model": SEED, "prompt": "p", "extra_params": {"camera_control": {"type": "down_back"}}},
        "extra_params: unknown field for doubao/seedance-2.0",
    ),
    "omni-camera": (
        {"model": OMNI, "prompt": "p", "extra_params": {"camera_control": {"type": "down_back"}}},
        "extra_params.camera_control: unknown field",
    ),
    "happyhorse-generate-audio": (
        {"model": HORSE, "prompt": "p", "generate_audio": True},
        "generate_audio: unknown field",
    ),
    "motion-duration": (
        dict(MOTION_BODY, duration=5),
        "duration: unknown field for kling/kling-v3-motion-control",
    ),
    "motion-aspect-ratio": (dict(MOTION_BODY, aspect_ratio="16:9"), "aspect_ratio: unknown field"),
    # enums and ranges per model
    "seedance-1080p": (
        {"model": SEED, "prompt": "p", "resolution": "1080P"},
        "resolution: must be one of 480P, 720P",
    ),
    "seedance-fast-3s": ({"model": FAST, "prompt": "p", "duration": 3}, "duration: must be between 4 and 15"),
    "happyhorse-21-9": (
        {"model": HORSE, "prompt": "p", "aspect_ratio": "21:9"},
        "aspect_ratio: must be one of",
    ),
    "happyhorse-480p": ({"model": HORSE, "prompt": "p", "resolution": "480P"}, "resolution: must be one of"),
    "happyhorse-prompt-5001": ({"model": HORSE, "prompt": "p" * 5001}, "prompt: at most 5000"),
    "seedance-no-prompt": ({"model": SEED}, "prompt: required for doubao/seedance-2.0"),
    # reference media
    "omni-two-videos": (
        {"model": OMNI, "prompt": "p", "reference_videos": [dict(VIDEO, refer_type="base")] * 2},
        "reference_videos: at most 1",
    ),
    "omni-no-refer-type": (
        {"model": OMNI, "prompt": "p", "reference_videos": [VIDEO]},
        "refer_type: must be one of base",
    ),
    "omni-five-images": ({"model": OMNI, "prompt": "p", "reference_images": [ASSET] * 5}, "at most 4 images"),
    "seedance-ten-images": (
        {"model": SEED, "prompt": "p", "reference_images": [ASSET] * 10},
        "at most 9 images",
    ),
    "seedance-four-audios": (
        {"model": SEED, "prompt": "p", "reference_videos": [VIDEO], "reference_audios": [AUDIO] * 4},
        "reference_audios: at most 3",
    ),
    "seedance-audio-alone": (
        {"model": SEED, "prompt": "p", "reference_audios": [AUDIO]},
        "need at least one asset",
    ),
    "seedance-video-data-uri": (
        {"model": SEED, "prompt": "p", "reference_videos": [{"url": "data:video/mp4;base64,AA"}]},
        "reference_videos[0].url: must be a public http(s) URL",
    ),
    "seedance-first-frame-with-video": (
        {"model": SEED, "prompt": "p", "reference_images": [FIRST], "reference_videos": [VIDEO]},
        "cannot be combined with reference videos or audio",
    ),
    "seedance-body-over-64mb": (
        {
            "model": SEED,
            "prompt": "p",
            "reference_images": [
                {"url": "data:image/png;base64," + "A" * (65 * 1024 * 1024), "reference_type": "asset"}
            ],
        },
        "request body: at most 67108864 bytes",
    ),
    "happyhorse-last-frame": (
        {"model": HORSE, "prompt": "p", "reference_images": [FIRST, LAST]},
        "must be one of first_frame, asset",
    ),
    "motion-no-image": (dict(MOTION_BODY, reference_images=[]), "reference_images: at least 1"),
    "motion-missing-video": (
        {k: v for k, v in MOTION_BODY.items() if k != "reference_videos"},
        "reference_videos: required (exactly 1)",
    ),
    "motion-image-role": (
        dict(MOTION_BODY, reference_images=[ASSET]),
        "reference_images[0].reference_type: unknown field",
    ),
    # special rules
    "omni-edit-duration": (
        {"model": OMNI, "prompt": "p", "duration": 5, "reference_videos": [dict(VIDEO, refer_type="base")]},
        "duration: not accepted in a video edit",
    ),
    "omni-audio-with-video": (
        {
            "model": OMNI,
            "prompt": "p",
            "generate_audio": True,
            "reference_videos": [dict(VIDEO, refer_type="feature")],
        },
        "generate_audio: cannot be true with reference_videos",
    ),
    "omni-missing-image-reference": (
        {"model": OMNI, "prompt": "<<<image_2>>>", "reference_images": [ASSET]},
        "<<<image_2>>> refers to a missing reference image",
    ),
    "motion-no-orientation": (dict(MOTION_BODY, extra_params={}), "character_orientation: required"),
    "motion-bad-orientation": (
        dict(MOTION_BODY, extra_params={"character_orientation": "left"}),
        "character_orientation: must be one of image, video",
    ),
    "happyhorse-edit-duration": (
        {"model": HORSE, "prompt": "p", "duration": 5, "reference_videos": [VIDEO]},
        "duration: not accepted in a video edit",
    ),
    "happyhorse-first-frame-aspect": (
        {"model": HORSE, "prompt": "p", "aspect_ratio": "1:1", "reference_images": [FIRST]},
        "aspect_ratio: only for text-to-video",
    ),
    "happyhorse-edit-six-images": (
        {"model": HORSE, "prompt": "p", "reference_images": [ASSET] * 6, "reference_videos": [VIDEO]},
        "a video edit takes at most 5 images",
    ),
    "happyhorse-audio-setting-without-video": (
        {"model": HORSE, "prompt": "p", "extra_params": {"audio_setting": "auto"}},
        "audio_setting: only for a video edit",
    ),
}


@pytest.mark.parametrize(("body", "fragment"), MODEL_INVALID.values(), ids=MODEL_INVALID.keys())
@pytest.mark.anyio
async def test_each_models_rule_violation_is_a_400(
    client: httpx2.AsyncClient, sim: Simulator, body: dict[str, Any], fragment: str
) -> None:
    error = assert_envelope(await submit(client, body), 400, "INVALID_PARAMETER")
    assert fragment in error["message"]
    assert sim.tasks() == {}


@pytest.mark.parametrize(
    ("body", "size", "duration"),
    [
        pytest.param(
            {"model": SEED, "prompt": "p", "resolution": "480P", "aspect_ratio": "21:9"},
            (1120, 480),
            5,
            id="480P 21:9",
        ),
        pytest.param(
            {"model": SEED, "prompt": "p", "aspect_ratio": "4:3", "duration": 7}, (960, 720), 7, id="720P 4:3"
        ),
        pytest.param(
            {"model": SEED, "prompt": "p", "resolution": "480P"}, (854, 480), 5, id="adaptive shows as 16:9"
        ),
        pytest.param(
            {"model": HORSE, "prompt": "p", "aspect_ratio": "3:4"},
            (1080, 1440),
            5,
            id="happyhorse 1080P by default",
        ),
        pytest.param(MOTION_BODY, (1280, 720), 5, id="motion control: the video's length, 5 s simulated"),
        pytest.param(
            {"model": OMNI, "prompt": "p", "reference_videos": [dict(VIDEO, refer_type="base")]},
            (1280, 720),
            5,
            id="omni edit: the video's length",
        ),
        pytest.param(
            {
                "model": OMNI,
                "prompt": "p",
                "duration": 9,
                "reference_videos": [dict(VIDEO, refer_type="feature")],
            },
            (1280, 720),
            9,
            id="omni feature: duration",
        ),
    ],
)
@pytest.mark.anyio
async def test_result_sizes_follow_each_models_defaults(
    client: httpx2.AsyncClient, clock: ManualClock, body: dict[str, Any], size: tuple[int, int], duration: int
) -> None:
    task_id = await submit_ok(client, body)
    clock.advance(10)
    video = (await poll(client, task_id)).json()["videos"][0]
    assert (video["width"], video["height"]) == size
    assert video["duration"] == duration
