"""kling/kling-v3-motion-control's own rule (special "motion_control"): extra_params.character_orientation is
required. Its counts (one image, one video) and its image without a role are table rules (rules/media.py)."""

from __future__ import annotations

from imini_mcp.request.catalog import IMAGE_ORIENTATION_MAX_SECONDS
from imini_mcp.request.problems import Problem
from imini_mcp.request.rules.fields import Args
from imini_mcp.request.schema import VideoRequest
from imini_mcp.request.spec import ModelSpec


def motion_control_problems(args: Args, spec: ModelSpec, refused: list[str]) -> list[Problem]:
    """character_orientation is required ([UPSTREAM])."""
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
                f'motion video ≤ {IMAGE_ORIENTATION_MAX_SECONDS} s) or "video" (follow the video; '
                f"≤ {spec.max_video_seconds} s).",
            )
        ]
    return []


def motion_control_notes(req: VideoRequest, spec: ModelSpec) -> list[str]:
    return [
        "The motion video must be one continuous shot with the body visible, "
        f"≤ {IMAGE_ORIENTATION_MAX_SECONDS} s with character_orientation image and "
        f"≤ {spec.max_video_seconds} s with video [UPSTREAM]; its length is not checked here."
    ]
