"""imini's video request for every catalogued model: the one flat published schema and the wire body.

Source of truth: shared/imini-api.md §2–4 (kling/kling-v3) and §7 (the other models), through
`catalog.py`, which holds each model's enums, ranges, defaults and limits; the descriptions state them from
there. The published schema is ONE flat object: the union of every model's fields, each field's description
saying which models use it (a deep `oneOf` per model renders badly in clients and is filled worse by LLMs).
Each model's own rules are checked after parsing (`rules/`), so a field a model does not take is an error
naming the model, never silently dropped. Tags in descriptions say how sure a rule is: [DOC] imini's docs;
[UPSTREAM] a rule of the provider imini forwards to; [INFER] not documented, so the safe side is enforced.
The parts of a request (images, videos, shots, camera, extra_params) are in `parts.py`; `check.py` turns
raw tool arguments into a `GenerateVideoArguments` (whose `to_body()` is what imini receives) or every
problem at once.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from imini_mcp.request.catalog import (
    CATALOG,
    DEFAULT_MODEL,
    HAPPYHORSE_1,
    HAPPYHORSE_EDIT_MAX_ASSETS,
    KLING_V3,
    KLING_V3_MOTION_CONTROL,
    KLING_V3_OMNI,
    MAX_AUDIOS_ANY,
    MAX_DURATION,
    MAX_IMAGES_ANY,
    MAX_PROMPT_ANY,
    MAX_VIDEOS_ANY,
    MIN_DURATION,
    SEEDANCE_2,
    SEEDANCE_MEDIA_SECONDS,
    choices,
    used_by,
)
from imini_mcp.request.file_names import safe_name
from imini_mcp.request.parts import (
    AspectRatio,
    ExtraParams,
    Flag,
    ModelId,
    Number,
    ReferenceAudio,
    ReferenceImage,
    ReferenceVideo,
    Resolution,
    StrictModel,
)
from imini_mcp.request.spec import BODY_FIELDS, ModelSpec
from imini_mcp.request.waits import WAIT_LIMITS_IN_WORDS


def _resolutions(spec: ModelSpec, mark: str = "default") -> str:
    return choices(spec.resolutions, spec.default_resolution, joiner=" or ", mark=mark)


def _aspect_ratios(spec: ModelSpec) -> str:
    return choices(spec.aspect_ratios, spec.default_aspect_ratio)


def _usable_file_name(value: str) -> str:
    # Checked before submit: a bad name found after paying is too late.
    try:
        safe_name("task_0", value, "video", 0, "mp4")
    except ValueError as exc:
        raise ValueError(f"{exc}. Fix: use letters, digits, spaces, - and _ only.") from None
    return value


class VideoRequest(StrictModel):
    """The body of `POST /v1/videos/generate`, field for field, for every catalogued model."""

    model: ModelId = Field(
        DEFAULT_MODEL,
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
            f"shot_type customize), where each shot has its own prompt. ≤ {KLING_V3.max_prompt} characters; "
            f"happyhorse ≤ {HAPPYHORSE_1.max_prompt}. "
            "omni: <<<image_1>>> / <<<video_1>>> name reference inputs; happyhorse: character1, character2… "
            "name the reference images."
        ),
    )
    resolution: Resolution | None = Field(
        None,
        description=(
            f"kling models: {_resolutions(KLING_V3, mark='default, cheaper')}; "
            f"seedance: {_resolutions(SEEDANCE_2)}; happyhorse: {_resolutions(HAPPYHORSE_1)}."
        ),
    )
    aspect_ratio: AspectRatio | None = Field(
        None,
        description=(
            f"kling v3 / omni: {_aspect_ratios(KLING_V3)} ([UPSTREAM] with a first_frame image the image's "
            f"ratio wins); seedance: {_aspect_ratios(SEEDANCE_2)}; happyhorse: {_aspect_ratios(HAPPYHORSE_1)}, "
            "only in text- and reference-to-video. Not for motion control."
        ),
    )
    duration: int | None = Field(
        None,
        ge=MIN_DURATION,
        le=MAX_DURATION,
        description=(
            f"Video length in whole seconds, default {KLING_V3.default_duration}: {KLING_V3.seconds} "
            f"(seedance {SEEDANCE_2.seconds}). In a custom storyboard it must equal the sum of the shot "
            "durations; leave it out there and it is that sum. Not for motion control, omni video edit "
            "(refer_type base) or happyhorse video edit: the video sets the length."
        ),
    )
    generate_audio: Flag | None = Field(
        None,
        description=(
            f"true = generate a soundtrack too. Default {str(KLING_V3.default_audio).lower()} on the kling models "
            f"(more credits on v3 / omni), {str(SEEDANCE_2.default_audio).upper()} on seedance (mono). Not on "
            "happyhorse (see extra_params.audio_setting)."
        ),
    )
    reference_images: list[ReferenceImage] | None = Field(
        None,
        json_schema_extra={"maxItems": MAX_IMAGES_ANY},
        description=(
            "Images that guide the video. kling v3 / omni: none, one first_frame, one first_frame + one "
            f"last_frame, or 1–{KLING_V3.max_images} assets; never a last_frame alone, never frames and assets "
            "mixed; with multi_shot only a single first_frame [INFER]. motion control: exactly "
            f"{KLING_V3_MOTION_CONTROL.max_images} (the character). seedance: ≤ {SEEDANCE_2.max_images}, the "
            "same roles, assets may join reference videos/audio. happyhorse: one first_frame or "
            f"1–{HAPPYHORSE_1.max_images} assets (≤ {HAPPYHORSE_EDIT_MAX_ASSETS} in video edit)."
        ),
    )
    reference_videos: list[ReferenceVideo] | None = Field(
        None,
        json_schema_extra={"maxItems": MAX_VIDEOS_ANY},
        description=(
            f"Reference videos (public URLs). omni: ≤ {KLING_V3_OMNI.max_videos}, with refer_type. motion "
            f"control: exactly {KLING_V3_MOTION_CONTROL.max_videos} (the motion). seedance: "
            f"≤ {SEEDANCE_2.max_videos} (≤ {SEEDANCE_MEDIA_SECONDS} s in total), only with assets or alone. "
            f"happyhorse: ≤ {HAPPYHORSE_1.max_videos} = video edit. Never with first_frame/last_frame images. "
            + used_by("reference_videos")
        ),
    )
    reference_audios: list[ReferenceAudio] | None = Field(
        None,
        json_schema_extra={"maxItems": MAX_AUDIOS_ANY},
        description=(
            f"Reference audio clips (public URLs), ≤ {SEEDANCE_2.max_audios}, ≤ {SEEDANCE_MEDIA_SECONDS} s in "
            "total; never alone: they need an asset image or a reference video. "
            + used_by("reference_audios")
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
