"""The submit validator (spec sections 2–4 and 7), independent of the package's validator."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from imini_mcp.simulator.checks import check_enum, is_int, unknown_keys
from imini_mcp.simulator.config import MODEL
from imini_mcp.simulator.extra_params import check_extra_params
from imini_mcp.simulator.model_rules import ANY_TOP_KEY, MODELS, RULES, ModelRules
from imini_mcp.simulator.references import check_media, check_reference_images

_PROMPT_REFERENCE = re.compile(r"<<<(image|video)_(\d+)>>>")


def validate_generate_request(body: object) -> list[str]:
    """Every violated rule of the requested model, as ``"path: problem"`` strings; empty if valid.

    Strict on purpose: types must match exactly (``null`` is not "absent"), unknown fields anywhere
    are rejected (including fields only other models take), and the multi-shot, reference-image,
    reference-video and reference-audio combination rules are enforced. A missing or unknown
    ``model`` is reported, and the rest is checked as ``kling/kling-v3``.
    """
    if not isinstance(body, dict):
        return ["request body must be a JSON object"]
    problems: list[str] = []
    name = _check_model(body, problems)
    rules = RULES[name]
    _check_plain_fields(body, name, rules, problems)
    duration = _check_duration(body, rules, problems)

    roles = check_reference_images(body, rules, problems)
    videos = check_media(body, "reference_videos", rules.videos, rules.refer_types, problems)
    audios = check_media(body, "reference_audios", (0, rules.audios_max), (), problems)
    extra = _extra_params_of(body, rules, problems)
    multi_shot, customize = check_extra_params(extra, rules, duration, problems)
    _check_prompt(body, name, customize, (len(roles), len(videos)), problems)

    _check_frame_combinations(roles, multi_shot, extra, bool(videos or audios), problems)
    _check_model_combinations(name, body, roles, videos, audios, extra, problems)
    if rules.body_max is not None:
        size = len(json.dumps(body, ensure_ascii=False).encode())
        if size > rules.body_max:
            problems.append(f"request body: at most {rules.body_max} bytes for {name} (got {size})")
    return problems


def _check_model(body: Mapping[str, Any], problems: list[str]) -> str:
    """Reports a missing or unknown ``model``; returns the model whose rules apply to the rest."""
    model = body.get("model")
    if "model" not in body:
        problems.append(f"model: required (one of {', '.join(MODELS)})")
    elif model not in RULES:
        problems.append(f"model: must be one of {', '.join(MODELS)} (got {model!r})")
    return model if isinstance(model, str) and model in RULES else MODEL


def _check_plain_fields(body: Mapping[str, Any], name: str, rules: ModelRules, problems: list[str]) -> None:
    """Unknown top-level fields (naming the model if another model takes them), enums, generate_audio."""
    for problem in unknown_keys(body, rules.top_keys(), ""):
        key = problem.split(":", 1)[0]
        problems.append(f"{problem} for {name}" if key in ANY_TOP_KEY else problem)
    check_enum(body, "resolution", rules.resolutions, "", problems)
    if rules.aspect_ratios:
        check_enum(body, "aspect_ratio", rules.aspect_ratios, "", problems)
    if rules.audio and "generate_audio" in body and not isinstance(body["generate_audio"], bool):
        problems.append("generate_audio: must be a boolean")


def _check_duration(body: Mapping[str, Any], rules: ModelRules, problems: list[str]) -> int | None:
    """The requested duration (default 5), or None once known to be invalid."""
    if not rules.durations or "duration" not in body:
        return 5  # documented default
    value = body["duration"]
    low, high = rules.durations
    if not is_int(value):
        problems.append(f"duration: must be an integer number of seconds (got {value!r})")
        return None
    if not low <= value <= high:
        problems.append(f"duration: must be between {low} and {high} (got {value})")
        return None
    duration: int = value
    return duration


def _extra_params_of(body: Mapping[str, Any], rules: ModelRules, problems: list[str]) -> Mapping[str, Any]:
    """``extra_params`` if the model takes it and it is an object, else an empty mapping."""
    if "extra_params" in body and rules.extra_keys:
        if isinstance(body["extra_params"], dict):
            extra: Mapping[str, Any] = body["extra_params"]
            return extra
        problems.append("extra_params: must be an object")
    return {}


def _check_prompt(
    body: Mapping[str, Any], name: str, customize: bool, references: tuple[int, int], problems: list[str]
) -> None:
    """The prompt: required and non-empty unless in customize mode, within the model's length."""
    rules = RULES[name]
    if "prompt" in body:
        prompt = body["prompt"]
        if not isinstance(prompt, str):
            problems.append("prompt: must be a string")
        elif len(prompt) > rules.prompt_max:
            problems.append(f"prompt: at most {rules.prompt_max} characters (got {len(prompt)})")
        elif not customize and not prompt.strip():
            problems.append("prompt: must not be empty (only multi_shot with shot_type 'customize' omits it)")
        else:
            _check_prompt_references(name, prompt, *references, problems)
    elif not customize:
        problems.append(
            "prompt: required unless extra_params.multi_shot is true with shot_type 'customize'"
            if "multi_shot" in rules.extra_keys
            else f"prompt: required for {name}"
        )


def _check_prompt_references(model: str, prompt: str, images: int, videos: int, problems: list[str]) -> None:
    """kling-v3-omni: <<<image_N>>> / <<<video_N>>> must name an input that exists."""
    if model != "kling/kling-v3-omni":
        return
    for kind, number in sorted(set(_PROMPT_REFERENCE.findall(prompt))):
        have = images if kind == "image" else videos
        if not 1 <= int(number) <= have:
            problems.append(
                f"prompt: <<<{kind}_{number}>>> refers to a missing reference {kind} (have {have})"
            )


def _check_frame_combinations(
    roles: list[str], multi_shot: bool, extra: Mapping[str, Any], other_media: bool, problems: list[str]
) -> None:
    """First/last frame images exclude multi-shot, camera control and reference videos or audio."""
    if "last_frame" in roles:
        if multi_shot:
            problems.append("reference_images: a last_frame image cannot be combined with multi_shot")
        if "camera_control" in extra:
            problems.append("extra_params.camera_control: cannot be combined with a last_frame image")
    if ("first_frame" in roles or "last_frame" in roles) and other_media:
        problems.append(
            "reference_images: first_frame/last_frame images cannot be combined with reference videos or audio"
        )


def _check_model_combinations(
    model: str,
    body: Mapping[str, Any],
    roles: list[str],
    videos: list[Mapping[str, Any]],
    audios: list[Mapping[str, Any]],
    extra: Mapping[str, Any],
    problems: list[str],
) -> None:
    """The rules only one model has (imini-api.md §7)."""
    if model == "kling/kling-v3-omni" and videos:
        if any(v.get("refer_type") == "base" for v in videos) and "duration" in body:
            problems.append("duration: not accepted in a video edit (reference_videos refer_type 'base')")
        if extra.get("multi_shot") is True:
            problems.append("extra_params.multi_shot: cannot be combined with reference_videos")
        if body.get("generate_audio") is True:
            problems.append("generate_audio: cannot be true with reference_videos")
    elif model in ("doubao/seedance-2.0", "doubao/seedance-2.0-fast"):
        if audios and "asset" not in roles and not videos:
            problems.append("reference_audios: need at least one asset image or reference video")
    elif model == "dashscope/happyhorse-1.0":
        if videos and "duration" in body:
            problems.append("duration: not accepted in a video edit (with reference_videos)")
        if (videos or "first_frame" in roles) and "aspect_ratio" in body:
            problems.append("aspect_ratio: only for text-to-video and reference-to-video")
        if videos and roles.count("asset") > 5:
            problems.append(
                f"reference_images: a video edit takes at most 5 images (got {roles.count('asset')})"
            )
        if "audio_setting" in extra and not videos:
            problems.append("extra_params.audio_setting: only for a video edit (with reference_videos)")
    elif model == "kling/kling-v3-motion-control" and "character_orientation" not in extra:
        problems.append("extra_params.character_orientation: required (image or video)")
