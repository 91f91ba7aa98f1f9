"""What the catalogue says about a model: `ModelSpec` (one frozen entry per model) and its price table.

Also the names every entry uses: the image roles, the special rules a table cannot hold (each one is
registered in `rules/__init__.py`), the body fields and `extra_params` keys. Imports nothing from the
package, so every other module may read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["first_frame", "last_frame", "asset"]
# Rules too particular for a table; each name has its rule function(s) in the registry, rules/__init__.py.
SpecialRule = Literal["storyboard", "camera", "omni", "motion_control", "seedance", "happyhorse"]
# When the output length comes from a reference video instead of `duration`.
LengthFromVideo = Literal["never", "base_video", "any_video"]
# The length assumed for a cost estimate when a reference video (unseen here) sets it.
ASSUMED_VIDEO_SECONDS = 5

BODY_FIELDS = (
    "model",
    "prompt",
    "resolution",
    "aspect_ratio",
    "duration",
    "generate_audio",
    "reference_images",
    "reference_videos",
    "reference_audios",
    "extra_params",
)
EXTRA_PARAMS = (
    "multi_shot",
    "shot_type",
    "multi_prompt",
    "negative_prompt",
    "cfg_scale",
    "camera_control",
    "character_orientation",
    "audio_setting",
)


@dataclass(frozen=True)
class Prices:
    """Indicative credits per second of output (imini decides the real charge)."""

    per_second: Mapping[str, tuple[int, int]]  # resolution → (without audio, with audio)
    with_video: Mapping[str, int] = field(default_factory=dict)  # resolution → rate with reference_videos
    rough: bool = False  # no per-second price is published: a rule-of-thumb figure
    source: str = ""

    def rate(self, resolution: str, audio: bool, with_video: bool) -> int:
        if with_video and resolution in self.with_video:
            return self.with_video[resolution]
        silent, sounding = self.per_second[resolution]
        return sounding if audio else silent


@dataclass(frozen=True)
class ModelSpec:
    """Everything this server knows about one model: fields, enums, ranges, defaults, limits, prices."""

    id: str
    title: str
    use: str  # what it is for, in a line
    modes: tuple[str, ...]  # the input combinations it takes, in words
    resolutions: tuple[str, ...]
    default_resolution: str
    aspect_ratios: tuple[str, ...]  # () = no aspect_ratio field
    default_aspect_ratio: str | None
    duration: tuple[int, int] | None  # (min, max) whole seconds; None = no duration field
    default_duration: int | None
    default_audio: bool | None  # None = no generate_audio field
    max_prompt: int
    image_roles: tuple[Role, ...]  # reference_type values it takes; () = the image is sent as {url} only
    max_images: int
    prices: Prices
    min_images: int = 0
    max_videos: int = 0  # 0 = no reference_videos field
    min_videos: int = 0
    refer_types: tuple[str, ...] = ()  # reference_videos[].refer_type values; () = no refer_type
    max_audios: int = 0  # 0 = no reference_audios field
    extra_params: tuple[str, ...] = ()  # () = no extra_params field
    length_from_video: LengthFromVideo = "never"
    max_video_seconds: int | None = None  # longest input video, when it sets the output length
    data_uris_documented: bool = False  # are data:image/…;base64 image URLs in this model's docs?
    max_body_bytes: int | None = None
    special: tuple[SpecialRule, ...] = ()
    # field or extra_params key it does not take → what to do instead (said when one is refused)
    refusal_hints: Mapping[str, str] = field(default_factory=dict)
    rules: tuple[str, ...] = ()  # every rule enforced, in words, tagged; shown by list_models and the README
    notes: tuple[str, ...] = ()

    def takes(self, name: str) -> bool:
        """Does this model take the top-level body field or `extra_params` key `name`?"""
        match name:
            case "model" | "prompt" | "resolution":
                return True
            case "aspect_ratio":
                return bool(self.aspect_ratios)
            case "duration":
                return self.duration is not None
            case "generate_audio":
                return self.default_audio is not None
            case "reference_images":
                return self.max_images > 0
            case "reference_videos":
                return self.max_videos > 0
            case "reference_audios":
                return self.max_audios > 0
            case "extra_params":
                return bool(self.extra_params)
        return name in self.extra_params

    @property
    def storyboards(self) -> bool:
        return "storyboard" in self.special

    @property
    def seconds(self) -> str:
        """The duration range in words, `3–15`, for texts (only for a model with a duration field)."""
        if self.duration is None:
            raise ValueError(f"{self.id} has no duration field")
        low, high = self.duration
        return f"{low}–{high}"
