"""The per-model rules, read from the catalogue: which fields a model takes, its enums, ranges and limits,
its reference-media combinations, and the few rules only one model has (its `special` hooks).

Every function takes the field-by-field `Parsed` arguments and the model's `ModelSpec` and returns
`Problem`s; values that already failed on their own are skipped, so each problem is reported once. The kling
family's storyboard and camera rules stay in models.py, next to the types they check.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from imini_mcp.request.catalog import (
    ASSUMED_VIDEO_SECONDS,
    BODY_FIELDS,
    CATALOG,
    DEFAULT_MODEL,
    EXTRA_PARAMS,
    MODEL_IDS,
    ModelSpec,
    models_taking,
    models_with,
)
from imini_mcp.request.validation import Parsed, Problem

if TYPE_CHECKING:
    from imini_mcp.request.schema import GenerateVideoArguments, VideoRequest

Args = Parsed["GenerateVideoArguments"]


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "…"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _is_set(args: Args, name: str) -> bool:
    """Set by the caller (an explicit null means unset) and valid on its own."""
    req = args.value
    return req is not None and name in req.model_fields_set and not args.is_invalid(name)


# ---------------------------------------------------------------------------------------------------
# Which model


def choose_model(args: Args) -> tuple[ModelSpec, list[Problem]]:
    """The spec whose rules apply, and the problem with `model` if it names no catalogued model.

    An unknown model is checked as its closest catalogued id (a typo of seedance is still checked as
    seedance), else as the default, so every other problem still comes back in the same answer."""
    req = args.value
    if req is None or args.is_invalid("model"):
        return CATALOG[DEFAULT_MODEL], []
    model = req.model
    if model in CATALOG:
        return CATALOG[model], []
    close = difflib.get_close_matches(model, MODEL_IDS, n=1, cutoff=0.6)
    spec = CATALOG[close[0]] if close else CATALOG[DEFAULT_MODEL]
    guess = f"did you mean {close[0]}? " if close else ""
    return spec, [
        Problem(
            "model",
            f"must be one of {', '.join(MODEL_IDS)} (got {_show(model)}).",
            f"{guess}Use one of these ids, spelled exactly (list_models describes them); the other fields "
            f"were checked against {spec.id}.",
        )
    ]


# ---------------------------------------------------------------------------------------------------
# Fields a model does not take, and each field's per-model enum, range and limit

_HINTS: dict[str, str] = {
    "negative_prompt": "describe what to avoid in the prompt",
    "camera_control": "describe the camera move in the prompt",
    "multi_shot": "describe the shots in one prompt",
    "shot_type": "describe the shots in one prompt",
    "multi_prompt": "describe the shots in one prompt",
    "reference_type": 'this model\'s image has no role: send {"url": …} only',
    "refer_type": "only kling/kling-v3-omni's reference videos have one",
}
_MODEL_HINTS: dict[tuple[str, str], str] = {
    ("kling/kling-v3-motion-control", "aspect_ratio"): "the motion video sets the framing",
    ("kling/kling-v3-motion-control", "duration"): "the output is as long as the motion video",
    (
        "dashscope/happyhorse-1.0",
        "generate_audio",
    ): "a video edit sets its sound with extra_params.audio_setting",
    ("kling/kling-v3-omni", "negative_prompt"): "omni's prompt may say what to avoid itself",
}


def not_taken(spec: ModelSpec, path: str) -> Problem:
    """`path` is a field, an extra_params key or a sub-field that `spec`'s model does not take."""
    key = path.rsplit(".", 1)[-1]
    hint = _MODEL_HINTS.get((spec.id, key)) or _HINTS.get(key)
    others = [] if "[" in path else [m for m in models_taking(key) if m != spec.id]
    fix = "remove it" + (f" ({hint})" if hint else "")
    fix += f", or use a model that takes it: {', '.join(others)}." if others else "."
    return Problem(path, f"{spec.id} has no `{path}`.", fix)


def field_problems(args: Args, spec: ModelSpec) -> tuple[list[Problem], list[str]]:
    """Problems with single fields under this model's rules, and the paths of fields it does not take."""
    req = args.value
    if req is None:
        return [], []
    problems: list[Problem] = []
    refused: list[str] = []
    for name in BODY_FIELDS[1:]:
        if name in req.model_fields_set and not spec.takes(name) and name != "extra_params":
            refused.append(name)
            problems.append(not_taken(spec, name))
    extra = req.extra_params
    if "extra_params" in req.model_fields_set and not spec.takes("extra_params") and extra is None:
        refused.append("extra_params")  # not even an object: one problem, naming the model
        problems.append(not_taken(spec, "extra_params"))
    if extra is not None and "extra_params" in req.model_fields_set:
        for key in EXTRA_PARAMS:
            if key in extra.model_fields_set and not spec.takes(key):
                refused.append(f"extra_params.{key}")
                problems.append(not_taken(spec, f"extra_params.{key}"))

    if _is_set(args, "prompt") and req.prompt is not None and len(req.prompt) > spec.max_prompt:
        problems.append(
            Problem(
                "prompt",
                f"is {len(req.prompt)} characters long; the limit is {spec.max_prompt} for {spec.id}.",
                f"shorten it to at most {spec.max_prompt} characters.",
            )
        )
    if _is_set(args, "resolution") and req.resolution is not None:
        problems += _enum_problem(spec, "resolution", req.resolution, spec.resolutions)
    if _is_set(args, "aspect_ratio") and req.aspect_ratio is not None and spec.aspect_ratios:
        problems += _enum_problem(spec, "aspect_ratio", req.aspect_ratio, spec.aspect_ratios)
    if _is_set(args, "duration") and req.duration is not None and spec.duration is not None:
        low, high = spec.duration
        if not low <= req.duration <= high:
            problems.append(
                Problem(
                    "duration",
                    f"must be {low}–{high} s for {spec.id} (got {req.duration}).",
                    f"use a whole number of seconds between {low} and {high}.",
                )
            )
    return problems, refused


def _enum_problem(spec: ModelSpec, name: str, value: str, allowed: tuple[str, ...]) -> list[Problem]:
    if value in allowed:
        return []
    listed = ", ".join(allowed)
    others = models_with({"resolution": "resolutions", "aspect_ratio": "aspect_ratios"}[name], value)
    if others:
        return [
            Problem(
                name,
                f"{value} is not a {name} of {spec.id}, which takes {listed}.",
                f"use one of {listed}, or a model that has {value}: {', '.join(others)}.",
            )
        ]
    return [
        Problem(
            name,
            f"must be one of {listed} for {spec.id} (got {_show(value)}).",
            f"use one of {listed}, spelled exactly.",
        )
    ]


# ---------------------------------------------------------------------------------------------------
# Reference images, videos and audio: counts, roles and the combinations each model takes


def _count_problem(spec: ModelSpec, path: str, what: str, count: int, low: int, high: int) -> list[Problem]:
    if low <= count <= high:
        return []
    if low == high:
        need, fix = f"exactly {_plural(low, what)}", f"give exactly {_plural(low, what)}."
    elif count > high:
        need, fix = f"at most {_plural(high, what)}", f"remove {what}s until at most {high} remain."
    else:
        need, fix = f"at least {_plural(low, what)}", f"add {what}s until there are at least {low}."
    have = "is missing" if count == 0 else f"has {_plural(count, what)}"
    return [Problem(path, f"{have}; {spec.id} takes {need}.", fix)]


def _listed(args: Args, name: str) -> list[Any] | None:
    """The items of a reference list as parsed (None for an item that failed), or None if the list itself
    failed. A list that was not given is empty."""
    req = args.value
    assert req is not None
    items = getattr(req, name)
    if items is None and args.is_invalid(name):
        return None
    return list(items or [])


def _frame_roles(images: list[Any]) -> tuple[int, int, int]:
    roles = [img.reference_type for img in images]
    return roles.count("first_frame"), roles.count("last_frame"), roles.count("asset")


def media_problems(args: Args, spec: ModelSpec, refused: list[str]) -> list[Problem]:
    """Counts of images, videos and audio clips; image roles; frames never with videos or audio."""
    if args.value is None:
        return []
    problems: list[Problem] = []
    listed = {
        name: _listed(args, name) for name in ("reference_images", "reference_videos", "reference_audios")
    }
    for name in listed:
        if name in refused:
            listed[name] = None  # reported once, as a field this model does not take
    images, videos, audios = ([item for item in listed[name] or [] if item is not None] for name in listed)
    if listed["reference_images"] is not None:
        count = len(listed["reference_images"] or [])
        problems += _count_problem(spec, "reference_images", "image", count, spec.min_images, spec.max_images)
        problems += _role_problems(args, spec)
    if listed["reference_videos"] is not None and spec.takes("reference_videos"):
        count = len(listed["reference_videos"] or [])
        problems += _count_problem(spec, "reference_videos", "video", count, spec.min_videos, spec.max_videos)
        problems += _refer_type_problems(args, spec)
    if listed["reference_audios"] is not None and spec.takes("reference_audios"):
        count = len(listed["reference_audios"] or [])
        problems += _count_problem(spec, "reference_audios", "audio clip", count, 0, spec.max_audios)

    firsts, lasts, _ = _frame_roles([img for img in images if img.reference_type in spec.image_roles])
    if (firsts or lasts) and (videos or audios):
        edit = bool(spec.refer_types) and all(v.refer_type == "base" for v in videos) and not audios
        sure = "[DOC]" if edit or not spec.refer_types else "[INFER]"
        problems.append(
            Problem(
                "reference_images",
                f"has first_frame/last_frame images, which {spec.id} does not combine with reference videos "
                f"or audio. {sure}",
                "use asset images together with videos or audio, or drop the videos and audio for a "
                "frame-based video.",
            )
        )
    return problems


def _role_problems(args: Args, spec: ModelSpec) -> list[Problem]:
    req = args.value
    assert req is not None
    problems: list[Problem] = []
    images = req.reference_images or []
    if not spec.image_roles:
        for index, image in enumerate(images):
            if image is not None and "reference_type" in image.model_fields_set:
                problems.append(not_taken(spec, f"reference_images[{index}].reference_type"))
        return problems
    for index, image in enumerate(images):
        if image is not None and image.reference_type not in spec.image_roles:
            problems.append(
                Problem(
                    f"reference_images[{index}].reference_type",
                    f"is {image.reference_type}, which {spec.id} does not take (it takes "
                    f"{', '.join(spec.image_roles)}).",
                    f"use {' or '.join(spec.image_roles)}, or a model with {image.reference_type} images: "
                    f"{', '.join(models_with('image_roles', image.reference_type))}.",
                )
            )
    known = [img for img in images if img is not None and img.reference_type in spec.image_roles]
    firsts, lasts, assets = _frame_roles(known)
    modes = ["one first_frame"]
    if "last_frame" in spec.image_roles:
        modes.append("one first_frame + one last_frame")
    modes.append(f"1–{spec.max_images} assets")
    fix_modes = "use one of: " + "; ".join(modes[:-1]) + "; or " + modes[-1] + "."
    path = "reference_images"
    if (firsts or lasts) and assets:
        problems.append(
            Problem(path, f"mixes frame images ({firsts + lasts}) with asset images ({assets}).", fix_modes)
        )
    elif lasts and not firsts:
        problems.append(
            Problem(
                path,
                "has a last_frame without a first_frame; a last frame needs a first frame.",
                "add the first_frame image, or make this image the first_frame.",
            )
        )
    elif firsts > 1 or lasts > 1:
        problems.append(
            Problem(
                path,
                f"has {firsts} first_frame and {lasts} last_frame images; at most one of each.",
                fix_modes,
            )
        )
    return problems


def _refer_type_problems(args: Args, spec: ModelSpec) -> list[Problem]:
    req = args.value
    assert req is not None
    problems: list[Problem] = []
    for index, video in enumerate(req.reference_videos or []):
        if video is None or args.is_invalid("reference_videos", index, "refer_type"):
            continue
        path = f"reference_videos[{index}].refer_type"
        if not spec.refer_types and "refer_type" in video.model_fields_set:
            problems.append(not_taken(spec, path))
        elif spec.refer_types and video.refer_type is None:
            problems.append(
                Problem(
                    path,
                    f"is required by {spec.id}: base (edit this video) or feature (borrow its style and "
                    "motion). [INFER]",
                    'add "refer_type": "feature" to imitate the video, or "base" to edit it.',
                )
            )
    return problems


# ---------------------------------------------------------------------------------------------------
# The special rules, one function per name used in `ModelSpec.special`

_PROMPT_REFERENCE = re.compile(r"<<<\s*([A-Za-z]+)_(\d+)\s*>>>")
_CHARACTER = re.compile(r"\bcharacter(\d+)\b", re.IGNORECASE)


def _prompts(req: GenerateVideoArguments) -> list[tuple[str, str]]:
    texts = [("prompt", req.prompt)] if isinstance(req.prompt, str) else []
    shots = req.extra_params.multi_prompt if req.extra_params else None
    for index, shot in enumerate(shots or []):
        if shot is not None and isinstance(shot.prompt, str):
            texts.append((f"extra_params.multi_prompt[{index}].prompt", shot.prompt))
    return texts


def _omni(args: Args, spec: ModelSpec, refused: list[str]) -> list[Problem]:
    """<<<image_N>>> / <<<video_N>>> name inputs that exist; a base video sets the length; no sound with a video."""
    req = args.value
    assert req is not None
    problems: list[Problem] = []
    images, videos_listed = _listed(args, "reference_images"), _listed(args, "reference_videos")
    counts = {
        "image": None if images is None else len(images),
        "video": None if videos_listed is None else len(videos_listed),
    }
    for path, text in _prompts(req):
        seen: set[str] = set()
        for kind, number in _PROMPT_REFERENCE.findall(text):
            token, kind, n = f"<<<{kind}_{number}>>>", kind.lower(), int(number)
            if token in seen:
                continue
            seen.add(token)
            if kind in counts:
                have = counts[kind]
                if have is not None and not 1 <= n <= have:
                    listed = "reference_images" if kind == "image" else "reference_videos"
                    problems.append(
                        Problem(
                            path,
                            f"refers to {token} but there {'is' if have == 1 else 'are'} "
                            f"{_plural(have, 'reference ' + kind)}; <<<{kind}_N>>> names the N-th entry of "
                            f"{listed}. [DOC]",
                            f"add the {kind}, or number from 1 in the order of {listed}.",
                        )
                    )
            elif kind == "element":
                problems.append(
                    Problem(
                        path,
                        f"uses {token}, but imini documents no way to send elements to {spec.id}. [INFER]",
                        "describe the subject in words, or give it as an asset image and write <<<image_N>>>.",
                    )
                )
            else:
                problems.append(
                    Problem(
                        path,
                        f"uses {token}; {spec.id} knows <<<image_N>>> and <<<video_N>>> (and <<<element_N>>>).",
                        "refer to a reference image as <<<image_N>>> or a video as <<<video_N>>>.",
                    )
                )
    videos = [v for v in videos_listed or [] if v is not None]
    if any(v.refer_type == "base" for v in videos) and _is_set(args, "duration") and req.duration is not None:
        problems.append(
            Problem(
                "duration",
                "is ignored in a video edit (refer_type base): the output is as long as the video and billed on "
                "its length [DOC]. It is refused so the request says what will happen. [INFER]",
                "remove duration, or use refer_type feature.",
            )
        )
    extra = req.extra_params
    if videos and extra is not None and extra.multi_shot:
        problems.append(
            Problem(
                "extra_params.multi_shot",
                f"is not combined with a reference video on {spec.id}. [INFER]",
                "turn multi_shot off, or remove the reference video.",
            )
        )
    if videos and req.generate_audio is True and not args.is_invalid("generate_audio"):
        problems.append(
            Problem(
                "generate_audio",
                f"cannot be true with a reference video on {spec.id}: imini lists no audio price with one and "
                "Kling makes them exclusive. [INFER]",
                "leave generate_audio out (or false), or remove the reference video.",
            )
        )
    return problems


def _motion_control(args: Args, spec: ModelSpec, refused: list[str]) -> list[Problem]:
    """character_orientation is required ([UPSTREAM]); counts and roles are table rules."""
    req = args.value
    assert req is not None
    extra = req.extra_params
    if args.is_invalid("extra_params") and extra is None:
        return []
    if args.is_invalid("extra_params", "character_orientation"):
        return []
    if extra is None or extra.character_orientation is None:
        return [
            Problem(
                "extra_params.character_orientation",
                f"is required by {spec.id}. [UPSTREAM]",
                'add "extra_params": {"character_orientation": "image"} (keep the image\'s orientation; '
                'motion video ≤ 10 s) or "video" (follow the video; ≤ 30 s).',
            )
        ]
    return []


def _seedance(args: Args, spec: ModelSpec, refused: list[str]) -> list[Problem]:
    """[DOC] reference audio never stands alone: it needs an asset image or a reference video."""
    req = args.value
    assert req is not None
    if args.is_invalid("reference_audios") or not req.reference_audios:
        return []
    images = [img for img in req.reference_images or [] if img is not None]
    if any(img.reference_type != "asset" for img in images):
        return []  # frames with audio: reported by the combination rule
    if any(img.reference_type == "asset" for img in images) or req.reference_videos:
        return []
    return [
        Problem(
            "reference_audios",
            f"cannot stand alone on {spec.id}: reference audio needs at least one asset image or reference "
            "video. [DOC]",
            "add an asset image or a reference video, or remove the audio.",
        )
    ]


def _happyhorse(args: Args, spec: ModelSpec, refused: list[str]) -> list[Problem]:
    """The mode (text/image/reference-to-video or video edit) decides which fields apply ([DOC])."""
    req = args.value
    assert req is not None
    problems: list[Problem] = []
    images = [img for img in req.reference_images or [] if img is not None]
    assets = sum(img.reference_type == "asset" for img in images)
    first = any(img.reference_type == "first_frame" for img in images)
    edit = bool(req.reference_videos)
    if edit and assets > 5:
        problems.append(
            Problem(
                "reference_images",
                f"has {assets} asset images; a video edit on {spec.id} takes at most 5. [UPSTREAM]",
                "keep at most 5 reference images with the video.",
            )
        )
    if (edit or first) and _is_set(args, "aspect_ratio") and req.aspect_ratio is not None:
        follows = "video edit follows the video" if edit else "image-to-video follows the first frame"
        problems.append(
            Problem(
                "aspect_ratio",
                f"is only used in text- and reference-to-video on {spec.id}; {follows}. [DOC]",
                "remove aspect_ratio.",
            )
        )
    if edit and _is_set(args, "duration") and req.duration is not None:
        problems.append(
            Problem(
                "duration",
                f"is not accepted in a video edit on {spec.id}: the output follows the video (≤ 15 s). [DOC]",
                "remove duration.",
            )
        )
    extra = req.extra_params
    if extra is not None and extra.audio_setting is not None and not edit:
        problems.append(
            Problem(
                "extra_params.audio_setting",
                f"only applies to a video edit (with a reference video) on {spec.id}. [UPSTREAM]",
                "remove it, or add the reference video to edit.",
            )
        )
    if isinstance(req.prompt, str) and not args.is_invalid("reference_images"):
        mentioned = sorted({int(n) for n in _CHARACTER.findall(req.prompt)})
        missing = [n for n in mentioned if not 1 <= n <= assets]
        if missing:
            problems.append(
                Problem(
                    "prompt",
                    f"mentions character{missing[0]} but there {'is' if assets == 1 else 'are'} "
                    f"{_plural(assets, 'asset image')}; characterN names the N-th reference image. [DOC]",
                    "add the image as an asset, or number characters from 1 in the order of reference_images.",
                )
            )
    return problems


_SPECIAL: dict[str, Callable[[Args, ModelSpec, list[str]], list[Problem]]] = {
    "omni": _omni,
    "motion_control": _motion_control,
    "seedance": _seedance,
    "happyhorse": _happyhorse,
}


def special_problems(args: Args, spec: ModelSpec, refused: list[str]) -> list[Problem]:
    """The model's special rules ("storyboard" and "camera" are kling's, checked in models.py)."""
    if args.value is None:
        return []
    return [p for name in spec.special if name in _SPECIAL for p in _SPECIAL[name](args, spec, refused)]


# ---------------------------------------------------------------------------------------------------
# Notes on a valid request


def model_notes(req: VideoRequest, spec: ModelSpec) -> list[str]:
    """What a valid request should know about its model's defaults and unchecked limits."""
    notes: list[str] = []
    if spec.default_audio and req.generate_audio is None:
        notes.append(
            f"{spec.id} makes sound by default (generate_audio defaults to true [DOC]); set it to false for "
            "a silent video."
        )
    if req.resolution is None and spec.default_resolution != CATALOG[DEFAULT_MODEL].default_resolution:
        notes.append(
            f"{spec.id} renders {spec.default_resolution} by default [DOC], and the estimate uses it; set "
            "resolution to change it."
        )
    if req.length_from_video():
        notes.append(
            "The output is as long as the reference video, which this server cannot measure: the estimate "
            f"assumes {ASSUMED_VIDEO_SECONDS} s."
        )
    if "motion_control" in spec.special:
        notes.append(
            "The motion video must be one continuous shot with the body visible, ≤ 10 s with "
            "character_orientation image and ≤ 30 s with video [UPSTREAM]; its length is not checked here."
        )
    if spec.max_audios and (req.reference_videos or req.reference_audios):
        notes.append(
            "Reference videos may total at most 15 s, and reference audio 15 s [DOC]; lengths are not checked here."
        )
    if "happyhorse" in spec.special and any(
        img.reference_type == "asset" for img in req.reference_images or []
    ):
        notes.append(
            "Reference-to-video images should have a shorter side ≥ 400 px [DOC]; this server checks ≥ 300 px."
        )
    return notes
