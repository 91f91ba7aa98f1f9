"""The `kling/kling-v3` request: the published schema, every documented rule, and the exact wire body.

Source of truth: shared/imini-api.md §2–4. Tags in descriptions say how sure a rule is:
[UPSTREAM] = a rule of Kling's own API that imini forwards to; [INFER] = not documented, so the
safe side is enforced. `check_generate_arguments()` is the single entry point: raw tool arguments in,
either a `GenerateVideoArguments` (whose `to_body()` is what imini receives) or every problem at once.
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

from imini_mcp.validation import InvalidArguments, Parsed, Problem, format_path, parse_partially

MODEL_ID = "kling/kling-v3"
NOT_SUBMITTED = "Not submitted — nothing was sent to imini and no credits were used."
MIN_DURATION, MAX_DURATION = 3, 15
MAX_SHOTS = 6
MAX_SHOT_PROMPT = 512
MAX_PROMPT = 2500
MAX_REFERENCE_IMAGES = 4
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


# Turns a reference (URL, data URI or local path) into what imini receives; raises ValueError("… Fix: …").
ImageResolver = Callable[[str], str]


def _usable_file_name(value: str) -> str:
    from imini_mcp.downloads import (
        safe_name,
    )  # checked before submit: a bad name found after paying is too late

    try:
        safe_name("task_0", value, "video", 0, "mp4")
    except ValueError as exc:
        raise ValueError(f"{exc}. Fix: use letters, digits, spaces, - and _ only.") from None
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank. Fix: describe what happens in this shot.")
    return value


# Strict: "yes", 1 or "true" for a flag, or true for a number, are more likely mistakes than intent.
Flag = Annotated[bool, Strict()]
Number = Annotated[float, Strict()]
Resolution = Annotated[Literal["720P", "1080P"], BeforeValidator(_upper)]
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


class ReferenceImage(StrictModel):
    """One reference image and its role."""

    url: ImageUrl = Field(
        description=(
            "The image: a public https URL (safest), a data:image/png;base64,… / data:image/jpeg;base64,… URI, or "
            "(when the server runs locally) a file path inside the allowed folders, sent as a data URI "
            "([INFER] data URIs are documented for other imini models, not kling-v3). jpg/jpeg/png, ≤ 10 MB, "
            "each side ≥ 300 px (imini says 200, Kling 300), aspect ratio between 1:2.5 and 2.5:1."
        ),
    )
    reference_type: Literal["first_frame", "last_frame", "asset"] = Field(
        "asset",
        description=(
            "Role: first_frame = the video starts on this image (image-to-video); last_frame = it ends on it "
            "(only together with one first_frame); asset = a subject/style reference (1–4 assets, no frames). "
            "Omitted means asset; it is always sent explicitly."
        ),
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
    """Kling's extension parameters, all optional."""

    multi_shot: Flag | None = Field(
        None,
        description="true = storyboard (multi-shot) video. Requires shot_type. Default false.",
    )
    shot_type: Literal["customize", "intelligence"] | None = Field(
        None,
        description=(
            "Required when multi_shot is true. customize = you give the shots in multi_prompt (top-level prompt "
            "then optional); intelligence = the model splits the top-level prompt into shots itself (prompt "
            "required, no multi_prompt; [INFER] only customize is shown in imini's kling-v3 docs)."
        ),
    )
    multi_prompt: list[Shot] | None = Field(
        None,
        min_length=1,
        max_length=MAX_SHOTS,
        description=(
            f"The storyboard for multi_shot + customize: 1–{MAX_SHOTS} shots, each ≥ 1 s and ≤ {MAX_SHOT_PROMPT} "
            "characters; their durations must add up to the top-level duration (3–15 s)."
        ),
    )
    negative_prompt: str | None = Field(
        None,
        max_length=MAX_PROMPT,
        description=f"What to avoid, ≤ {MAX_PROMPT} characters. [UPSTREAM]",
    )
    cfg_scale: Number | None = Field(
        None,
        ge=0,
        le=1,
        description="Prompt adherence 0..1 (higher follows the prompt more closely). Upstream default 0.5. [UPSTREAM]",
    )
    camera_control: CameraControl | None = Field(
        None,
        description="Camera movement. [UPSTREAM] Not combinable with a last_frame image.",
    )


class VideoRequest(StrictModel):
    """The body of `POST /v1/videos/generate` for kling/kling-v3, field for field."""

    model: Literal["kling/kling-v3"] = Field(MODEL_ID, description="The video model. Only kling/kling-v3.")
    prompt: str | None = Field(
        None,
        max_length=MAX_PROMPT,
        description=(
            f"What the video shows, ≤ {MAX_PROMPT} characters. Required, except in a custom storyboard "
            "(extra_params.multi_shot true + shot_type customize), where each shot has its own prompt."
        ),
    )
    resolution: Resolution = Field("720P", description="720P (cheaper) or 1080P.")
    aspect_ratio: Literal["16:9", "9:16", "1:1"] = Field(
        "16:9",
        description="16:9 landscape, 9:16 portrait, 1:1 square. [UPSTREAM] With a first_frame image the image's ratio wins.",
    )
    duration: int | None = Field(
        None,
        ge=MIN_DURATION,
        le=MAX_DURATION,
        description=(
            f"Video length in whole seconds, {MIN_DURATION}–{MAX_DURATION}; imini's default is 5. In a custom "
            "storyboard it must equal the sum of the shot durations; leave it out there and it is that sum."
        ),
    )
    generate_audio: Flag = Field(False, description="true = generate a soundtrack too (costs more).")
    reference_images: list[ReferenceImage] | None = Field(
        None,
        max_length=MAX_REFERENCE_IMAGES,
        description=(
            "Images that guide the video. Allowed combinations: none (text-to-video); one first_frame "
            "(image-to-video); one first_frame + one last_frame (interpolation); or 1–4 assets. Never a "
            "last_frame alone, never frames and assets mixed. With multi_shot only a single first_frame. [INFER]"
        ),
    )
    extra_params: ExtraParams | None = Field(
        None,
        description="Kling's extension parameters: storyboard (multi-shot), negative prompt, cfg_scale, camera.",
    )

    def is_custom_storyboard(self) -> bool:
        extra = self.extra_params
        return bool(extra and extra.multi_shot and extra.shot_type == "customize")

    def total_seconds(self) -> int:
        """The video length imini will produce (and bill, [INFER])."""
        if self.duration is not None:
            return self.duration
        shots = self.extra_params.multi_prompt if self.extra_params else None
        if self.is_custom_storyboard() and shots:
            return sum(shot.duration for shot in shots)
        return 5

    def to_body(self) -> dict[str, Any]:
        """The exact JSON imini receives: only what the caller set, plus `model`, normalised."""
        body = self.model_dump(
            mode="json", include=set(VideoRequest.model_fields), exclude_unset=True, exclude_none=True
        )
        body["model"] = self.model
        for image, sent in zip(self.reference_images or [], body.get("reference_images", []), strict=True):
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
        return {key: body[key] for key in VideoRequest.model_fields if key in body}


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
            "Default and maximum are set by the server (45 s / 240 s unless configured), because many MCP "
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
# Cross-field rules (imini-api.md §3–4). Each rule skips values that already failed on their own.


def _cross_field_problems(parsed: Parsed[GenerateVideoArguments]) -> list[Problem]:
    req = parsed.value
    if req is None:
        return []
    problems: list[Problem] = []
    extra = req.extra_params or ExtraParams.model_construct()
    shot_type_known = not parsed.is_invalid("extra_params", "shot_type")
    multi_shot = bool(extra.multi_shot)

    # Storyboard switches
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
        why = "with shot_type intelligence" if multi_shot else "unless this is a custom storyboard"
        problems.append(
            Problem("prompt", f"is required {why}.", "describe the video in prompt (≤ 2500 characters).")
        )

    problems += _storyboard_problems(req, extra, parsed) if custom else []
    if multi_shot and extra.shot_type == "intelligence" and extra.multi_prompt is not None:
        problems.append(
            Problem(
                "extra_params.multi_prompt",
                "is not used with shot_type intelligence.",
                'remove multi_prompt, or use "shot_type": "customize" to give the shots yourself.',
            )
        )
    problems += _image_problems(req, extra, parsed)
    problems += _camera_problems(extra, parsed)
    return problems


def _storyboard_problems(
    req: GenerateVideoArguments, extra: ExtraParams, parsed: Parsed[Any]
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
    if req.duration is not None and not parsed.is_invalid("duration"):
        if total != req.duration:
            problems.append(
                Problem(
                    "extra_params.multi_prompt",
                    f"shot durations add up to {total} s ({parts}) but duration is {req.duration} s.",
                    f"make the shots add up to {req.duration} s, or set duration to {total} (or leave it out).",
                )
            )
    elif (
        req.duration is None
        and not parsed.is_invalid("duration")
        and not MIN_DURATION <= total <= MAX_DURATION
    ):
        problems.append(
            Problem(
                "extra_params.multi_prompt",
                f"shot durations add up to {total} s ({parts}); a video is {MIN_DURATION}–{MAX_DURATION} s.",
                f"change the shot durations so they total between {MIN_DURATION} and {MAX_DURATION} s.",
            )
        )
    return problems


def _image_problems(req: GenerateVideoArguments, extra: ExtraParams, parsed: Parsed[Any]) -> list[Problem]:
    images = req.reference_images or []
    if parsed.is_invalid("reference_images") and not images:
        return []
    roles = [img.reference_type if img is not None else None for img in images]
    known_roles = [r for r in roles if r is not None]
    firsts, lasts, assets = (known_roles.count(r) for r in ("first_frame", "last_frame", "asset"))
    problems: list[Problem] = []
    path = "reference_images"
    fix_modes = "use one of: one first_frame; one first_frame + one last_frame; or 1–4 assets."
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
    if extra.multi_shot and images:
        if lasts:
            problems.append(
                Problem(
                    path,
                    "has a last_frame, which does not work with multi_shot. [UPSTREAM]",
                    "remove the last_frame image, or turn multi_shot off.",
                )
            )
        if assets or len(images) > 1:
            problems.append(
                Problem(
                    path,
                    "with multi_shot, only a single first_frame image is allowed. [INFER]",
                    "keep one first_frame image, or turn multi_shot off.",
                )
            )
    if lasts and extra.camera_control is not None:
        problems.append(
            Problem(
                "extra_params.camera_control",
                "cannot be combined with a last_frame image. [UPSTREAM]",
                "remove camera_control, or remove the last_frame image.",
            )
        )
    return problems


def _camera_problems(extra: ExtraParams, parsed: Parsed[Any]) -> list[Problem]:
    camera = extra.camera_control
    if camera is None or parsed.is_invalid("extra_params", "camera_control"):
        return []
    path = "extra_params.camera_control.config"
    if camera.type != "simple":
        if camera.config is not None:
            return [
                Problem(
                    path,
                    f"is only used with type simple, not {camera.type}. [UPSTREAM]",
                    'remove config, or use "type": "simple" with one movement.',
                )
            ]
        return []
    if camera.config is None:
        return [
            Problem(
                path,
                "is required with type simple.",
                'add a config with exactly one non-zero value, e.g. {"zoom": 5}.',
            )
        ]
    moving = [axis for axis in CAMERA_AXES if getattr(camera.config, axis)]
    if len(moving) != 1:
        said = ", ".join(moving) if moving else "none"
        return [
            Problem(
                path,
                f"must have exactly one non-zero value with type simple (non-zero: {said}).",
                "keep one of horizontal, vertical, pan, tilt, roll, zoom non-zero and set the rest to 0.",
            )
        ]
    return []


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


def check_generate_arguments(
    raw: dict[str, Any], *, resolve_image: ImageResolver = public_image_url
) -> GenerateVideoArguments:
    """Validate raw `generate_video` arguments; raise `InvalidArguments` listing every problem."""
    parsed = parse_partially(GenerateVideoArguments, raw)
    problems = parsed.problems + _cross_field_problems(parsed) + _resolve_images(parsed, resolve_image)
    if problems or parsed.value is None:
        raise InvalidArguments(problems, NOT_SUBMITTED)
    return parsed.value


def request_notes(req: VideoRequest) -> list[str]:
    """Things worth knowing about a valid request: where the API's behaviour is inferred or surprising."""
    notes: list[str] = []
    images = req.reference_images or []
    if any(img.reference_type == "first_frame" for img in images) and "aspect_ratio" in req.model_fields_set:
        notes.append(
            "With a first_frame image Kling follows the image's aspect ratio; aspect_ratio may be ignored."
        )
    if any(img.url.lower().startswith("data:") for img in images):
        notes.append(
            "Data-URI images are documented for other imini models, not kling-v3 [INFER]; "
            "a public https URL is the safe choice."
        )
    if req.extra_params and req.extra_params.shot_type == "intelligence":
        notes.append(
            "shot_type intelligence is documented upstream (Kling) but only customize appears in "
            "imini's kling-v3 docs [INFER]."
        )
    return notes
