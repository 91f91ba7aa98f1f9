"""imini's video request for every catalogued model: the one flat published schema, the rules, the wire body.

Source of truth: shared/imini-api.md §2–4 (kling/kling-v3) and §7 (the other models), through
`catalog.py`, which holds each model's enums, ranges, defaults and limits. The published schema is ONE flat
object: the union of every model's fields, each field's description saying which models use it (a deep
`oneOf` per model renders badly in clients and is filled worse by LLMs). Each model's own rules are checked
after parsing (`model_rules.py`), so a field a model does not take is an error naming the model, never
silently dropped. Tags in descriptions say how sure a rule is: [DOC] imini's docs; [UPSTREAM] a rule of
the provider imini forwards to; [INFER] not documented, so the safe side is enforced.
`check_generate_arguments()` is the single entry point: raw tool arguments in, either a
`GenerateVideoArguments` (whose `to_body()` is what imini receives) or every problem at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    WithJsonSchema,
)

from imini_mcp.request import model_rules
from imini_mcp.request.catalog import (
    ALL_ASPECT_RATIOS,
    ALL_RESOLUTIONS,
    BODY_FIELDS,
    CATALOG,
    DEFAULT_MODEL,
    KLING_V3,
    MAX_AUDIOS_ANY,
    MAX_IMAGES_ANY,
    MAX_PROMPT_ANY,
    MAX_VIDEOS_ANY,
    MODEL_IDS,
    ModelSpec,
    used_by,
)
from imini_mcp.request.file_names import safe_name
from imini_mcp.request.validation import InvalidArguments, Parsed, Problem, format_path, parse_partially
from imini_mcp.request.waits import WAIT_LIMITS_IN_WORDS

MODEL_ID = DEFAULT_MODEL  # kling/kling-v3, the model used when `model` is left out
NOT_SUBMITTED = "Not submitted — nothing was sent to imini and no credits were used."
MIN_DURATION, MAX_DURATION = 3, 15  # the widest range of any model; each model's own is in the catalogue
MAX_SHOTS = 6
MAX_SHOT_PROMPT = 512
MAX_PROMPT = KLING_V3.max_prompt
MAX_REFERENCE_IMAGES = KLING_V3.max_images
CAMERA_TYPES = ("simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward")
CAMERA_AXES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")


class StrictModel(BaseModel):
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


def _usable_file_name(value: str) -> str:
    # Checked before submit: a bad name found after paying is too late.
    try:
        safe_name("task_0", value, "video", 0, "mp4")
    except ValueError as exc:
        raise ValueError(f"{exc}. Fix: use letters, digits, spaces, - and _ only.") from None
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank. Fix: describe what happens in this shot.")
    return value


def _enum(values: tuple[str, ...]) -> WithJsonSchema:
    """Publish an enum while validating a plain string: the allowed values depend on the model, and the
    model's own check (model_rules.py) names them, instead of the union a Literal would list."""
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
            f"characters; their durations must add up to the top-level duration (3–15 s). {used_by('multi_prompt')}"
        ),
    )
    negative_prompt: str | None = Field(
        None,
        max_length=MAX_PROMPT,
        description=f"What to avoid, ≤ {MAX_PROMPT} characters. [UPSTREAM] {used_by('negative_prompt')}",
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
            "video ≤ 10 s); video = it follows the video (≤ 30 s). " + used_by("character_orientation")
        ),
    )
    audio_setting: Literal["auto", "origin"] | None = Field(
        None,
        description=(
            "Sound of a video edit [UPSTREAM]: auto = the model makes it; origin = keep the source video's sound. "
            "[INFER] only with a reference video. " + used_by("audio_setting")
        ),
    )


class VideoRequest(StrictModel):
    """The body of `POST /v1/videos/generate`, field for field, for every catalogued model."""

    model: ModelId = Field(
        MODEL_ID,
        description=(
            "The video model (list_models shows each one's limits and prices). kling/kling-v3 (default): "
            "storyboards, camera moves, frames. kling/kling-v3-omni: + a reference video to edit or imitate. "
            "kling/kling-v3-motion-control: a character image moved like a reference video. "
            "doubao/seedance-2.0 and doubao/seedance-2.0-fast (cheaper): images, videos and audio as references, "
            "sound on by default. "
            "dashscope/happyhorse-1.0: 1080P, long prompts, video edit. A field the chosen model does not take "
            "is refused."
        ),
    )
    prompt: str | None = Field(
        None,
        json_schema_extra={"maxLength": MAX_PROMPT_ANY},
        description=(
            "What the video shows. Required, except in a kling custom storyboard (extra_params.multi_shot true + "
            "shot_type customize), where each shot has its own prompt. ≤ 2500 characters; happyhorse ≤ 5000. "
            "omni: <<<image_1>>> / <<<video_1>>> name reference inputs; happyhorse: character1, character2… "
            "name the reference images."
        ),
    )
    resolution: Resolution | None = Field(
        None,
        description=(
            "kling models: 720P (default, cheaper) or 1080P; seedance: 480P or 720P (default); happyhorse: "
            "720P or 1080P (default)."
        ),
    )
    aspect_ratio: AspectRatio | None = Field(
        None,
        description=(
            "kling v3 / omni: 16:9 (default), 9:16, 1:1 ([UPSTREAM] with a first_frame image the image's ratio "
            "wins); seedance: 16:9, 4:3, 1:1, 3:4, 9:16, 21:9, adaptive (default); happyhorse: 16:9 (default), "
            "9:16, 1:1, 4:3, 3:4, only in text- and reference-to-video. Not for motion control."
        ),
    )
    duration: int | None = Field(
        None,
        ge=MIN_DURATION,
        le=MAX_DURATION,
        description=(
            "Video length in whole seconds, default 5: 3–15 (seedance 4–15). In a custom storyboard it must "
            "equal the sum of the shot durations; leave it out there and it is that sum. Not for motion "
            "control, omni video edit (refer_type base) or happyhorse video edit: the video sets the length."
        ),
    )
    generate_audio: Flag | None = Field(
        None,
        description=(
            "true = generate a soundtrack too. Default false on the kling models (more credits on v3 / omni), "
            "TRUE on seedance (mono). Not on happyhorse (see extra_params.audio_setting)."
        ),
    )
    reference_images: list[ReferenceImage] | None = Field(
        None,
        json_schema_extra={"maxItems": MAX_IMAGES_ANY},
        description=(
            "Images that guide the video. kling v3 / omni: none, one first_frame, one first_frame + one "
            "last_frame, or 1–4 assets; never a last_frame alone, never frames and assets mixed; with multi_shot "
            "only a single first_frame [INFER]. motion control: exactly 1 (the character). seedance: ≤ 9, the "
            "same roles, assets may join reference videos/audio. happyhorse: one first_frame or 1–9 assets "
            "(≤ 5 in video edit)."
        ),
    )
    reference_videos: list[ReferenceVideo] | None = Field(
        None,
        json_schema_extra={"maxItems": MAX_VIDEOS_ANY},
        description=(
            "Reference videos (public URLs). omni: ≤ 1, with refer_type. motion control: exactly 1 (the motion). "
            "seedance: ≤ 3 (≤ 15 s in total), only with assets or alone. happyhorse: ≤ 1 = video edit. "
            "Never with first_frame/last_frame images. " + used_by("reference_videos")
        ),
    )
    reference_audios: list[ReferenceAudio] | None = Field(
        None,
        json_schema_extra={"maxItems": MAX_AUDIOS_ANY},
        description=(
            "Reference audio clips (public URLs), ≤ 3, ≤ 15 s in total; never alone: they need an asset image "
            "or a reference video. " + used_by("reference_audios")
        ),
    )
    extra_params: ExtraParams | None = Field(
        None,
        description=(
            "Extension parameters. kling-v3: storyboard (multi_shot), negative_prompt, cfg_scale, camera_control. "
            "omni: storyboard only. motion control: character_orientation. happyhorse: audio_setting. "
            "seedance: none."
        ),
    )

    @property
    def spec(self) -> ModelSpec:
        """The catalogue entry of this request's model (kling-v3 while the model is still unchecked)."""
        return CATALOG.get(self.model, KLING_V3) if isinstance(self.model, str) else KLING_V3

    def is_custom_storyboard(self) -> bool:
        extra = self.extra_params
        return bool(extra and extra.multi_shot and extra.shot_type == "customize")

    def length_from_video(self) -> bool:
        """True when a reference video, not `duration`, sets the output length (and the bill)."""
        match self.spec.length_from_video:
            case "any_video":
                return bool(self.reference_videos)
            case "base_video":
                return any(v.refer_type == "base" for v in self.reference_videos or [])
        return False

    def effective_resolution(self) -> str:
        return self.resolution or self.spec.default_resolution

    def effective_audio(self) -> bool:
        if self.generate_audio is not None:
            return self.generate_audio
        return bool(self.spec.default_audio)

    def total_seconds(self) -> int:
        """The video length imini will produce (and bill, [INFER]); the default when a video sets it."""
        if self.duration is not None:
            return self.duration
        shots = self.extra_params.multi_prompt if self.extra_params else None
        if self.is_custom_storyboard() and shots:
            return sum(shot.duration for shot in shots)
        return self.spec.default_duration or 5

    def to_body(self) -> dict[str, Any]:
        """The exact JSON imini receives: only what the caller set, plus `model`, normalised."""
        body = self.model_dump(mode="json", include=set(BODY_FIELDS), exclude_unset=True, exclude_none=True)
        body["model"] = self.model
        for image, sent in zip(self.reference_images or [], body.get("reference_images", []), strict=True):
            if self.spec.image_roles:
                sent["reference_type"] = image.reference_type  # [INFER] default is asset; say it explicitly
        if body.get("extra_params") == {}:
            del body["extra_params"]  # nothing set in it
        extra = body.get("extra_params", {})
        if shots := extra.get("multi_prompt"):
            extra["multi_prompt"] = [
                {"index": n, "prompt": shot["prompt"], "duration": shot["duration"]}
                for n, shot in enumerate(shots, start=1)
            ]
        if self.is_custom_storyboard() and "duration" not in body:
            body["duration"] = self.total_seconds()
        # The documented key order: cosmetic, but it makes a dry run read like imini's example.
        return {key: body[key] for key in BODY_FIELDS if key in body}


class GenerateVideoArguments(VideoRequest):
    """Arguments of the `generate_video` tool: the imini body plus this server's own options."""

    dry_run: Flag = Field(
        False,
        description=(
            "true = only validate and show the exact JSON body and an estimated cost; nothing is sent, no "
            "credits are used and no API key is needed."
        ),
    )
    wait_seconds: Number | None = Field(
        None,
        ge=0,
        le=3600,
        description=(
            "After submitting, wait up to this many seconds for the video (with progress updates), then return "
            "the task as it is: finished, or still running with the exact call to continue. 0 = return at once. "
            f"Default and maximum are set by the server ({WAIT_LIMITS_IN_WORDS}), because many MCP "
            "clients cut a tool call off after 60 s."
        ),
    )
    output: Literal["url", "file", "both"] | None = Field(
        None,
        description="What the finished task gives: url = imini's links (they may expire); file = the video and "
        "cover saved on this machine; both. Default: the server's IMINI_OUTPUT_MODE (url unless configured).",
    )
    output_name: Annotated[str, AfterValidator(_usable_file_name)] | None = Field(
        None,
        min_length=1,
        max_length=80,
        description="A name for saved files (letters, digits, - and _); the task id is always added.",
    )
    idempotency_key: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description=(
            "Any unique string (e.g. a UUID) for this video. Calling again with the same key returns the first "
            "task instead of submitting (and paying) twice, even after a restart; the same key with different "
            "arguments is refused."
        ),
    )


# ---------------------------------------------------------------------------------------------------
# The kling family's cross-field rules (imini-api.md §3–4): storyboards and camera moves. They run for the
# models whose spec names them (`special`); each rule skips values that already failed on their own.


def _cross_field_problems(parsed: Parsed[GenerateVideoArguments], spec: ModelSpec) -> list[Problem]:
    req = parsed.value
    if req is None:
        return []
    problems: list[Problem] = []
    extra = req.extra_params or ExtraParams.model_construct()
    shot_type_known = not parsed.is_invalid("extra_params", "shot_type")
    multi_shot = spec.storyboards and bool(extra.multi_shot)

    # Storyboard switches
    if spec.storyboards:
        if multi_shot and extra.shot_type is None and shot_type_known:
            problems.append(
                Problem(
                    "extra_params.shot_type",
                    "is required when multi_shot is true.",
                    'add "shot_type": "customize" (you give the shots) or "intelligence".',
                )
            )
        if not multi_shot and not parsed.is_invalid("extra_params", "multi_shot"):
            problems.extend(
                Problem(
                    f"extra_params.{key}",
                    "only works with multi_shot true (imini would ignore it).",
                    'set "extra_params.multi_shot": true, or remove it.',
                )
                for key in ("shot_type", "multi_prompt")
                if getattr(extra, key) is not None
            )

    # Prompt
    custom = multi_shot and extra.shot_type == "customize"
    # With multi_shot on but shot_type missing the intent is unclear; the missing shot_type is reported.
    needs_prompt = not multi_shot or extra.shot_type == "intelligence"
    if (
        needs_prompt
        and not parsed.is_invalid("prompt")
        and shot_type_known
        and not (req.prompt or "").strip()
    ):
        if spec.storyboards:
            why = "with shot_type intelligence" if multi_shot else "unless this is a custom storyboard"
        else:
            why = f"by {spec.id}"
        problems.append(
            Problem(
                "prompt",
                f"is required {why}.",
                f"describe the video in prompt (≤ {spec.max_prompt} characters).",
            )
        )

    if not spec.storyboards:
        return problems
    problems += _storyboard_problems(req, extra, parsed, spec) if custom else []
    if multi_shot and extra.shot_type == "intelligence" and extra.multi_prompt is not None:
        problems.append(
            Problem(
                "extra_params.multi_prompt",
                "is not used with shot_type intelligence.",
                'remove multi_prompt, or use "shot_type": "customize" to give the shots yourself.',
            )
        )
    problems += _storyboard_image_problems(req, extra)
    if "camera" in spec.special:
        problems += _camera_problems(req, extra, parsed)
    return problems


def _storyboard_problems(
    req: GenerateVideoArguments, extra: ExtraParams, parsed: Parsed[Any], spec: ModelSpec
) -> list[Problem]:
    shots = extra.multi_prompt
    if shots is None:
        if parsed.is_invalid("extra_params", "multi_prompt"):
            return []
        return [
            Problem(
                "extra_params.multi_prompt",
                "is required for a custom storyboard (shot_type customize).",
                'add 1–6 shots like {"prompt": "…", "duration": "3"}.',
            )
        ]
    problems: list[Problem] = []
    for position, shot in enumerate(shots, start=1):
        if shot is not None and shot.index is not None and shot.index != position:
            problems.append(
                Problem(
                    format_path(("extra_params", "multi_prompt", position - 1, "index")),
                    f"is {shot.index} but this is shot {position}; indexes must run 1..{len(shots)} in order.",
                    f"set it to {position}, or leave index out everywhere to number shots by position.",
                )
            )
    durations_known = not any(parsed.is_invalid("extra_params", "multi_prompt", i) for i in range(len(shots)))
    if not durations_known or any(s is None for s in shots):
        return problems
    total = sum(shot.duration for shot in shots)
    parts = " + ".join(str(shot.duration) for shot in shots)
    low, high = spec.duration or (MIN_DURATION, MAX_DURATION)
    if req.duration is not None and not parsed.is_invalid("duration"):
        if total != req.duration:
            problems.append(
                Problem(
                    "extra_params.multi_prompt",
                    f"shot durations add up to {total} s ({parts}) but duration is {req.duration} s.",
                    f"make the shots add up to {req.duration} s, or set duration to {total} (or leave it out).",
                )
            )
    elif req.duration is None and not parsed.is_invalid("duration") and not low <= total <= high:
        problems.append(
            Problem(
                "extra_params.multi_prompt",
                f"shot durations add up to {total} s ({parts}); a video is {low}–{high} s.",
                f"change the shot durations so they total between {low} and {high} s.",
            )
        )
    return problems


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


def _camera_problems(req: GenerateVideoArguments, extra: ExtraParams, parsed: Parsed[Any]) -> list[Problem]:
    camera = extra.camera_control
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
    if parsed.is_invalid("extra_params", "camera_control"):
        return problems
    path = "extra_params.camera_control.config"
    if camera.type != "simple":
        if camera.config is not None:
            problems.append(
                Problem(
                    path,
                    f"is only used with type simple, not {camera.type}. [UPSTREAM]",
                    'remove config, or use "type": "simple" with one movement.',
                )
            )
        return problems
    if camera.config is None:
        return [
            *problems,
            Problem(
                path,
                "is required with type simple.",
                'add a config with exactly one non-zero value, e.g. {"zoom": 5}.',
            ),
        ]
    moving = [axis for axis in CAMERA_AXES if getattr(camera.config, axis)]
    if len(moving) != 1:
        said = ", ".join(moving) if moving else "none"
        problems.append(
            Problem(
                path,
                f"must have exactly one non-zero value with type simple (non-zero: {said}).",
                "keep one of horizontal, vertical, pan, tilt, roll, zoom non-zero and set the rest to 0.",
            )
        )
    return problems


def _resolve_images(parsed: Parsed[GenerateVideoArguments], resolve: ImageResolver) -> list[Problem]:
    """Check each image that parsed (format, size, location) and put what imini receives in its place."""
    problems: list[Problem] = []
    images = parsed.value.reference_images if parsed.value else None
    for index, image in enumerate(images or []):
        if image is None or parsed.is_invalid("reference_images", index, "url"):
            continue
        try:
            image.url = resolve(image.url)
        except ValueError as exc:
            message, _, fix = str(exc).partition(" Fix: ")
            path = format_path(("reference_images", index, "url"))
            problems.append(Problem(path, message.rstrip(".") + ".", fix or "use a different image."))
    return problems


def _body_size_problems(parsed: Parsed[GenerateVideoArguments], spec: ModelSpec) -> list[Problem]:
    """[DOC] seedance: the whole body ≤ 64 MB. Checked once images are resolved: inline ones dominate it."""
    req = parsed.value
    if spec.max_body_bytes is None or req is None:
        return []
    # Fields that failed to parse are left unset (None) here; they are reported on their own.
    texts = [req.prompt] + [img.url for img in req.reference_images or [] if img is not None]
    size = sum(len(text.encode()) for text in texts if isinstance(text, str)) + 4096  # + the rest, generously
    if size <= spec.max_body_bytes:
        return []
    limit = spec.max_body_bytes // (1024 * 1024)
    return [
        Problem(
            "reference_images",
            f"make the request body about {size / (1024 * 1024):.1f} MB; {spec.id} accepts at most {limit} MB. [DOC]",
            "pass the images as public https URLs instead of local files or data URIs (those are sent inline).",
        )
    ]


def _under(path: str, parents: list[str]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in parents)


def check_generate_arguments(
    raw: dict[str, Any], *, resolve_image: ImageResolver = public_image_url
) -> GenerateVideoArguments:
    """Validate raw `generate_video` arguments; raise `InvalidArguments` listing every problem."""
    parsed = parse_partially(GenerateVideoArguments, raw)
    spec, model_problems = model_rules.choose_model(parsed)
    field_problems, not_taken = model_rules.field_problems(parsed, spec)
    # A field the model does not take is one problem naming the model, not also every flaw inside it.
    problems = [p for p in parsed.problems if not _under(p.path, not_taken)]
    problems += model_problems + field_problems
    problems += _cross_field_problems(parsed, spec)
    problems += model_rules.media_problems(parsed, spec, not_taken)
    problems += model_rules.special_problems(parsed, spec, not_taken)
    problems += _resolve_images(parsed, resolve_image)
    problems += _body_size_problems(parsed, spec)
    if problems or parsed.value is None:
        raise InvalidArguments(problems, NOT_SUBMITTED)
    return parsed.value


def request_notes(req: VideoRequest) -> list[str]:
    """Things worth knowing about a valid request: where the API's behaviour is inferred or surprising."""
    spec = req.spec
    notes: list[str] = []
    images = req.reference_images or []
    if (
        spec.storyboards
        and any(img.reference_type == "first_frame" for img in images)
        and "aspect_ratio" in req.model_fields_set
    ):
        notes.append(
            "With a first_frame image Kling follows the image's aspect ratio; aspect_ratio may be ignored."
        )
    if not spec.data_uris_documented and any(img.url.lower().startswith("data:") for img in images):
        name = "kling-v3" if spec.id == KLING_V3.id else spec.id
        notes.append(
            f"Data-URI images are documented for other imini models, not {name} [INFER]; "
            "a public https URL is the safe choice."
        )
    if req.extra_params and req.extra_params.shot_type == "intelligence":
        notes.append(
            "shot_type intelligence is documented upstream (Kling) but only customize appears in "
            "imini's kling-v3 docs [INFER]."
        )
    notes += model_rules.model_notes(req, spec)
    return notes
