"""The parts of a `generate_video` request: reference images, videos and audio, storyboard shots, camera
moves and `extra_params`, with the field types and checks they share with the request itself (schema.py).

Descriptions state the limits from the catalogue, so the published text cannot drift from what is
enforced; which model takes which extra_params key is said once, in schema.py's `extra_params`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    WithJsonSchema,
)

from imini_mcp.request.catalog import (
    ALL_ASPECT_RATIOS,
    ALL_RESOLUTIONS,
    IMAGE_ORIENTATION_MAX_SECONDS,
    KLING_V3,
    KLING_V3_MOTION_CONTROL,
    MAX_DURATION,
    MAX_SHOT_PROMPT,
    MAX_SHOTS,
    MODEL_IDS,
)
from imini_mcp.request.lazy_model import LazyModel

CAMERA_AXES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")


class StrictModel(LazyModel):
    """Unknown fields are refused: silently dropping them would send a different request than meant."""

    model_config = ConfigDict(extra="forbid")


def _upper(value: Any) -> Any:
    # "1080p" is an obvious typo for "1080P"; accept it and send the documented spelling.
    return value.strip().upper() if isinstance(value, str) else value


def _whole_seconds(value: Any) -> Any:
    # The docs send shot durations as strings ("3"); accept "3", 3 and 3.0 alike, refuse true/false.
    if isinstance(value, bool):
        raise ValueError('must be a whole number of seconds, not true/false. Fix: send e.g. 3 or "3".')
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        return int(value)
    return value


def public_image_url(value: str) -> str:
    """The image check when this server reads no local files: a public URL or a data URI, unchanged."""
    if not re.match(r"(?i)^(https?://\S+|data:image/(png|jpe?g);base64,)", value.strip()):
        raise ValueError(
            "must be a public http(s) URL or a data:image/png|jpeg;base64,… URI."
            " Fix: upload the image somewhere public and pass its https URL, or inline it as a data URI."
        )
    return value


def _public_media_url(value: str) -> str:
    # [DOC] seedance/happyhorse: reference videos by public URL only; [INFER] the same for every model and audio.
    url = value.strip()
    if not re.fullmatch(r"(?i)https?://\S+", url):
        raise ValueError(
            "must be a public http(s) URL; imini takes reference videos and audio by URL only (no local "
            "files, no base64). Fix: upload it somewhere public and pass its https URL."
        )
    scheme, rest = url.split("://", 1)
    return f"{scheme.lower()}://{rest}"  # "HTTPS://…" is the same URL; imini's check knows only https://


# Turns a reference (URL, data URI or local path) into what imini receives; raises ValueError("… Fix: …").
ImageResolver = Callable[[str], str]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank. Fix: describe what happens in this shot.")
    return value


def _enum(values: tuple[str, ...]) -> WithJsonSchema:
    """Publish an enum while validating a plain string: the allowed values depend on the model, and the
    model's own check (rules/fields.py) names them, instead of the union a Literal would list."""
    return WithJsonSchema({"type": "string", "enum": list(values)})


# Strict: "yes", 1 or "true" for a flag, or true for a number, are more likely mistakes than intent.
Flag = Annotated[bool, Strict()]
Number = Annotated[float, Strict()]
ModelId = Annotated[str, _enum(MODEL_IDS)]
Resolution = Annotated[str, BeforeValidator(_upper), _enum(ALL_RESOLUTIONS)]
AspectRatio = Annotated[str, _enum(ALL_ASPECT_RATIOS)]
ShotSeconds = Annotated[
    int,
    BeforeValidator(_whole_seconds),
    Field(ge=1, le=MAX_DURATION),
    PlainSerializer(str, return_type=str, when_used="json"),  # imini's example sends "3", not 3
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_DURATION},
                {"type": "string", "pattern": "^[0-9]+$"},
            ],
        }
    ),
]
# A camera move's strength, −10..10: checked here, stated once in camera_control.config's description (six
# repeated bounds would cost a model's context more than the one sentence).
Strength = Annotated[float, Strict(), Field(ge=-10, le=10), WithJsonSchema({"type": "number"})]
ImageUrl = Annotated[str, Field(min_length=1)]
MediaUrl = Annotated[str, Field(min_length=1), AfterValidator(_public_media_url)]


class ReferenceImage(StrictModel):
    """One reference image and its role."""

    url: ImageUrl = Field(
        description=(
            "https URL (safest), data:image/png|jpeg;base64 URI, or a local path if allowed. jpg/png ≤ 10 MB, "
            "sides ≥ 300 px, ratio 1:2.5 to 2.5:1."
        ),
    )
    reference_type: Literal["first_frame", "last_frame", "asset"] = Field(
        "asset",
        description=(
            "first_frame: the video starts on it; last_frame: ends on it (needs a first_frame); asset "
            "(default): subject/style. None for kling-v3-motion-control."
        ),
    )


class ReferenceVideo(StrictModel):
    """One reference video (kling-v3-omni, motion control, seedance, happyhorse)."""

    url: MediaUrl  # a public http(s) URL, mp4/mov [DOC] (stated in reference_videos' description)
    refer_type: Literal["base", "feature"] | None = Field(
        None,
        description=(
            "kling-v3-omni only, required there [INFER]: base = edit this video (it sets the length); feature "
            "= imitate its style and motion."
        ),
    )


class ReferenceAudio(StrictModel):
    """One reference audio clip (seedance)."""

    url: MediaUrl  # a public http(s) URL [INFER] (stated in reference_audios' description)


class Shot(StrictModel):
    """One shot of a custom storyboard."""

    index: int | None = Field(None, ge=1, le=MAX_SHOTS)  # 1..N in order; left out, numbered by position
    prompt: Annotated[str, AfterValidator(_not_blank)] = Field(
        min_length=1,
        max_length=MAX_SHOT_PROMPT,
    )
    duration: ShotSeconds = Field(
        description='Whole seconds ≥ 1: 3 or "3".',
    )


class CameraConfig(StrictModel):
    """Movement strengths for camera_control type `simple`; exactly one must be non-zero.
    Left/down/out < 0 < right/up/in: truck, pedestal, pan, tilt, roll (around the lens axis), zoom."""

    horizontal: Strength | None = None
    vertical: Strength | None = None
    pan: Strength | None = None
    tilt: Strength | None = None
    roll: Strength | None = None
    zoom: Strength | None = None


class CameraControl(StrictModel):
    """[UPSTREAM] Kling camera movement."""

    type: Literal["simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"] = Field(
        description="simple = the one move set in config; the others are preset moves and take no config.",
    )
    config: CameraConfig | None = Field(
        None,
        description="Type simple only, and required there: exactly one value non-zero, −10..10 (< 0: left, "
        "down, out).",
    )


class ExtraParams(StrictModel):
    """The model's extension parameters, all optional; which model takes which key is said once, in
    schema.py's description of `extra_params`, from the catalogue."""

    multi_shot: Flag | None = Field(
        None, description="true = a storyboard (multi-shot) video; needs shot_type."
    )
    shot_type: Literal["customize", "intelligence"] | None = Field(
        None,
        description=(
            "customize: you give the shots in multi_prompt (prompt optional); intelligence: the model splits "
            "prompt into shots, no multi_prompt (undocumented [INFER])."
        ),
    )
    multi_prompt: list[Shot] | None = Field(
        None,
        min_length=1,
        max_length=MAX_SHOTS,
        description=(
            f"The shots of a customize storyboard: 1–{MAX_SHOTS}, ≤ {MAX_SHOT_PROMPT} characters each, their "
            f"durations adding up to duration ({KLING_V3.seconds} s). [UPSTREAM]"
        ),
    )
    negative_prompt: str | None = Field(
        None,
        max_length=KLING_V3.max_prompt,
        description=f"What to avoid, ≤ {KLING_V3.max_prompt} characters. [UPSTREAM]",
    )
    cfg_scale: Number | None = Field(
        None, ge=0, le=1, description="Prompt adherence, 0..1, default 0.5. [UPSTREAM]"
    )
    camera_control: CameraControl | None = Field(
        None, description="A camera move; not with a last_frame image. [UPSTREAM]"
    )
    character_orientation: Literal["image", "video"] | None = Field(
        None,
        description=(
            "Required [UPSTREAM]: image = keep the image's orientation (video "
            f"≤ {IMAGE_ORIENTATION_MAX_SECONDS} s); video = follow the video "
            f"(≤ {KLING_V3_MOTION_CONTROL.max_video_seconds} s)."
        ),
    )
    audio_setting: Literal["auto", "origin"] | None = Field(
        None,
        description="Sound of a video edit, so only with a reference video [INFER]: auto (new) or origin "
        "(the video's). [UPSTREAM]",
    )
