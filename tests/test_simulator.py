"""Tests for the simulated imini server (imini_mcp.simulator).

Most tests drive the ASGI app in-process through httpx2.ASGITransport; the ones that need real
sockets (dropped connections, read timeouts, streaming, the CLI) go through serve_simulator or a
subprocess on loopback.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest

from imini_mcp.simulator import (
    MIN_VIDEO_SIZE,
    Fault,
    Ledger,
    ManualClock,
    SimulatedConnectionReset,
    Simulator,
    SimulatorConfig,
    iter_synthetic_mp4,
    serve_simulator,
    validate_generate_request,
)
from tests.conftest import DOC_EXAMPLE  # imini-api.md §2.3, verbatim

REPO_ROOT = Path(__file__).resolve().parents[1]
AUTH = {"Authorization": "Bearer test-key"}
TASK_ID_RE = re.compile(r"^task_\d{19}$")
ISO_MS_Z_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
POLL_KEYS = {"task_id", "status", "model", "created_at", "completed_at", "videos", "error", "request_id"}

T2V: dict[str, Any] = {"model": "kling/kling-v3", "prompt": "a red fox running through snow"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Simulator:
    return Simulator(SimulatorConfig(clock=clock))


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=sim.app), base_url="http://sim/imini/router", headers=AUTH
    ) as c:
        yield c


async def submit(client: httpx2.AsyncClient, body: dict[str, Any]) -> httpx2.Response:
    return await client.post("/v1/videos/generate", json=body)


async def submit_ok(client: httpx2.AsyncClient, body: dict[str, Any] | None = None) -> str:
    response = await submit(client, body or T2V)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["task_id"]
    return task_id


async def poll(client: httpx2.AsyncClient, task_id: str) -> httpx2.Response:
    return await client.get(f"/v1/videos/tasks/{task_id}")


def assert_envelope(response: httpx2.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "status", "request_id"}
    assert error["code"] == code
    assert error["status"] == status
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["request_id"], str)
    assert error["request_id"]
    return error


def with_changes(base: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    body = copy.deepcopy(base)
    change(body)
    return body


# ------------------------------------------------------------------------------------------------
# Happy path and exact shapes
# ------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_documented_example_is_accepted_with_exact_submit_shape(
    client: httpx2.AsyncClient, sim: Simulator
) -> None:
    response = await submit(client, DOC_EXAMPLE)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"task_id", "model", "created_at", "request_id"}
    assert TASK_ID_RE.match(body["task_id"])
    assert body["model"] == "kling/kling-v3"
    assert ISO_MS_Z_RE.match(body["created_at"])
    assert uuid.UUID(body["request_id"]).version == 4
    assert sim.ledger.tasks_created == [body["task_id"]]
    assert sim.tasks()[body["task_id"]].request == DOC_EXAMPLE


@pytest.mark.anyio
async def test_task_lifecycle_follows_the_clock_with_exact_poll_shape(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    submitted = (await submit(client, DOC_EXAMPLE)).json()
    task_id = submitted["task_id"]

    seen = []
    # Binary-exact steps: 0 → 1.5 (queued) → 2.0 (processing starts) → 9.5 → 10.0 (succeeded).
    steps = [(0, "queued"), (1.5, "queued"), (0.5, "processing"), (7.5, "processing"), (0.5, "succeeded")]
    for advance, expected in steps:
        clock.advance(advance)
        response = await poll(client, task_id)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == POLL_KEYS
        assert body["status"] == expected
        assert body["task_id"] == task_id
        assert body["model"] == "kling/kling-v3"
        assert body["created_at"] == submitted["created_at"]
        assert body["error"] is None
        assert isinstance(body["request_id"], str)
        assert body["request_id"]
        seen.append(body)

    for body in seen[:-1]:
        assert body["completed_at"] is None
        assert body["videos"] is None
    done = seen[-1]
    assert ISO_MS_Z_RE.match(done["completed_at"])
    assert done["completed_at"] > done["created_at"]
    base = sim.config.public_base_url
    assert done["videos"] == [
        {
            "url": f"{base}/files/{task_id}.mp4",
            "width": 720,
            "height": 1280,
            "duration": 8,
            "cover_url": f"{base}/files/{task_id}.jpg",
        }
    ]
    assert sim.tasks()[task_id].status == "succeeded"


@pytest.mark.anyio
async def test_result_files_are_served_without_auth(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    task_id = await submit_ok(client)
    # Not there before the task succeeded.
    assert (await client.get(f"http://cdn/files/{task_id}.mp4")).status_code == 404
    clock.advance(10)
    video = (await poll(client, task_id)).json()["videos"][0]

    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=sim.app)) as anonymous:  # no auth header
        mp4 = await anonymous.get(video["url"])
        jpg = await anonymous.get(video["cover_url"])
    assert mp4.status_code == 200
    assert mp4.headers["content-type"] == "video/mp4"
    assert int(mp4.headers["content-length"]) == len(mp4.content) < 20_000
    assert mp4.content[4:8] == b"ftyp"
    assert jpg.status_code == 200
    assert jpg.headers["content-type"] == "image/jpeg"
    assert int(jpg.headers["content-length"]) == len(jpg.content) < 20_000
    assert jpg.content[:3] == b"\xff\xd8\xff"

    assert (await client.get("http://cdn/files/task_0000000000000000000.mp4")).status_code == 404
    assert (await client.get(f"http://cdn/files/{task_id}.gif")).status_code == 404


def test_sample_files_are_real_media() -> None:
    from PIL import Image

    simdata = REPO_ROOT / "imini_mcp" / "simdata"
    mp4 = (simdata / "sample.mp4").read_bytes()
    assert mp4[4:8] == b"ftyp"
    for box in (b"moov", b"mdat", b"avc1"):  # avc1: an H.264 track
        assert box in mp4
    assert len(mp4) < 20_000
    with Image.open(simdata / "cover.jpg") as cover:
        assert cover.format == "JPEG"
        assert cover.size == (160, 90)
    assert (simdata / "cover.jpg").stat().st_size < 20_000


@pytest.mark.parametrize(
    ("resolution", "aspect_ratio", "size"),
    [
        ("720P", "16:9", (1280, 720)),
        ("720P", "9:16", (720, 1280)),
        ("720P", "1:1", (720, 720)),
        ("1080P", "16:9", (1920, 1080)),
        ("1080P", "9:16", (1080, 1920)),
        ("1080P", "1:1", (1080, 1080)),
        (None, None, (1280, 720)),  # defaults: 720P, 16:9
    ],
)
@pytest.mark.anyio
async def test_video_dimensions_follow_resolution_and_aspect_ratio(
    client: httpx2.AsyncClient,
    clock: ManualClock,
    resolution: str | None,
    aspect_ratio: str | None,
    size: tuple[int, int],
) -> None:
    body = dict(T2V, duration=12)
    if resolution:
        body.update(resolution=resolution, aspect_ratio=aspect_ratio)
    task_id = await submit_ok(client, body)
    clock.advance(10)
    video = (await poll(client, task_id)).json()["videos"][0]
    assert (video["width"], video["height"]) == size
    assert video["duration"] == 12


# ------------------------------------------------------------------------------------------------
# Validation
# ------------------------------------------------------------------------------------------------

FIRST = {"url": "https://example.com/first.png", "reference_type": "first_frame"}
LAST = {"url": "https://example.com/last.png", "reference_type": "last_frame"}
ASSET = {"url": "https://example.com/asset.png", "reference_type": "asset"}


def _shots(*durations: str) -> list[dict[str, Any]]:
    return [{"index": i + 1, "prompt": f"shot {i + 1}", "duration": d} for i, d in enumerate(durations)]


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
        "extra_params": {"multi_shot": True, "shot_type": "customize", "multi_prompt": _shots("2", "3")},
    },
    "customize-six-shots-with-first-frame": {
        "model": "kling/kling-v3",
        "prompt": "",
        "duration": 6,
        "reference_images": [FIRST],
        "extra_params": {"multi_shot": True, "shot_type": "customize", "multi_prompt": _shots(*"111111")},
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
        "extra_params": {"multi_shot": True, "shot_type": "customize", "multi_prompt": _shots("2", "3")},
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
    "seven-shots": (_customize(duration=7, multi_prompt=_shots(*"1111111")), "must have 1 to 6 shots"),
    "index-starts-at-0": (
        _customize(multi_prompt=[dict(s, index=s["index"] - 1) for s in _shots("2", "3")]),
        "multi_prompt[0].index: must be the integer 1",
    ),
    "index-out-of-order": (
        _customize(multi_prompt=list(reversed(_shots("2", "3")))),
        "multi_prompt[0].index: must be the integer 1",
    ),
    "index-as-string": (
        _customize(multi_prompt=[dict(s, index=str(s["index"])) for s in _shots("2", "3")]),
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
        _customize(duration=3, multi_prompt=[*_shots("3"), {"index": 2, "prompt": "p", "duration": "0"}]),
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
        _customize(multi_prompt=_shots("3", "3")),
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


# ------------------------------------------------------------------------------------------------
# The other video models (spec section 7): each validated by its own rules
# ------------------------------------------------------------------------------------------------

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
        "extra_params": {"multi_shot": True, "shot_type": "customize", "multi_prompt": _shots("2", "3")},
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


# ------------------------------------------------------------------------------------------------
# Auth and unknown resources
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "test-key"])
@pytest.mark.anyio
async def test_missing_or_malformed_auth_is_401(sim: Simulator, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=sim.app), base_url="http://sim/imini/router", headers=headers
    ) as anonymous:
        assert_envelope(await submit(anonymous, T2V), 401, "UNAUTHORIZED")
        assert_envelope(await poll(anonymous, "task_1234567890123456789"), 401, "UNAUTHORIZED")
    assert sim.ledger.tasks_created == []


@pytest.mark.anyio
async def test_configured_api_key_is_enforced() -> None:
    sim = Simulator(SimulatorConfig(api_key="sk-right"))
    transport = httpx2.ASGITransport(app=sim.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sim/imini/router") as c:
        wrong = await c.post("/v1/videos/generate", json=T2V, headers={"Authorization": "Bearer sk-wrong"})
        assert_envelope(wrong, 401, "UNAUTHORIZED")
        right = await c.post("/v1/videos/generate", json=T2V, headers={"Authorization": "bearer sk-right"})
        assert right.status_code == 200


@pytest.mark.anyio
async def test_unknown_task_is_404_task_not_found(client: httpx2.AsyncClient) -> None:
    assert_envelope(await poll(client, "task_1234567890123456789"), 404, "TASK_NOT_FOUND")


@pytest.mark.anyio
async def test_unknown_route_and_wrong_method_use_the_envelope(client: httpx2.AsyncClient) -> None:
    assert_envelope(await client.get("/v1/nothing"), 404, "NOT_FOUND")
    assert_envelope(await client.get("/v1/videos/generate"), 405, "METHOD_NOT_ALLOWED")


# ------------------------------------------------------------------------------------------------
# Faults
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "INVALID_PARAMETER"),
        (401, "UNAUTHORIZED"),
        (402, "INSUFFICIENT_CREDITS"),
        (403, "FORBIDDEN"),
        (404, "TASK_NOT_FOUND"),
        (429, "RATE_LIMITED"),
        (500, "INTERNAL_ERROR"),
        (502, "UPSTREAM_ERROR"),
        (503, "UPSTREAM_ERROR"),
    ],
)
@pytest.mark.anyio
async def test_status_fault_on_submit_uses_default_codes_and_creates_nothing(
    client: httpx2.AsyncClient, sim: Simulator, status: int, code: str
) -> None:
    sim.add_fault(Fault("submit", "status", status=status))
    assert_envelope(await submit(client, T2V), status, code)
    assert sim.ledger.tasks_created == []
    assert (await submit(client, T2V)).status_code == 200  # times=1: only the first request


@pytest.mark.anyio
async def test_status_fault_with_retry_after_code_message_and_times(
    client: httpx2.AsyncClient, sim: Simulator
) -> None:
    task_id = await submit_ok(client)
    sim.add_fault(
        Fault("poll", "status", status=429, code="SLOW_DOWN", message="easy", retry_after=3, times=2)
    )
    for _ in range(2):
        response = await poll(client, task_id)
        error = assert_envelope(response, 429, "SLOW_DOWN")
        assert error["message"] == "easy"
        assert response.headers["retry-after"] == "3"
    assert (await poll(client, task_id)).status_code == 200
    assert sim.ledger.count("poll", task_id, status=429) == 2


@pytest.mark.anyio
async def test_poll_fault_can_target_one_task(client: httpx2.AsyncClient, sim: Simulator) -> None:
    first, second = await submit_ok(client), await submit_ok(client)
    sim.add_fault(Fault("poll", "status", status=503, task_id=second))
    assert (await poll(client, first)).status_code == 200
    assert (await poll(client, second)).status_code == 503
    assert (await poll(client, second)).status_code == 200


@pytest.mark.parametrize("target", ["submit", "poll", "download"])
@pytest.mark.anyio
async def test_html_fault_is_a_502_proxy_page(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock, target: str
) -> None:
    task_id = await submit_ok(client)
    clock.advance(10)
    sim.add_fault(Fault(target, "html"))  # type: ignore[arg-type]
    url = {
        "submit": "/v1/videos/generate",
        "poll": f"/v1/videos/tasks/{task_id}",
        "download": f"http://cdn/files/{task_id}.mp4",
    }[target]
    response = await (client.post(url, json=T2V) if target == "submit" else client.get(url))
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert b"<html>" in response.content
    assert len(sim.ledger.tasks_created) == 1


@pytest.mark.anyio
async def test_malformed_json_faults(client: httpx2.AsyncClient, sim: Simulator) -> None:
    task_id = await submit_ok(client)
    sim.add_fault(Fault("submit", "malformed_json"))
    sim.add_fault(Fault("poll", "malformed_json"))
    for response in (await submit(client, T2V), await poll(client, task_id)):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)
    assert len(sim.ledger.tasks_created) == 1


@pytest.mark.anyio
async def test_missing_fields_faults(client: httpx2.AsyncClient, sim: Simulator) -> None:
    task_id = await submit_ok(client)
    sim.add_fault(Fault("submit", "missing_fields"))
    sim.add_fault(Fault("poll", "missing_fields"))
    submitted = await submit(client, T2V)
    assert submitted.status_code == 200
    assert "task_id" not in submitted.json()
    polled = await poll(client, task_id)
    assert polled.status_code == 200
    assert "status" not in polled.json()
    assert polled.json()["task_id"] == task_id


@pytest.mark.anyio
async def test_unknown_status_fault(client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock) -> None:
    task_id = await submit_ok(client)
    clock.advance(100)
    sim.add_fault(Fault("poll", "unknown_status"))
    # A poll that cannot be answered with a task (unknown id) leaves the fault queued.
    assert_envelope(await poll(client, "task_1234567890123456789"), 404, "TASK_NOT_FOUND")
    body = (await poll(client, task_id)).json()
    assert set(body) == POLL_KEYS
    assert body["status"] == "pending_review"
    assert body["videos"] is None
    assert body["completed_at"] is None
    assert (await poll(client, task_id)).json()["status"] == "succeeded"


@pytest.mark.anyio
async def test_delay_fault_sleeps_then_answers_normally(client: httpx2.AsyncClient, sim: Simulator) -> None:
    sim.add_fault(Fault("submit", "delay", seconds=0.2))
    started = time.monotonic()
    response = await submit(client, T2V)
    assert time.monotonic() - started >= 0.2
    assert response.status_code == 200
    assert sim.ledger.entries[-1].fault == "delay"


@pytest.mark.anyio
async def test_reset_faults_abort_mid_response_in_process(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    task_id = await submit_ok(client)
    clock.advance(10)
    requests: list[tuple[Fault, Callable[[], Awaitable[httpx2.Response]]]] = [
        (Fault("submit", "reset"), lambda: submit(client, T2V)),
        (Fault("poll", "reset"), lambda: poll(client, task_id)),
        (Fault("download", "reset"), lambda: client.get(f"http://cdn/files/{task_id}.mp4")),
    ]
    for fault, request in requests:
        sim.add_fault(fault)
        with pytest.raises(SimulatedConnectionReset):
            await request()
    assert [e.status for e in sim.ledger.entries[-3:]] == [200, 200, 200]  # headers had gone out
    assert len(sim.ledger.tasks_created) == 1


@pytest.mark.anyio
async def test_accept_then_status_creates_a_task_the_client_never_hears_about(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    sim.add_fault(Fault("submit", "accept_then_status", status=504))
    assert_envelope(await submit(client, T2V), 504, "UPSTREAM_ERROR")
    assert sim.ledger.submits_received == 1
    [orphan] = sim.ledger.tasks_created
    assert sim.ledger.entries[-1].task_id == orphan
    clock.advance(10)
    assert (await poll(client, orphan)).json()["status"] == "succeeded"  # and it would be billed

    # An invalid body still fails validation first; the fault then stays queued for the next one.
    sim.add_fault(Fault("submit", "accept_then_status", status=500))
    assert (await submit(client, {"model": "kling/kling-v3"})).status_code == 400
    assert len(sim.ledger.tasks_created) == 1
    assert_envelope(await submit(client, T2V), 500, "INTERNAL_ERROR")
    assert len(sim.ledger.tasks_created) == 2
    assert sim.ledger.entries[-1].fault == "accept_then_status"
    assert (await submit(client, T2V)).status_code == 200


@pytest.mark.anyio
async def test_fail_task_fault_ends_the_next_task_in_failed(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    sim.add_fault(Fault("submit", "fail_task", code="CONTENT_BLOCKED", message="nope"))
    failing, fine = await submit_ok(client), await submit_ok(client)
    clock.advance(5)
    assert (await poll(client, failing)).json()["status"] == "processing"
    clock.advance(5)
    body = (await poll(client, failing)).json()
    assert set(body) == POLL_KEYS
    assert body["status"] == "failed"
    assert body["videos"] is None
    assert ISO_MS_Z_RE.match(body["completed_at"])
    assert set(body["error"]) == {"code", "message", "status", "request_id"}
    assert body["error"]["code"] == "CONTENT_BLOCKED"
    assert body["error"]["message"] == "nope"
    assert body["error"]["status"] == 500
    assert (await client.get(f"http://cdn/files/{failing}.mp4")).status_code == 404
    assert (await poll(client, fine)).json()["status"] == "succeeded"

    sim.add_fault(Fault("submit", "fail_task"))
    default = await submit_ok(client)
    clock.advance(10)
    assert (await poll(client, default)).json()["error"]["code"] == "GENERATION_FAILED"


@pytest.mark.anyio
async def test_expire_task_fault(client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock) -> None:
    task_id, other = await submit_ok(client), await submit_ok(client)
    clock.advance(10)
    sim.add_fault(Fault("poll", "expire_task", task_id=task_id))
    assert (await poll(client, other)).status_code == 200  # targeted fault skips other tasks
    assert_envelope(await poll(client, task_id), 404, "TASK_NOT_FOUND")
    # Expiry is permanent: later polls and the result files are gone too.
    assert_envelope(await poll(client, task_id), 404, "TASK_NOT_FOUND")
    assert (await client.get(f"http://cdn/files/{task_id}.mp4")).status_code == 404
    assert sim.tasks()[task_id].expired


@pytest.mark.anyio
async def test_download_status_and_delay_faults(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    task_id = await submit_ok(client)
    clock.advance(10)
    sim.add_fault(Fault("download", "status", status=403, task_id=task_id))
    sim.add_fault(Fault("download", "delay", seconds=0.05))
    assert_envelope(await client.get(f"http://cdn/files/{task_id}.jpg"), 403, "FORBIDDEN")
    assert (await client.get(f"http://cdn/files/{task_id}.jpg")).status_code == 200
    assert sim.ledger.count("download", task_id) == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"target": "upload", "kind": "status"},
        {"target": "poll", "kind": "explode"},
        {"target": "poll", "kind": "accept_then_status"},
        {"target": "poll", "kind": "fail_task"},
        {"target": "submit", "kind": "unknown_status"},
        {"target": "submit", "kind": "expire_task"},
        {"target": "download", "kind": "malformed_json"},
        {"target": "submit", "kind": "status", "task_id": "task_1"},
        {"target": "poll", "kind": "status", "times": 0},
        {"target": "poll", "kind": "status", "status": 99},
        {"target": "poll", "kind": "delay", "seconds": -1},
    ],
)
def test_nonsensical_faults_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies per field
        Fault(**kwargs)


# ------------------------------------------------------------------------------------------------
# Ledger, tasks view, reset
# ------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_ledger_counts_every_request(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    first = await submit_ok(client)
    second = await submit_ok(client)
    await submit(client, {"model": "nope"})
    for _ in range(3):
        await poll(client, first)
    await poll(client, second)
    clock.advance(10)
    await client.get(f"http://cdn/files/{first}.mp4")
    await client.get("http://sim/_simulator/ledger")

    ledger = sim.ledger
    assert ledger.submits_received == 3
    assert ledger.tasks_created == [first, second]
    assert ledger.count("submit") == 3
    assert ledger.count("submit", status=400) == 1
    assert ledger.count("poll") == 4
    assert ledger.count("poll", first) == 3
    assert ledger.count("download", first) == 1
    assert ledger.count("control") == 1
    assert len(ledger) == 9
    entries = ledger.entries
    assert [e.kind for e in entries[:3]] == ["submit"] * 3
    assert entries[0].task_id == first
    assert entries[2].task_id is None
    assert entries[0].method == "POST"
    assert entries[0].path == "/imini/router/v1/videos/generate"
    assert all(a.time <= b.time for a, b in itertools.pairwise(entries))
    assert entries[-2].sim_time == 10

    snapshot = ledger.to_json()
    assert json.loads(json.dumps(snapshot)) == snapshot
    assert snapshot["submits_received"] == 3
    assert snapshot["tasks_created"] == [first, second]
    rebuilt = Ledger.from_json(snapshot)
    assert rebuilt.entries == entries
    assert rebuilt.count("poll", first) == 3


@pytest.mark.anyio
async def test_tasks_view_is_a_snapshot_and_reset_forgets_everything(
    client: httpx2.AsyncClient, sim: Simulator
) -> None:
    task_id = await submit_ok(client)
    view = sim.tasks()
    view[task_id].request["prompt"] = "changed"  # a copy: must not leak into the simulator
    with pytest.raises(AttributeError):
        view[task_id].status = "failed"  # type: ignore[misc]
    assert sim.tasks()[task_id].request["prompt"] == T2V["prompt"]

    sim.add_fault(Fault("submit", "status", status=500))
    sim.reset()
    assert sim.tasks() == {}
    assert len(sim.ledger) == 0
    assert (await submit(client, T2V)).status_code == 200  # the fault is gone too
    assert_envelope(await poll(client, task_id), 404, "TASK_NOT_FOUND")


# ------------------------------------------------------------------------------------------------
# Synthetic large videos
# ------------------------------------------------------------------------------------------------


def test_synthetic_mp4_is_exact_and_constant_memory() -> None:
    size = 500 * 1024 * 1024 + 7
    tracemalloc.start()
    try:
        total = 0
        for i, chunk in enumerate(iter_synthetic_mp4(size)):
            if i == 0:
                assert chunk[4:8] == b"ftyp"
                assert chunk[32:36] == b"mdat"
                assert int.from_bytes(chunk[28:32], "big") == size - 28
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size
    assert peak < 1024 * 1024  # streaming 500 MB never holds more than a chunk or two

    huge = next(iter_synthetic_mp4(5 * 1024**3))  # > 4 GiB needs mdat's 64-bit largesize form
    assert huge[28:36] == b"\x00\x00\x00\x01mdat"
    assert int.from_bytes(huge[36:44], "big") == 5 * 1024**3 - 28
    with pytest.raises(ValueError):  # noqa: PT011
        SimulatorConfig(video_size=MIN_VIDEO_SIZE - 1)


@pytest.mark.anyio
async def test_video_size_serves_a_synthetic_mp4_in_process() -> None:
    clock = ManualClock()
    size = 3 * 1024 * 1024 + 5
    sim = Simulator(SimulatorConfig(clock=clock, video_size=size))
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=sim.app), base_url="http://sim/imini/router", headers=AUTH
    ) as c:
        task_id = await submit_ok(c)
        clock.advance(10)
        response = await c.get(f"http://cdn/files/{task_id}.mp4")
        assert response.status_code == 200
        assert response.headers["content-length"] == str(size)
        assert len(response.content) == size
        assert response.content[4:8] == b"ftyp"
        assert response.content[-1000:] == bytes(1000)

        sim.add_fault(Fault("download", "reset"))
        with pytest.raises(SimulatedConnectionReset, match=f"{size // 2}/{size}"):
            await c.get(f"http://cdn/files/{task_id}.mp4")


# ------------------------------------------------------------------------------------------------
# Control API
# ------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_control_api(client: httpx2.AsyncClient, sim: Simulator) -> None:
    control = "http://sim/_simulator"
    added = await client.post(f"{control}/faults", json={"target": "submit", "kind": "status", "status": 429})
    assert added.status_code == 204
    assert_envelope(await submit(client, T2V), 429, "RATE_LIMITED")

    for bad in ({"target": "submit"}, {"target": "submit", "kind": "status", "bogus": 1}, ["x"]):
        assert_envelope(await client.post(f"{control}/faults", json=bad), 400, "INVALID_PARAMETER")
    assert_envelope(await client.post(f"{control}/faults", content=b"{"), 400, "INVALID_PARAMETER")

    task_id = await submit_ok(client)
    ledger = (await client.get(f"{control}/ledger")).json()
    assert ledger["submits_received"] == 2
    assert ledger["tasks_created"] == [task_id]
    assert [e["kind"] for e in ledger["entries"]] == ["control", "submit"] + ["control"] * 4 + ["submit"]
    assert Ledger.from_json(ledger).count("submit", status=429) == 1

    assert (await client.post(f"{control}/reset")).status_code == 204
    assert sim.tasks() == {}
    assert sim.ledger.tasks_created == []


# ------------------------------------------------------------------------------------------------
# Real sockets
# ------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_serve_simulator_on_loopback() -> None:
    sim = Simulator(SimulatorConfig(queued_seconds=0, processing_seconds=0, video_size=32 * 1024 * 1024))
    async with serve_simulator(sim) as base_url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/imini/router", base_url)
        assert base_url.startswith(sim.config.public_base_url)
        async with httpx2.AsyncClient(base_url=base_url, headers=AUTH, timeout=10) as c:
            task_id = await submit_ok(c, DOC_EXAMPLE)
            body = (await poll(c, task_id)).json()
            assert body["status"] == "succeeded"
            video_url = body["videos"][0]["url"]
            assert video_url == f"{sim.config.public_base_url}/files/{task_id}.mp4"

            # A 32 MB synthetic video, streamed over the socket.
            received, first = 0, b""
            async with c.stream("GET", video_url) as response:
                assert response.headers["content-length"] == str(32 * 1024 * 1024)
                async for chunk in response.aiter_raw():
                    first = first or chunk
                    received += len(chunk)
            assert received == 32 * 1024 * 1024
            assert first[4:8] == b"ftyp"

            # Reset: the connection really drops (headers sent, body cut short).
            sim.add_fault(Fault("poll", "reset"))
            with pytest.raises((httpx2.RemoteProtocolError, httpx2.ReadError)):
                await poll(c, task_id)
            sim.add_fault(Fault("download", "reset"))
            with pytest.raises((httpx2.RemoteProtocolError, httpx2.ReadError)):
                await c.get(video_url)

            # Delay: long enough for a client read timeout to fire.
            sim.add_fault(Fault("poll", "delay", seconds=0.5))
            with pytest.raises(httpx2.ReadTimeout):
                await c.get(f"/v1/videos/tasks/{task_id}", timeout=0.1)
            assert (await poll(c, task_id)).status_code == 200

    assert sim.ledger.count("submit") == 1
    assert sim.ledger.count("download") == 2
    # The server is gone after the context exits.
    async with httpx2.AsyncClient(base_url=base_url) as c:
        with pytest.raises(httpx2.ConnectError):
            await c.get("/v1/videos/tasks/x")


def test_cli_runs_standalone_and_stops_on_sigterm() -> None:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "imini_mcp.simulator",
            "--port",
            "0",
            "--queued-seconds",
            "0",
            "--api-key",
            "k",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )
    try:
        assert process.stderr is not None
        base_url = process.stderr.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/imini/router", base_url), base_url
        response = httpx2.post(
            f"{base_url}/v1/videos/generate", json=T2V, headers={"Authorization": "Bearer k"}, timeout=5
        )
        assert response.status_code == 200
        assert (
            httpx2.get(f"{base_url}/v1/videos/tasks/{response.json()['task_id']}", timeout=5).status_code
            == 401
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
            if process.stderr is not None:
                process.stderr.close()
    assert returncode == 0


@pytest.mark.anyio
async def test_serve_simulator_reports_bind_errors() -> None:
    sim = Simulator()
    async with serve_simulator(sim) as base_url:
        port = int(base_url.split(":")[2].split("/")[0])
        with pytest.raises(OSError):  # noqa: PT011 - the second bind must fail, whatever errno
            async with serve_simulator(Simulator(), port=port):
                pass
        # The first server is unaffected.
        async with httpx2.AsyncClient(base_url=base_url, headers=AUTH) as c:
            assert (await submit(c, T2V)).status_code == 200
