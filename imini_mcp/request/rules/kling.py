"""The kling family's cross-field rules (imini-api.md §3–4): storyboards (kling-v3 and kling-v3-omni, special
"storyboard") and camera moves (kling-v3, special "camera"). Each rule skips values that already failed on
their own, so every problem is reported once.
"""

from __future__ import annotations

from imini_mcp.request.catalog import MAX_DURATION, MAX_SHOTS, MIN_DURATION
from imini_mcp.request.parts import CAMERA_AXES, CameraControl, ExtraParams, Shot
from imini_mcp.request.problems import Problem, format_path
from imini_mcp.request.rules.fields import Args, prompt_problems
from imini_mcp.request.schema import GenerateVideoArguments, VideoRequest
from imini_mcp.request.spec import ModelSpec

# ---------------------------------------------------------------------------------------------------
# Storyboards


def storyboard_problems(args: Args, spec: ModelSpec, refused: list[str]) -> list[Problem]:
    """multi_shot needs shot_type, and shot_type and multi_prompt need multi_shot; the prompt is required
    unless the shots carry their own; a custom storyboard's shots add up; only a single first_frame image."""
    req = args.value
    assert req is not None
    extra = req.extra_params or ExtraParams.model_construct()
    multi_shot = bool(extra.multi_shot)
    problems = _switch_problems(args, extra)
    # With multi_shot on but shot_type missing the intent is unclear; the missing shot_type is reported.
    if not multi_shot or extra.shot_type == "intelligence":
        why = "with shot_type intelligence" if multi_shot else "unless this is a custom storyboard"
        problems += prompt_problems(args, spec, why)
    if multi_shot and extra.shot_type == "customize":
        problems += _shot_problems(args, spec, extra.multi_prompt)
    if multi_shot and extra.shot_type == "intelligence" and extra.multi_prompt is not None:
        problems.append(
            Problem(
                "extra_params.multi_prompt",
                "is not used with shot_type intelligence.",
                'remove multi_prompt, or use "shot_type": "customize" to give the shots yourself.',
            )
        )
    return problems + _storyboard_image_problems(req, extra)


def _switch_problems(args: Args, extra: ExtraParams) -> list[Problem]:
    if extra.multi_shot:
        if extra.shot_type is not None or args.is_invalid("extra_params", "shot_type"):
            return []
        return [
            Problem(
                "extra_params.shot_type",
                "is required when multi_shot is true.",
                'add "shot_type": "customize" (you give the shots) or "intelligence".',
            )
        ]
    if args.is_invalid("extra_params", "multi_shot"):
        return []
    return [
        Problem(
            f"extra_params.{key}",
            "only works with multi_shot true (imini would ignore it).",
            'set "extra_params.multi_shot": true, or remove it.',
        )
        for key in ("shot_type", "multi_prompt")
        if getattr(extra, key) is not None
    ]


def _shot_problems(args: Args, spec: ModelSpec, shots: list[Shot] | None) -> list[Problem]:
    """The shots of a custom storyboard: present, numbered in order, adding up to the duration."""
    if shots is None:
        if args.is_invalid("extra_params", "multi_prompt"):
            return []
        return [
            Problem(
                "extra_params.multi_prompt",
                "is required for a custom storyboard (shot_type customize).",
                f'add 1–{MAX_SHOTS} shots like {{"prompt": "…", "duration": "3"}}.',
            )
        ]
    problems = [
        Problem(
            format_path(("extra_params", "multi_prompt", position - 1, "index")),
            f"is {shot.index} but this is shot {position}; indexes must run 1..{len(shots)} in order.",
            f"set it to {position}, or leave index out everywhere to number shots by position.",
        )
        for position, shot in enumerate(shots, start=1)
        if shot is not None and shot.index is not None and shot.index != position
    ]
    durations_known = not any(args.is_invalid("extra_params", "multi_prompt", i) for i in range(len(shots)))
    if not durations_known or any(s is None for s in shots):
        return problems
    return problems + _sum_problems(args, spec, shots)


def _sum_problems(args: Args, spec: ModelSpec, shots: list[Shot]) -> list[Problem]:
    req = args.value
    assert req is not None
    total = sum(shot.duration for shot in shots)
    parts = " + ".join(str(shot.duration) for shot in shots)
    low, high = spec.duration or (MIN_DURATION, MAX_DURATION)
    if args.is_invalid("duration"):
        return []
    if req.duration is not None and total != req.duration:
        return [
            Problem(
                "extra_params.multi_prompt",
                f"shot durations add up to {total} s ({parts}) but duration is {req.duration} s.",
                f"make the shots add up to {req.duration} s, or set duration to {total} (or leave it out).",
            )
        ]
    if req.duration is None and not low <= total <= high:
        return [
            Problem(
                "extra_params.multi_prompt",
                f"shot durations add up to {total} s ({parts}); a video is {low}–{high} s.",
                f"change the shot durations so they total between {low} and {high} s.",
            )
        ]
    return []


def _storyboard_image_problems(req: GenerateVideoArguments, extra: ExtraParams) -> list[Problem]:
    images = req.reference_images or []
    if not (extra.multi_shot and images):
        return []
    roles = [img.reference_type for img in images if img is not None]
    problems: list[Problem] = []
    if "last_frame" in roles:
        problems.append(
            Problem(
                "reference_images",
                "has a last_frame, which does not work with multi_shot. [UPSTREAM]",
                "remove the last_frame image, or turn multi_shot off.",
            )
        )
    if "asset" in roles or len(images) > 1:
        problems.append(
            Problem(
                "reference_images",
                "with multi_shot, only a single first_frame image is allowed. [INFER]",
                "keep one first_frame image, or turn multi_shot off.",
            )
        )
    return problems


def storyboard_first_notes(req: VideoRequest, spec: ModelSpec) -> list[str]:
    if any(img.reference_type == "first_frame" for img in req.reference_images or []) and (
        "aspect_ratio" in req.model_fields_set
    ):
        return [
            "With a first_frame image Kling follows the image's aspect ratio; aspect_ratio may be ignored."
        ]
    return []


def storyboard_notes(req: VideoRequest, spec: ModelSpec) -> list[str]:
    if req.extra_params and req.extra_params.shot_type == "intelligence":
        return [
            "shot_type intelligence is documented upstream (Kling) but only customize appears in "
            "imini's kling-v3 docs [INFER]."
        ]
    return []


# ---------------------------------------------------------------------------------------------------
# Camera moves


def camera_problems(args: Args, spec: ModelSpec, refused: list[str]) -> list[Problem]:
    """camera_control never with a last_frame; type simple needs a config with exactly one non-zero value,
    and the preset moves take none."""
    req = args.value
    assert req is not None
    camera = req.extra_params.camera_control if req.extra_params else None
    if camera is None:
        return []
    problems: list[Problem] = []
    if any(img is not None and img.reference_type == "last_frame" for img in req.reference_images or []):
        problems.append(
            Problem(
                "extra_params.camera_control",
                "cannot be combined with a last_frame image. [UPSTREAM]",
                "remove camera_control, or remove the last_frame image.",
            )
        )
    if args.is_invalid("extra_params", "camera_control"):
        return problems
    return problems + _camera_config_problems(camera)


def _camera_config_problems(camera: CameraControl) -> list[Problem]:
    path = "extra_params.camera_control.config"
    if camera.type != "simple":
        if camera.config is None:
            return []
        return [
            Problem(
                path,
                f"is only used with type simple, not {camera.type}. [UPSTREAM]",
                'remove config, or use "type": "simple" with one movement.',
            )
        ]
    if camera.config is None:
        return [
            Problem(
                path,
                "is required with type simple.",
                'add a config with exactly one non-zero value, e.g. {"zoom": 5}.',
            )
        ]
    moving = [axis for axis in CAMERA_AXES if getattr(camera.config, axis)]
    if len(moving) == 1:
        return []
    said = ", ".join(moving) if moving else "none"
    return [
        Problem(
            path,
            f"must have exactly one non-zero value with type simple (non-zero: {said}).",
            "keep one of horizontal, vertical, pan, tilt, roll, zoom non-zero and set the rest to 0.",
        )
    ]
