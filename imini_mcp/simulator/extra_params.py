"""``extra_params`` checks: multi-shot and its shots (``multi_prompt``), tuning fields, camera control."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from imini_mcp.simulator.checks import check_enum, is_int, is_number, unknown_keys
from imini_mcp.simulator.model_rules import ModelRules

_SHOT_TYPES = ("customize", "intelligence")
_CAMERA_TYPES = ("simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward")
_CAMERA_AXES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")
_SHOT_KEYS = frozenset({"index", "prompt", "duration"})
_DIGITS = re.compile(r"[0-9]+")


def check_extra_params(
    extra: Mapping[str, Any], rules: ModelRules, duration: int | None, problems: list[str]
) -> tuple[bool, bool]:
    """Validates ``extra_params`` against the model's keys; returns (multi_shot on, customize mode on)."""
    problems.extend(unknown_keys(extra, rules.extra_keys, "extra_params"))
    multi_shot = False
    if "multi_shot" in extra and "multi_shot" in rules.extra_keys:
        if isinstance(extra["multi_shot"], bool):
            multi_shot = extra["multi_shot"]
        else:
            problems.append("extra_params.multi_shot: must be a boolean")
    customize = False
    if "shot_type" in rules.extra_keys:
        check_enum(extra, "shot_type", _SHOT_TYPES, "extra_params.", problems)
        if multi_shot and "shot_type" not in extra:
            problems.append(
                "extra_params.shot_type: required when multi_shot is true (customize|intelligence)"
            )
        customize = multi_shot and extra.get("shot_type") == "customize"

    shot_durations = _check_multi_prompt(extra, problems) if "multi_prompt" in rules.extra_keys else []
    if customize:
        _check_storyboard(extra, shot_durations, duration, problems)
    _check_tuning(extra, rules, problems)
    return multi_shot, customize


def _check_storyboard(
    extra: Mapping[str, Any], shot_durations: list[int], duration: int | None, problems: list[str]
) -> None:
    """Customize mode: 1 to 6 shots whose durations add up to the video's duration."""
    shots = extra.get("multi_prompt")
    if "multi_prompt" not in extra:
        problems.append("extra_params.multi_prompt: required with multi_shot true and shot_type 'customize'")
    elif isinstance(shots, list):
        total = sum(shot_durations)
        if not 1 <= len(shots) <= 6:
            problems.append(f"extra_params.multi_prompt: must have 1 to 6 shots (got {len(shots)})")
        elif len(shot_durations) == len(shots) and duration is not None and total != duration:
            # Only comparable when every shot duration and the total itself are valid.
            problems.append(
                f"extra_params.multi_prompt: shot durations add up to {total}s but duration is "
                f"{duration}s (they must be equal; duration defaults to 5)"
            )


def _check_tuning(extra: Mapping[str, Any], rules: ModelRules, problems: list[str]) -> None:
    """The single-value fields: negative prompt, cfg scale, camera control, orientation, audio setting."""
    if "negative_prompt" in extra and "negative_prompt" in rules.extra_keys:
        negative = extra["negative_prompt"]
        if not isinstance(negative, str):
            problems.append("extra_params.negative_prompt: must be a string")
        elif len(negative) > 2500:
            problems.append(f"extra_params.negative_prompt: at most 2500 characters (got {len(negative)})")
    if "cfg_scale" in extra and "cfg_scale" in rules.extra_keys:
        cfg = extra["cfg_scale"]
        if not is_number(cfg) or not 0 <= cfg <= 1:
            problems.append(f"extra_params.cfg_scale: must be a number between 0 and 1 (got {cfg!r})")
    if "camera_control" in extra and "camera_control" in rules.extra_keys:
        _check_camera_control(extra["camera_control"], problems)
    if "character_orientation" in rules.extra_keys:
        check_enum(extra, "character_orientation", ("image", "video"), "extra_params.", problems)
    if "audio_setting" in rules.extra_keys:
        check_enum(extra, "audio_setting", ("auto", "origin"), "extra_params.", problems)


def _check_multi_prompt(extra: Mapping[str, Any], problems: list[str]) -> list[int]:
    """Validates the shape of each shot; returns the durations of the shots whose duration is valid."""
    if "multi_prompt" not in extra:
        return []
    shots = extra["multi_prompt"]
    if not isinstance(shots, list):
        problems.append("extra_params.multi_prompt: must be an array of shots")
        return []
    durations: list[int] = []
    for i, shot in enumerate(shots):
        where = f"extra_params.multi_prompt[{i}]"
        if not isinstance(shot, dict):
            problems.append(f"{where}: must be an object {{index, prompt, duration}}")
            continue
        problems.extend(unknown_keys(shot, _SHOT_KEYS, where))
        if "index" not in shot:
            problems.append(f"{where}.index: required")
        elif not is_int(shot["index"]) or shot["index"] != i + 1:
            problems.append(f"{where}.index: must be the integer {i + 1} (shots are numbered 1..N in order)")
        prompt = shot.get("prompt")
        if "prompt" not in shot:
            problems.append(f"{where}.prompt: required")
        elif not isinstance(prompt, str) or not prompt.strip():
            problems.append(f"{where}.prompt: must be a non-empty string")
        elif len(prompt) > 512:
            problems.append(f"{where}.prompt: at most 512 characters (got {len(prompt)})")
        seconds = shot.get("duration")
        if "duration" not in shot:
            problems.append(f'{where}.duration: required (a string such as "3")')
        elif not isinstance(seconds, str) or not _DIGITS.fullmatch(seconds) or int(seconds) < 1:
            problems.append(
                f'{where}.duration: must be a string of an integer >= 1, e.g. "3" (got {seconds!r})'
            )
        else:
            durations.append(int(seconds))
    return durations


def _check_camera_control(camera: object, problems: list[str]) -> None:
    """``{type, config}``: a preset type, or 'simple' with exactly one non-zero axis in -10..10."""
    where = "extra_params.camera_control"
    if not isinstance(camera, dict):
        problems.append(f"{where}: must be an object {{type, config}}")
        return
    problems.extend(unknown_keys(camera, frozenset({"type", "config"}), where))
    kind = camera.get("type")
    if "type" not in camera:
        problems.append(f"{where}.type: required ({', '.join(_CAMERA_TYPES)})")
    else:
        check_enum(camera, "type", _CAMERA_TYPES, f"{where}.", problems)

    if "config" not in camera:
        if kind == "simple":
            problems.append(f"{where}.config: required when type is 'simple'")
        return
    if kind != "simple":
        problems.append(f"{where}.config: only allowed when type is 'simple'")
    config = camera["config"]
    if not isinstance(config, dict):
        problems.append(f"{where}.config: must be an object")
        return
    problems.extend(unknown_keys(config, frozenset(_CAMERA_AXES), f"{where}.config"))
    non_zero = 0
    for axis in _CAMERA_AXES:
        if axis not in config:
            continue
        value = config[axis]
        if not is_number(value) or not -10 <= value <= 10:
            problems.append(f"{where}.config.{axis}: must be a number between -10 and 10 (got {value!r})")
        elif value != 0:
            non_zero += 1
    if kind == "simple" and non_zero != 1:
        problems.append(f"{where}.config: type 'simple' needs exactly one non-zero value (got {non_zero})")
