"""list_models, and switching models within one MCP session, through `mcp.Client` against the simulated imini."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imini_mcp.mcp.tools.list_models import ModelList
from imini_mcp.request import CATALOG, MODEL_IDS
from tests.conftest import Backend
from tests.e2e.test_inspector import INSPECTOR, NODE, inspector

IMAGE = "https://example.com/cat.png"
VIDEO = "https://example.com/dance.mp4"
AUDIO = "https://example.com/beat.mp3"

# One request per model: the arguments, the exact body, the estimated credits, and the video's size.
SESSION: list[tuple[dict[str, Any], dict[str, Any], int, tuple[int, int]]] = [
    (
        {"prompt": "a red fox in snow", "duration": 5},
        {"model": "kling/kling-v3", "prompt": "a red fox in snow", "duration": 5},
        120 * 5,
        (1280, 720),
    ),
    (
        {
            "model": "kling/kling-v3-omni",
            "prompt": "<<<image_1>>> dances like <<<video_1>>>",
            "reference_images": [{"url": IMAGE}],
            "reference_videos": [{"url": VIDEO, "refer_type": "feature"}],
            "aspect_ratio": "9:16",
        },
        {
            "model": "kling/kling-v3-omni",
            "prompt": "<<<image_1>>> dances like <<<video_1>>>",
            "aspect_ratio": "9:16",
            "reference_images": [{"url": IMAGE, "reference_type": "asset"}],
            "reference_videos": [{"url": VIDEO, "refer_type": "feature"}],
        },
        170 * 5,
        (720, 1280),
    ),
    (
        {
            "model": "kling/kling-v3-motion-control",
            "prompt": "the cat dances",
            "resolution": "1080P",
            "reference_images": [{"url": IMAGE}],
            "reference_videos": [{"url": VIDEO}],
            "extra_params": {"character_orientation": "image"},
        },
        {
            "model": "kling/kling-v3-motion-control",
            "prompt": "the cat dances",
            "resolution": "1080P",
            "reference_images": [{"url": IMAGE}],
            "reference_videos": [{"url": VIDEO}],
            "extra_params": {"character_orientation": "image"},
        },
        220 * 5,
        (1920, 1080),
    ),
    (
        {
            "model": "doubao/seedance-2.0",
            "prompt": "a cat on a beat",
            "resolution": "480P",
            "aspect_ratio": "21:9",
            "duration": 6,
            "reference_images": [{"url": IMAGE}],
            "reference_audios": [{"url": AUDIO}],
        },
        {
            "model": "doubao/seedance-2.0",
            "prompt": "a cat on a beat",
            "resolution": "480P",
            "aspect_ratio": "21:9",
            "duration": 6,
            "reference_images": [{"url": IMAGE, "reference_type": "asset"}],
            "reference_audios": [{"url": AUDIO}],
        },
        100 * 6,
        (1120, 480),
    ),
    (
        {"model": "doubao/seedance-2.0-fast", "prompt": "a fox", "aspect_ratio": "1:1"},
        {"model": "doubao/seedance-2.0-fast", "prompt": "a fox", "aspect_ratio": "1:1"},
        160 * 5,
        (720, 720),
    ),
    (
        {"model": "dashscope/happyhorse-1.0", "prompt": "a cardboard city at night", "duration": 4},
        {"model": "dashscope/happyhorse-1.0", "prompt": "a cardboard city at night", "duration": 4},
        300 * 4,
        (1920, 1080),
    ),
]


def _by_id(listing: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {info["id"]: info for info in listing["models"]}


@pytest.mark.anyio
async def test_list_models_describes_every_model(connect: Any, backend: Backend) -> None:
    async with connect() as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        result = await client.call_tool("list_models", {})
    tool = tools["list_models"]
    assert tool.annotations.read_only_hint is True
    assert tool.annotations.idempotent_hint is True
    assert tool.annotations.destructive_hint is False
    assert tool.annotations.open_world_hint is False
    assert tool.output_schema is not None
    assert tool.output_schema["type"] == "object"
    assert tool.input_schema.get("required", []) == []
    # The ids are listed once, in generate_video's `model`; an unknown one is refused naming them all.
    assert tool.input_schema["properties"]["model"]["type"] == ["string", "null"]
    assert not result.is_error
    data = result.structured_content
    ModelList.model_validate(data)
    assert [info["id"] for info in data["models"]] == list(MODEL_IDS)
    assert data["default_model"] == "kling/kling-v3"
    assert [info["id"] for info in data["models"] if info["is_default"]] == ["kling/kling-v3"]
    text = result.content[0].text
    for model in MODEL_IDS:
        assert model in text
    # Every rule a model is checked against is in the text a model reads, and so is what its tags mean.
    for spec in CATALOG.values():
        for rule in spec.rules:
            assert f"  rule: {rule}\n" in text
    for tag, meaning in data["rule_tags"].items():
        assert f"{tag} {meaning}" in text
    assert set(data["rule_tags"]) == {"[DOC]", "[UPSTREAM]", "[INFER]", "[SKILL]"}
    assert len(backend.sim.ledger) == 0  # it asks imini nothing


@pytest.mark.anyio
async def test_list_models_says_each_models_limits_defaults_and_prices(connect: Any) -> None:
    async with connect() as client:
        models = _by_id((await client.call_tool("list_models", {})).structured_content)
    kling = models["kling/kling-v3"]
    assert kling["duration_seconds"] == {"min": 3, "max": 15, "default": 5}
    assert {(p["resolution"], p["audio"], p["credits_per_second"]) for p in kling["prices"]} == {
        ("720P", False, 120),
        ("720P", True, 170),
        ("1080P", False, 160),
        ("1080P", True, 220),
    }
    assert "reference_videos" not in kling["fields"]
    seedance = models["doubao/seedance-2.0"]
    assert seedance["generate_audio_default"] is True
    assert seedance["resolutions"] == ["480P", "720P"]
    assert seedance["default_aspect_ratio"] == "adaptive"
    assert seedance["duration_seconds"] == {"min": 4, "max": 15, "default": 5}
    assert (seedance["reference_videos_max"], seedance["reference_audios_max"]) == (3, 3)
    assert seedance["extra_params"] == []
    assert models["doubao/seedance-2.0-fast"]["prices"][0]["credits_per_second"] == 80
    horse = models["dashscope/happyhorse-1.0"]
    assert horse["default_resolution"] == "1080P"
    assert horse["prompt_max_characters"] == 5000
    assert horse["price_is_rough"] is True
    assert horse["prices"][0]["credits_for_5_seconds"] == 1500
    assert "generate_audio" not in horse["fields"]
    motion = models["kling/kling-v3-motion-control"]
    assert motion["duration_seconds"] is None
    assert motion["aspect_ratios"] == []
    assert motion["extra_params"] == ["character_orientation"]
    assert "reference video" in motion["output_length"]
    omni = models["kling/kling-v3-omni"]
    assert {
        (p["resolution"], p["credits_per_second"]) for p in omni["prices"] if p["with_reference_video"]
    } == {
        ("720P", 170),
        ("1080P", 220),
    }
    for info in models.values():
        assert info["rules"]
        assert all(rule.startswith("[") for rule in info["rules"])


@pytest.mark.anyio
async def test_list_models_filters_and_refuses_unknown_ids(connect: Any) -> None:
    async with connect() as client:
        one = await client.call_tool("list_models", {"model": "doubao/seedance-2.0-fast"})
        unknown = await client.call_tool("list_models", {"model": "google/veo-3"})
        extra = await client.call_tool("list_models", {"models": "all"})
    assert [info["id"] for info in one.structured_content["models"]] == ["doubao/seedance-2.0-fast"]
    assert unknown.is_error
    assert "model:" in unknown.content[0].text
    assert "dashscope/happyhorse-1.0" in unknown.content[0].text
    assert extra.is_error
    assert "models:" in extra.content[0].text


@pytest.mark.anyio
async def test_switching_models_in_one_session(connect: Any, backend: Backend) -> None:
    async with connect() as client:
        for args, body, credits, _ in SESSION:
            dry = await client.call_tool("generate_video", args | {"dry_run": True})
            assert not dry.is_error, dry.content[0].text
            assert dry.structured_content["request_body"] == body
            assert dry.structured_content["estimated_cost"]["credits"] == credits
        assert len(backend.sim.ledger) == 0  # dry runs send nothing

        submitted: dict[str, tuple[dict[str, Any], tuple[int, int]]] = {}
        for args, body, _, size in SESSION:
            real = await client.call_tool("generate_video", args)
            assert not real.is_error, real.content[0].text
            task = real.structured_content["task"]
            assert task["model"] == body["model"]
            submitted[task["task_id"]] = (body, size)
        views = {
            task_id: (
                await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 120})
            ).structured_content
            for task_id in submitted
        }
        listed = await client.call_tool("list_tasks", {"limit": 10})
    assert backend.submits == len(SESSION)
    tasks = backend.sim.tasks()
    for task_id, (body, size) in submitted.items():
        assert tasks[task_id].request == body  # exactly what the dry run showed
        view = views[task_id]
        assert view["status"] == "succeeded"
        assert view["model"] == body["model"]
        [result] = view["videos"]
        assert (result["width"], result["height"]) == size
    assert {entry["task_id"] for entry in listed.structured_content["tasks"]} == set(submitted)


@pytest.mark.anyio
async def test_a_field_the_model_does_not_take_is_refused_in_a_session(
    connect: Any, backend: Backend
) -> None:
    async with connect() as client:
        fine = await client.call_tool("generate_video", {"prompt": "p", "extra_params": {"cfg_scale": 0.5}})
        refused = await client.call_tool(
            "generate_video",
            {"model": "doubao/seedance-2.0", "prompt": "p", "extra_params": {"cfg_scale": 0.5}},
        )
    assert not fine.is_error
    assert refused.is_error
    text = refused.content[0].text
    assert "Not submitted" in text
    assert "doubao/seedance-2.0 has no `extra_params.cfg_scale`" in text
    assert backend.submits == 1


@pytest.mark.skipif(not (NODE.exists() and INSPECTOR.exists()), reason="run scripts/install-node-tools.sh")
def test_list_models_and_another_model_through_the_inspector(tmp_path: Path) -> None:
    code, out, err = inspector(tmp_path, "--method", "tools/call", "--tool-name", "list_models")
    assert code == 0, err
    assert [info["id"] for info in out["result"]["structuredContent"]["models"]] == list(CATALOG)
    body = json.dumps({"model": "doubao/seedance-2.0", "prompt": "a paper boat", "dry_run": True})
    code, out, err = inspector(
        tmp_path, "--method", "tools/call", "--tool-name", "generate_video", "--tool-args-json", body
    )
    assert code == 0, err
    assert out["result"]["structuredContent"]["request_body"] == {
        "model": "doubao/seedance-2.0",
        "prompt": "a paper boat",
    }
    assert out["result"]["structuredContent"]["estimated_cost"]["credits"] == 1000
