"""What each video model takes (spec sections 2–4 and 7), written apart from the package's catalogue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelRules:
    """What one model takes, written from the API notes apart from the package's catalogue."""

    resolutions: tuple[str, ...]
    default_resolution: str
    aspect_ratios: tuple[str, ...]  # () = no aspect_ratio field
    default_aspect_ratio: str
    durations: tuple[int, int] | None  # None = no duration field
    audio: bool  # takes generate_audio
    prompt_max: int
    roles: tuple[str, ...]  # () = images are {url} only
    images: tuple[int, int]
    videos: tuple[int, int] = (0, 0)  # (0, 0) = no reference_videos field
    refer_types: tuple[str, ...] = ()
    audios_max: int = 0  # 0 = no reference_audios field
    extra_keys: frozenset[str] = frozenset()
    body_max: int | None = None

    def top_keys(self) -> frozenset[str]:
        keys = {"model", "prompt", "resolution", "reference_images"}
        keys |= {"aspect_ratio"} if self.aspect_ratios else set()
        keys |= {"duration"} if self.durations else set()
        keys |= {"generate_audio"} if self.audio else set()
        keys |= {"reference_videos"} if self.videos[1] else set()
        keys |= {"reference_audios"} if self.audios_max else set()
        keys |= {"extra_params"} if self.extra_keys else set()
        return frozenset(keys)


REFERENCE_TYPES = ("first_frame", "last_frame", "asset")
_SEEDANCE_RULES = ModelRules(
    resolutions=("480P", "720P"),
    default_resolution="720P",
    aspect_ratios=("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive"),
    default_aspect_ratio="adaptive",
    durations=(4, 15),
    audio=True,
    prompt_max=2500,
    roles=REFERENCE_TYPES,
    images=(0, 9),
    videos=(0, 3),
    audios_max=3,
    body_max=64 * 1024 * 1024,
)
RULES: dict[str, ModelRules] = {
    "kling/kling-v3": ModelRules(
        resolutions=("720P", "1080P"),
        default_resolution="720P",
        aspect_ratios=("16:9", "9:16", "1:1"),
        default_aspect_ratio="16:9",
        durations=(3, 15),
        audio=True,
        prompt_max=2500,
        roles=REFERENCE_TYPES,
        images=(0, 4),
        extra_keys=frozenset(
            {"multi_shot", "shot_type", "multi_prompt", "negative_prompt", "cfg_scale", "camera_control"}
        ),
    ),
    "kling/kling-v3-omni": ModelRules(
        resolutions=("720P", "1080P"),
        default_resolution="720P",
        aspect_ratios=("16:9", "9:16", "1:1"),
        default_aspect_ratio="16:9",
        durations=(3, 15),
        audio=True,
        prompt_max=2500,
        roles=REFERENCE_TYPES,
        images=(0, 4),
        videos=(0, 1),
        refer_types=("base", "feature"),
        extra_keys=frozenset({"multi_shot", "shot_type", "multi_prompt"}),
    ),
    "kling/kling-v3-motion-control": ModelRules(
        resolutions=("720P", "1080P"),
        default_resolution="720P",
        aspect_ratios=(),
        default_aspect_ratio="16:9",
        durations=None,
        audio=True,
        prompt_max=2500,
        roles=(),
        images=(1, 1),
        videos=(1, 1),
        extra_keys=frozenset({"character_orientation"}),
    ),
    "doubao/seedance-2.0": _SEEDANCE_RULES,
    "doubao/seedance-2.0-fast": _SEEDANCE_RULES,
    "dashscope/happyhorse-1.0": ModelRules(
        resolutions=("720P", "1080P"),
        default_resolution="1080P",
        aspect_ratios=("16:9", "9:16", "1:1", "4:3", "3:4"),
        default_aspect_ratio="16:9",
        durations=(3, 15),
        audio=False,
        prompt_max=5000,
        roles=("first_frame", "asset"),
        images=(0, 9),
        videos=(0, 1),
        extra_keys=frozenset({"audio_setting"}),
    ),
}
MODELS: tuple[str, ...] = tuple(RULES)
# Every top-level field some model takes: sent to a model that does not, it is named as such.
ANY_TOP_KEY = frozenset().union(*(rules.top_keys() for rules in RULES.values()))


def output_shape(body: Mapping[str, Any]) -> dict[str, Any]:
    """Resolution, aspect ratio and length of the video an accepted body produces. Where a reference
    video sets the length (motion control, an omni edit, a happyhorse edit) the simulated video is 5 s."""
    model = body["model"]
    rules = RULES[model]
    videos = body.get("reference_videos") or []
    from_video = bool(videos) and (
        model != "kling/kling-v3-omni" or any(v.get("refer_type") == "base" for v in videos)
    )
    return {
        "resolution": body.get("resolution", rules.default_resolution),
        "aspect_ratio": body.get("aspect_ratio", rules.default_aspect_ratio),
        "duration": 5 if from_video or rules.durations is None else body.get("duration", 5),
    }
