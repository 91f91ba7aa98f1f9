"""dashscope/happyhorse-1.0's own rules (special "happyhorse"): the mode (text-, image- or
reference-to-video, or video edit) decides which fields apply, and characterN in the prompt names an image
that exists ([DOC])."""

from __future__ import annotations

import re

from imini_mcp.request.catalog import HAPPYHORSE_EDIT_MAX_ASSETS
from imini_mcp.request.problems import Problem
from imini_mcp.request.rules.fields import Args, is_set, plural
from imini_mcp.request.schema import VideoRequest
from imini_mcp.request.spec import ModelSpec

_CHARACTER = re.compile(r"\bcharacter(\d+)\b", re.IGNORECASE)


def happyhorse_problems(args: Args, spec: ModelSpec, refused: list[str]) -> list[Problem]:
    """The mode (text/image/reference-to-video or video edit) decides which fields apply ([DOC])."""
    req = args.value
    assert req is not None
    problems: list[Problem] = []
    images = [img for img in req.reference_images or [] if img is not None]
    assets = sum(img.reference_type == "asset" for img in images)
    first = any(img.reference_type == "first_frame" for img in images)
    edit = bool(req.reference_videos)
    if edit and assets > HAPPYHORSE_EDIT_MAX_ASSETS:
        problems.append(
            Problem(
                "reference_images",
                f"has {assets} asset images; a video edit on {spec.id} takes at most "
                f"{HAPPYHORSE_EDIT_MAX_ASSETS}. [UPSTREAM]",
                f"keep at most {HAPPYHORSE_EDIT_MAX_ASSETS} reference images with the video.",
            )
        )
    if (edit or first) and is_set(args, "aspect_ratio") and req.aspect_ratio is not None:
        follows = "video edit follows the video" if edit else "image-to-video follows the first frame"
        problems.append(
            Problem(
                "aspect_ratio",
                f"is only used in text- and reference-to-video on {spec.id}; {follows}. [DOC]",
                "remove aspect_ratio.",
            )
        )
    if edit and is_set(args, "duration") and req.duration is not None:
        problems.append(
            Problem(
                "duration",
                f"is not accepted in a video edit on {spec.id}: the output follows the video "
                f"(≤ {spec.max_video_seconds} s). [DOC]",
                "remove duration.",
            )
        )
    if req.extra_params is not None and req.extra_params.audio_setting is not None and not edit:
        problems.append(
            Problem(
                "extra_params.audio_setting",
                f"only applies to a video edit (with a reference video) on {spec.id}. [UPSTREAM]",
                "remove it, or add the reference video to edit.",
            )
        )
    return problems + _character_problems(args, assets)


def _character_problems(args: Args, assets: int) -> list[Problem]:
    """characterN in the prompt names the N-th asset image, which must exist."""
    req = args.value
    assert req is not None
    if not isinstance(req.prompt, str) or args.is_invalid("reference_images"):
        return []
    mentioned = sorted({int(n) for n in _CHARACTER.findall(req.prompt)})
    missing = [n for n in mentioned if not 1 <= n <= assets]
    if not missing:
        return []
    return [
        Problem(
            "prompt",
            f"mentions character{missing[0]} but there {'is' if assets == 1 else 'are'} "
            f"{plural(assets, 'asset image')}; characterN names the N-th reference image. [DOC]",
            "add the image as an asset, or number characters from 1 in the order of reference_images.",
        )
    ]


def happyhorse_notes(req: VideoRequest, spec: ModelSpec) -> list[str]:
    if any(img.reference_type == "asset" for img in req.reference_images or []):
        return [
            "Reference-to-video images should have a shorter side ≥ 400 px [DOC]; this server checks ≥ 300 px."
        ]
    return []
