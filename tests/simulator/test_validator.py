"""Validation of kling/kling-v3 submits: every documented rule is enforced, all problems at once."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from imini_mcp.simulator import Simulator, validate_generate_request
from tests.conftest import DOC_EXAMPLE  # imini-api.md §2.3, verbatim
from tests.simulator.helpers import ASSET, FIRST, LAST, T2V, assert_envelope, shots, submit

VALID_BODIES: dict[str, dict[str, Any]] = {
    "doc-example": DOC_EXAMPLE,
    "text-to-video": T2V,
    "all-top-level-fields": dict(
        T2V, resolution="1080P", aspect_ratio="1:1", duration=15, generate_audio=False, reference_images=[]
    ),
    "duration-3": dict(T2V, duration=3),
    "first-frame": dict(T2V, reference_images=[FIRST]),
    "first-and-last-frame": dict(T2V, reference_images=[FIRST, LAST]),
    "last-then-first-order": dict(T2V, reference_images=[LAST, FIRST]),
    "four-assets": dict(T2V, reference_images=[ASSET] * 4),
    "data-uri-image": dict(
        T2V, reference_images=[{"url": "data:image/png;base64,iVBORw0KGgo=", "reference_type": "asset"}]
    ),
    "prompt-2500": dict(T2V, prompt="x" * 2500),
    "customize-default-duration-5": {
        "model": "kling/kling-v3",
        "extra_params": {"multi_shot": True, "shot_type": "customize", "multi_prompt": shots("2", "3")},
    },
    "customize-six-shots-with-first-frame": {
        "model": "kling/kling-v3",
        "prompt": "",
        "duration": 6,
        "reference_images": [FIRST],
        "extra_params": {"multi_shot": True, "shot_type": "customize", "multi_prompt": shots(*"111111")},
    },
    "customize-512-char-shot": {
        "model": "kling/kling-v3",
        "extra_params": {
            "multi_shot": True,
            "shot_type": "customize",
            "multi_prompt": [{"index": 1, "prompt": "y" * 512, "duration": "5"}],
        },
    },
    "intelligence": dict(T2V, extra_params={"multi_shot": True, "shot_type": "intelligence"}),
    "multi-shot-off": dict(T2V, extra_params={"multi_shot": False}),
    "extra-params-tuning": dict(
        T2V, extra_params={"negative_prompt": "blur", "cfg_scale": 0, "multi_shot": False}
    ),
    "cfg-scale-1": dict(T2V, extra_params={"cfg_scale": 1.0}),
    "camera-simple": dict(
        T2V, extra_params={"camera_control": {"type": "simple", "config": {"zoom": -10, "pan": 0}}}
    ),
    "camera-simple-float": dict(
        T2V,
        extra_params={
            "camera_control": {
                "type": "simple",
                "config": {"horizontal": 0, "vertical": 0, "pan": 0, "tilt": 2.5, "roll": 0, "zoom": 0},
            }
        },
    ),
    "camera-preset": dict(T2V, extra_params={"camera_control": {"type": "forward_up"}}),
    "camera-with-first-frame": dict(
        T2V, reference_images=[FIRST], extra_params={"camera_control": {"type": "down_back"}}
    ),
}


@pytest.mark.parametrize("body", VALID_BODIES.values(), ids=VALID_BODIES.keys())
@pytest.mark.anyio
async def test_valid_bodies_are_accepted(client: httpx2.AsyncClient, body: dict[str, Any]) -> None:
    assert validate_generate_request(body) == []
    response = await submit(client, body)
    assert response.status_code == 200, response.text


def _extra(**extra: Any) -> dict[str, Any]:
    return dict(T2V, extra_params=extra)


def _customize(duration: int | None = None, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "kling/kling-v3",
        "extra_params": {"multi_shot": True, "shot_type": "customize", "multi_prompt": shots("2", "3")},
    }
    if duration is not None:
        body["duration"] = duration
    body["extra_params"].update(changes)
    return body


INVALID_BODIES: dict[str, tuple[Any, str]] = {
    # top level
    "not-an-object": ([T2V], "must be a JSON object"),
    "unknown-top-level-field": (dict(T2V, seed=42), "seed: unknown field"),
    "negative-prompt-at-top-level": (dict(T2V, negative_prompt="x"), "negative_prompt: unknown field"),
    "missing-model": ({"prompt": "x"}, "model: required"),
    "wrong-model": (dict(T2V, model="kling/kling-v2"), "model: must be one of kling/kling-v3, "),
    "missing-prompt": ({"model": "kling/kling-v3"}, "prompt: required"),
    "empty-prompt": (dict(T2V, prompt="  "), "prompt: must not be empty"),
    "null-prompt": (dict(T2V, prompt=None), "prompt: must be a string"),
    "prompt-too-long": (dict(T2V, prompt="x" * 2501), "prompt: at most 2500"),
    "lowercase-resolution": (dict(T2V, resolution="720p"), "resolution: must be one of"),
    "resolution-4k": (dict(T2V, resolution="2160P"), "resolution: must be one of"),
    "aspect-ratio-4-3": (dict(T2V, aspect_ratio="4:3"), "aspect_ratio: must be one of"),
    "duration-2": (dict(T2V, duration=2), "duration: must be between 3 and 15"),
    "duration-16": (dict(T2V, duration=16), "duration: must be between 3 and 15"),
    "duration-string": (dict(T2V, duration="5"), "duration: must be an integer"),
    "duration-float": (dict(T2V, duration=5.0), "duration: must be an integer"),
    "duration-bool": (dict(T2V, duration=True), "duration: must be an integer"),
    "generate-audio-string": (dict(T2V, generate_audio="true"), "generate_audio: must be a boolean"),
    # reference images
    "images-not-a-list": (dict(T2V, reference_images=FIRST), "reference_images: must be an array"),
    "five-images": (dict(T2V, reference_images=[ASSET] * 5), "at most 4 images"),
    "image-not-object": (
        dict(T2V, reference_images=["https://x/y.png"]),
        "reference_images[0]: must be an object",
    ),
    "image-missing-url": (
        dict(T2V, reference_images=[{"reference_type": "asset"}]),
        "reference_images[0].url: required",
    ),
    "image-raw-base64": (
        dict(T2V, reference_images=[{"url": "iVBORw0KGgo=", "reference_type": "asset"}]),
        "reference_images[0].url: must be an http(s) URL",
    ),
    "image-missing-type": (
        dict(T2V, reference_images=[{"url": "https://x/y.png"}]),
        "reference_images[0].reference_type: required",
    ),
    "image-style-type": (
        dict(T2V, reference_images=[{"url": "https://x/y.png", "reference_type": "style"}]),
        "reference_type: must be one of",
    ),
    "image-unknown-key": (
        dict(T2V, reference_images=[dict(FIRST, weight=1)]),
        "reference_images[0].weight: unknown",
    ),
    "last-frame-alone": (dict(T2V, reference_images=[LAST]), "last_frame image requires a first_frame"),
    "asset-plus-first-frame": (dict(T2V, reference_images=[FIRST, ASSET]), "cannot be mixed"),
    "two-first-frames": (dict(T2V, reference_images=[FIRST, FIRST]), "at most one first_frame"),
    "two-last-frames": (dict(T2V, reference_images=[FIRST, LAST, LAST]), "at most one last_frame"),
    # extra_params basics
    "extra-not-object": (dict(T2V, extra_params=[]), "extra_params: must be an object"),
    "extra-unknown-key": (_extra(element_list=[]), "extra_params.element_list: unknown field"),
    "multi-shot-string": (_extra(multi_shot="true"), "extra_params.multi_shot: must be a boolean"),
    "shot-type-bad": (_extra(multi_shot=True, shot_type="auto"), "extra_params.shot_type: must be one of"),
    "multi-shot-without-shot-type": (_extra(multi_shot=True), "extra_params.shot_type: required"),
    "negative-prompt-too-long": (_extra(negative_prompt="n" * 2501), "negative_prompt: at most 2500"),
    "negative-prompt-not-string": (_extra(negative_prompt=["blur"]), "negative_prompt: must be a string"),
    "cfg-scale-above-1": (_extra(cfg_scale=1.5), "cfg_scale: must be a number between 0 and 1"),
    "cfg-scale-negative": (_extra(cfg_scale=-0.1), "cfg_scale: must be a number between 0 and 1"),
    "cfg-scale-string": (_extra(cfg_scale="0.5"), "cfg_scale: must be a number between 0 and 1"),
    # multi-shot
    "intelligence-without-prompt": (
        {"model": "kling/kling-v3", "extra_params": {"multi_shot": True, "shot_type": "intelligence"}},
        "prompt: required",
    ),
    "customize-without-multi-prompt": (
        {"model": "kling/kling-v3", "extra_params": {"multi_shot": True, "shot_type": "customize"}},
        "extra_params.multi_prompt: required",
    ),
    "multi-prompt-not-list": (_customize(multi_prompt={"index": 1}), "multi_prompt: must be an array"),
    "no-shots": (_customize(multi_prompt=[]), "must have 1 to 6 shots"),
    "seven-shots": (_customize(duration=7, multi_prompt=shots(*"1111111")), "must have 1 to 6 shots"),
    "index-starts-at-0": (
        _customize(multi_prompt=[dict(s, index=s["index"] - 1) for s in shots("2", "3")]),
        "multi_prompt[0].index: must be the integer 1",
    ),
    "index-out-of-order": (
        _customize(multi_prompt=list(reversed(shots("2", "3")))),
        "multi_prompt[0].index: must be the integer 1",
    ),
    "index-as-string": (
        _customize(multi_prompt=[dict(s, index=str(s["index"])) for s in shots("2", "3")]),
        "multi_prompt[0].index",
    ),
    "shot-missing-prompt": (
        _customize(multi_prompt=[{"index": 1, "duration": "5"}]),
        "multi_prompt[0].prompt: required",
    ),
    "shot-prompt-too-long": (
        _customize(multi_prompt=[{"index": 1, "prompt": "p" * 513, "duration": "5"}]),
        "multi_prompt[0].prompt: at most 512",
    ),
    "shot-duration-integer": (
        _customize(multi_prompt=[{"index": 1, "prompt": "p", "duration": 5}]),
        "multi_prompt[0].duration: must be a string",
    ),
    "shot-duration-zero": (
        _customize(duration=3, multi_prompt=[*shots("3"), {"index": 2, "prompt": "p", "duration": "0"}]),
        "multi_prompt[1].duration: must be a string of an integer >= 1",
    ),
    "shot-duration-fraction": (
        _customize(multi_prompt=[{"index": 1, "prompt": "p", "duration": "2.5"}]),
        "multi_prompt[0].duration",
    ),
    "shot-unknown-key": (
        _customize(multi_prompt=[{"index": 1, "prompt": "p", "duration": "5", "camera": "pan"}]),
        "multi_prompt[0].camera: unknown field",
    ),
    "shot-sum-differs": (_customize(duration=8), "add up to 5s but duration is 8s"),
    "shot-sum-differs-from-default-5": (
        _customize(multi_prompt=shots("3", "3")),
        "add up to 6s but duration is 5s",
    ),
    "multi-shot-with-last-frame": (
        dict(_customize(), reference_images=[FIRST, LAST]),
        "last_frame image cannot be combined with multi_shot",
    ),
    # camera control
    "camera-not-object": (_extra(camera_control="simple"), "camera_control: must be an object"),
    "camera-missing-type": (_extra(camera_control={"config": {"zoom": 1}}), "camera_control.type: required"),
    "camera-bad-type": (_extra(camera_control={"type": "orbit"}), "camera_control.type: must be one of"),
    "camera-simple-without-config": (_extra(camera_control={"type": "simple"}), "config: required when type"),
    "camera-simple-two-axes": (
        _extra(camera_control={"type": "simple", "config": {"pan": 1, "zoom": 2}}),
        "exactly one non-zero value (got 2)",
    ),
    "camera-simple-all-zero": (
        _extra(camera_control={"type": "simple", "config": {"pan": 0}}),
        "exactly one non-zero value (got 0)",
    ),
    "camera-value-out-of-range": (
        _extra(camera_control={"type": "simple", "config": {"tilt": 11}}),
        "config.tilt: must be a number between -10 and 10",
    ),
    "camera-value-string": (
        _extra(camera_control={"type": "simple", "config": {"tilt": "1"}}),
        "config.tilt: must be a number",
    ),
    "camera-unknown-axis": (
        _extra(camera_control={"type": "simple", "config": {"yaw": 1}}),
        "config.yaw: unknown field",
    ),
    "camera-unknown-key": (
        _extra(camera_control={"type": "down_back", "speed": 1}),
        "camera_control.speed: unknown field",
    ),
    "camera-preset-with-config": (
        _extra(camera_control={"type": "down_back", "config": {"zoom": 1}}),
        "config: only allowed when type is 'simple'",
    ),
    "camera-with-last-frame": (
        dict(_extra(camera_control={"type": "forward_up"}), reference_images=[FIRST, LAST]),
        "camera_control: cannot be combined with a last_frame",
    ),
}


@pytest.mark.parametrize(("body", "fragment"), INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
@pytest.mark.anyio
async def test_each_rule_violation_is_a_400_invalid_parameter(
    client: httpx2.AsyncClient, sim: Simulator, body: Any, fragment: str
) -> None:
    response = await submit(client, body)
    error = assert_envelope(response, 400, "INVALID_PARAMETER")
    assert fragment in error["message"]
    assert sim.ledger.tasks_created == []
    assert sim.tasks() == {}


@pytest.mark.anyio
async def test_all_problems_are_listed_at_once(client: httpx2.AsyncClient) -> None:
    body = {
        "model": "kling/kling-v3",
        "prompt": "x",
        "duration": 20,
        "resolution": "4K",
        "extra_params": {"foo": 1},
    }
    message = assert_envelope(await submit(client, body), 400, "INVALID_PARAMETER")["message"]
    for fragment in ("duration: must be between", "resolution: must be one of", "extra_params.foo: unknown"):
        assert fragment in message


@pytest.mark.parametrize("raw", [b"{not json", b"", b'{"model": NaN}', b"\xff\xfe"])
@pytest.mark.anyio
async def test_unparseable_json_is_a_400(client: httpx2.AsyncClient, raw: bytes) -> None:
    response = await client.post(
        "/v1/videos/generate", content=raw, headers={"Content-Type": "application/json"}
    )
    assert_envelope(response, 400, "INVALID_PARAMETER")
