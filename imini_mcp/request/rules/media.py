"""The reference-media rules every model shares, read from its catalogue entry: how many images, videos and
audio clips it takes, the image roles and their combinations, refer_type, and frames never with videos or
audio."""

from __future__ import annotations

from typing import Any

from imini_mcp.request.catalog import models_with
from imini_mcp.request.problems import Problem
from imini_mcp.request.rules.fields import Args, not_taken, plural
from imini_mcp.request.spec import ModelSpec

MEDIA = ("reference_images", "reference_videos", "reference_audios")


def listed(args: Args, name: str) -> list[Any] | None:
    """The items of a reference list as parsed (None for an item that failed), or None if the list itself
    failed. A list that was not given is empty."""
    req = args.value
    assert req is not None
    items = getattr(req, name)
    if items is None and args.is_invalid(name):
        return None
    return list(items or [])


def frame_roles(images: list[Any]) -> tuple[int, int, int]:
    """How many first_frame, last_frame and asset images."""
    roles = [img.reference_type for img in images]
    return roles.count("first_frame"), roles.count("last_frame"), roles.count("asset")


def _count_problem(spec: ModelSpec, path: str, what: str, count: int, low: int, high: int) -> list[Problem]:
    if low <= count <= high:
        return []
    if low == high:
        need, fix = f"exactly {plural(low, what)}", f"give exactly {plural(low, what)}."
    elif count > high:
        need, fix = f"at most {plural(high, what)}", f"remove {what}s until at most {high} remain."
    else:
        need, fix = f"at least {plural(low, what)}", f"add {what}s until there are at least {low}."
    have = "is missing" if count == 0 else f"has {plural(count, what)}"
    return [Problem(path, f"{have}; {spec.id} takes {need}.", fix)]


def media_problems(args: Args, spec: ModelSpec, refused: list[str]) -> list[Problem]:
    """Counts of images, videos and audio clips; image roles; frames never with videos or audio."""
    if args.value is None:
        return []
    # A list this model does not take is reported once, as a field it does not take.
    lists = {name: None if name in refused else listed(args, name) for name in MEDIA}
    problems: list[Problem] = []
    if (images := lists["reference_images"]) is not None:
        problems += _count_problem(
            spec, "reference_images", "image", len(images), spec.min_images, spec.max_images
        )
        problems += role_problems(args, spec)
    if (videos := lists["reference_videos"]) is not None and spec.takes("reference_videos"):
        problems += _count_problem(
            spec, "reference_videos", "video", len(videos), spec.min_videos, spec.max_videos
        )
        problems += refer_type_problems(args, spec)
    if (audios := lists["reference_audios"]) is not None and spec.takes("reference_audios"):
        problems += _count_problem(spec, "reference_audios", "audio clip", len(audios), 0, spec.max_audios)
    return problems + _frames_with_media(
        spec, *([i for i in lists[name] or [] if i is not None] for name in MEDIA)
    )


def _frames_with_media(
    spec: ModelSpec, images: list[Any], videos: list[Any], audios: list[Any]
) -> list[Problem]:
    """[DOC]/[INFER] first_frame and last_frame images never combine with reference videos or audio."""
    firsts, lasts, _ = frame_roles([img for img in images if img.reference_type in spec.image_roles])
    if not ((firsts or lasts) and (videos or audios)):
        return []
    edit = bool(spec.refer_types) and all(v.refer_type == "base" for v in videos) and not audios
    sure = "[DOC]" if edit or not spec.refer_types else "[INFER]"
    return [
        Problem(
            "reference_images",
            f"has first_frame/last_frame images, which {spec.id} does not combine with reference videos "
            f"or audio. {sure}",
            "use asset images together with videos or audio, or drop the videos and audio for a "
            "frame-based video.",
        )
    ]


def role_problems(args: Args, spec: ModelSpec) -> list[Problem]:
    """Each image's role is one the model takes (none, for a model without roles), and the roles combine."""
    req = args.value
    assert req is not None
    images = req.reference_images or []
    if not spec.image_roles:
        return [
            not_taken(spec, f"reference_images[{index}].reference_type")
            for index, image in enumerate(images)
            if image is not None and "reference_type" in image.model_fields_set
        ]
    problems = [
        Problem(
            f"reference_images[{index}].reference_type",
            f"is {image.reference_type}, which {spec.id} does not take (it takes "
            f"{', '.join(spec.image_roles)}).",
            f"use {' or '.join(spec.image_roles)}, or a model with {image.reference_type} images: "
            f"{', '.join(models_with('image_roles', image.reference_type))}.",
        )
        for index, image in enumerate(images)
        if image is not None and image.reference_type not in spec.image_roles
    ]
    known = [img for img in images if img is not None and img.reference_type in spec.image_roles]
    return problems + _combination_problems(spec, known)


def _combination_problems(spec: ModelSpec, images: list[Any]) -> list[Problem]:
    """One first_frame, first_frame + last_frame (if the model has last frames), or assets; never mixed."""
    firsts, lasts, assets = frame_roles(images)
    modes = ["one first_frame"]
    if "last_frame" in spec.image_roles:
        modes.append("one first_frame + one last_frame")
    modes.append(f"1–{spec.max_images} assets")
    fix_modes = "use one of: " + "; ".join(modes[:-1]) + "; or " + modes[-1] + "."
    path = "reference_images"
    if (firsts or lasts) and assets:
        return [
            Problem(path, f"mixes frame images ({firsts + lasts}) with asset images ({assets}).", fix_modes)
        ]
    if lasts and not firsts:
        return [
            Problem(
                path,
                "has a last_frame without a first_frame; a last frame needs a first frame.",
                "add the first_frame image, or make this image the first_frame.",
            )
        ]
    if firsts > 1 or lasts > 1:
        return [
            Problem(
                path,
                f"has {firsts} first_frame and {lasts} last_frame images; at most one of each.",
                fix_modes,
            )
        ]
    return []


def refer_type_problems(args: Args, spec: ModelSpec) -> list[Problem]:
    """refer_type is required by a model that has it, and refused by one that does not."""
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
