"""doubao/seedance-2.0 and -fast's own rule (special "seedance"): reference audio never stands alone. Their
counts, roles and the 64 MB body limit are table rules."""

from __future__ import annotations

from imini_mcp.request.catalog import SEEDANCE_MEDIA_SECONDS
from imini_mcp.request.problems import Problem
from imini_mcp.request.rules.fields import Args
from imini_mcp.request.schema import VideoRequest
from imini_mcp.request.spec import ModelSpec


def seedance_problems(args: Args, spec: ModelSpec, refused: list[str]) -> list[Problem]:
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


def seedance_notes(req: VideoRequest, spec: ModelSpec) -> list[str]:
    if req.reference_videos or req.reference_audios:
        return [
            f"Reference videos may total at most {SEEDANCE_MEDIA_SECONDS} s, and reference audio "
            f"{SEEDANCE_MEDIA_SECONDS} s [DOC]; lengths are not checked here."
        ]
    return []
