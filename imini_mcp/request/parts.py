"""The parts of a `generate_video` request: reference images, videos and audio, storyboard shots, camera
moves and `extra_params`, with the field types and checks they share with the request itself (schema.py).

Each field's description says which models take it and states their limits from the catalogue, so the
published text cannot drift from what is enforced.
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
    used_by,
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
ImageUrl = Annotated[str, Field(min_length=1)]
MediaUrl = Annotated[str, Field(min_length=1), AfterValidator(_public_media_url)]


class ReferenceImage(StrictModel):
    """One reference image and its role."""

    url: ImageUrl = Field(
        description=(
            "The image: a public https URL (safest), a data:image/png;base64,… / data:image/jpeg;base64,… URI, or "
            "(when the server runs locally) a file path inside the allowed folders, sent as a data URI "
            "([INFER] data URIs are documented for seedance and happyhorse, not the kling models). "
            "jpg/jpeg/png, ≤ 10 MB, each side ≥ 300 px (imini says 200, Kling 300), aspect ratio between "
            "1:2.5 and 2.5:1."
        ),
    )
    reference_type: Literal["first_frame", "last_frame", "asset"] = Field(
        "asset",
        description=(
            "Role: first_frame = the video starts on this image; last_frame = it ends on it (only with one "
            "first_frame; not on happyhorse); asset = a subject/style reference. Omitted means asset and is "
            "sent explicitly. kling/kling-v3-motion-control takes its one character image without a role: "
            "leave reference_type out there."
        ),
    )


class ReferenceVideo(StrictModel):
    """One reference video (kling-v3-omni, motion control, seedance, happyhorse)."""

    url: MediaUrl = Field(
        description="A public http(s) URL of an mp4/mov video (no local files, no data URIs). [DOC]",
    )
    refer_type: Literal["base", "feature"] | None = Field(
        None,
        description=(
            "kling/kling-v3-omni only, and required there [INFER]: base = edit this video (the output is as "
            "long as the video; no duration, only asset images); feature = borrow its style and camera motion."
        ),
    )


class ReferenceAudio(StrictModel):
    """One reference audio clip (seedance)."""

    url: MediaUrl = Field(
        description="A public http(s) URL of the audio clip. [INFER] no local files or base64."
    )


class Shot(StrictModel):
    """One shot of a custom storyboard."""

    index: int | None = Field(
        None,
        ge=1,
        le=MAX_SHOTS,
        description="Shot number, 1..N in order. May be omitted: shots are then numbered by their position.",
    )
    prompt: Annotated[str, AfterValidator(_not_blank)] = Field(
        min_length=1,
        max_length=MAX_SHOT_PROMPT,
        description=f"What happens in this shot, ≤ {MAX_SHOT_PROMPT} characters.",
    )
    duration: ShotSeconds = Field(
        description=(
            'Length of this shot in whole seconds, ≥ 1 (integer or digit string; sent as a string like "3"). '
            "All shot durations must add up to the top-level duration."
        ),
    )


class CameraConfig(StrictModel):
    """Movement strengths for camera_control type `simple`; exactly one must be non-zero."""

    horizontal: Number | None = Field(
        None, ge=-10, le=10, description="Truck left (<0) / right (>0), -10..10."
    )
    vertical: Number | None = Field(None, ge=-10, le=10, description="Pedestal down (<0) / up (>0), -10..10.")
    pan: Number | None = Field(None, ge=-10, le=10, description="Pan (rotate left/right), -10..10.")
    tilt: Number | None = Field(None, ge=-10, le=10, description="Tilt (rotate down/up), -10..10.")
    roll: Number | None = Field(
        None, ge=-10, le=10, description="Roll (rotate around the lens axis), -10..10."
    )
    zoom: Number | None = Field(None, ge=-10, le=10, description="Zoom out (<0) / in (>0), -10..10.")


class CameraControl(StrictModel):
    """[UPSTREAM] Kling camera movement."""

    type: Literal["simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"] = Field(
        description=(
            "simple = one movement given in config; the others are preset moves (down_back, forward_up, "
            "right_turn_forward, left_turn_forward) and take no config."
        ),
    )
    config: CameraConfig | None = Field(
        None,
        description="Only with type simple, and then required: exactly one of the six values non-zero.",
    )


class ExtraParams(StrictModel):
    """The model's extension parameters, all optional; each says which models take it."""

    multi_shot: Flag | None = Field(
        None,
        description=f"true = storyboard (multi-shot) video. Requires shot_type. Default false. {used_by('multi_shot')}",
    )
    shot_type: Literal["customize", "intelligence"] | None = Field(
        None,
        description=(
            "Required when multi_shot is true. customize = you give the shots in multi_prompt (top-level prompt "
            "then optional); intelligence = the model splits the top-level prompt into shots itself (prompt "
            "required, no multi_prompt; [INFER] only customize is shown in imini's kling-v3 docs). "
            + used_by("shot_type")
        ),
    )
    multi_prompt: list[Shot] | None = Field(
        None,
        min_length=1,
        max_length=MAX_SHOTS,
        description=(
            f"The storyboard for multi_shot + customize: 1–{MAX_SHOTS} shots, each ≥ 1 s and ≤ {MAX_SHOT_PROMPT} "
            "characters; their durations must add up to the top-level duration "
            f"({KLING_V3.seconds} s). {used_by('multi_prompt')}"
        ),
    )
    negative_prompt: str | None = Field(
        None,
        max_length=KLING_V3.max_prompt,
        description=f"What to avoid, ≤ {KLING_V3.max_prompt} characters. [UPSTREAM] {used_by('negative_prompt')}",
    )
    cfg_scale: Number | None = Field(
        None,
        ge=0,
        le=1,
        description="Prompt adherence 0..1 (higher follows the prompt more closely). Upstream default 0.5. "
        f"[UPSTREAM] {used_by('cfg_scale')}",
    )
    camera_control: CameraControl | None = Field(
        None,
        description=f"Camera movement. [UPSTREAM] Not combinable with a last_frame image. {used_by('camera_control')}",
    )
    character_orientation: Literal["image", "video"] | None = Field(
        None,
        description=(
            "Required by motion control [UPSTREAM]: image = the character keeps the image's orientation (motion "
            f"video ≤ {IMAGE_ORIENTATION_MAX_SECONDS} s); video = it follows the video "
            f"(≤ {KLING_V3_MOTION_CONTROL.max_video_seconds} s). " + used_by("character_orientation")
        ),
    )
    audio_setting: Literal["auto", "origin"] | None = Field(
        None,
        description=(
            "Sound of a video edit [UPSTREAM]: auto = the model makes it; origin = keep the source video's sound. "
            "[INFER] only with a reference video. " + used_by("audio_setting")
        ),
    )
