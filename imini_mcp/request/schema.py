"""imini's video request for every catalogued model: the one flat published schema and the wire body.

Source of truth: shared/imini-api.md §2–4 (kling/kling-v3) and §7 (the other models), through
`catalog.py`, which holds each model's enums, ranges, defaults and limits; the descriptions state them from
there. The published schema is ONE flat object: the union of every model's fields (a deep `oneOf` per model
renders badly in clients and is filled worse by LLMs). Its descriptions are what a model reads on every turn,
so they say what a first request to the default model (kling-v3, storyboards included) needs, and which
fields and extra_params keys belong to which other model; every other model's limits are stated by
list_models and in each refusal. Each model's own rules are checked after parsing (`rules/`), so a field a
model does not take is an error naming the model, never silently dropped. Tags in descriptions say how sure a
rule is: [DOC] imini's docs; [UPSTREAM] a rule of the provider imini forwards to; [INFER] not documented, so
the safe side is enforced. They stay here; the published text drops them (published.py).
The parts of a request (images, videos, shots, camera, extra_params) are in `parts.py`; `check.py` turns
raw tool arguments into a `GenerateVideoArguments` (whose `to_body()` is what imini receives) or every
problem at once.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, WithJsonSchema

from imini_mcp.request.catalog import (
    CATALOG,
    DEFAULT_MODEL,
    HAPPYHORSE_1,
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
    extra_params_by_model,
    short_id,
)
from imini_mcp.request.file_names import OUTPUT_NAME_PATTERN, OUTPUT_NAME_RULE, output_name_problem
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


def _not_for(name: str) -> str:
    """'Not for a, b.': the models that do not take a top-level field, by short id."""
    refusing = [short_id(spec.id) for spec in CATALOG.values() if not spec.takes(name)]
    return f"Not for {', '.join(refusing)}." if refusing else ""


def _usable_file_name(value: str) -> str:
    # Checked before submit (a bad name found after paying is too late), by the rule saving applies.
    if problem := output_name_problem(value):
        raise ValueError(problem)
    return value


OutputName = Annotated[
    str,
    AfterValidator(_usable_file_name),
    WithJsonSchema({"type": "string", "pattern": OUTPUT_NAME_PATTERN}),
]


class VideoRequest(StrictModel):
    """The body of `POST /v1/videos/generate`, field for field, for every catalogued model."""

    model: ModelId = Field(
        DEFAULT_MODEL,
        description=(
            f"{short_id(DEFAULT_MODEL)} (default): frames, storyboards, camera moves. "
            "kling-v3-omni: + a video to edit or imitate; kling-v3-motion-control: a character moved like a "
            "video; seedance-2.0(-fast): cheaper, media references; happyhorse-1.0: 1080P, video edit."
        ),
    )
    prompt: str | None = Field(
        None,
        json_schema_extra={"maxLength": MAX_PROMPT_ANY},
        description=(
            f"≤ {KLING_V3.max_prompt} characters (happyhorse-1.0 {HAPPYHORSE_1.max_prompt}). Required, except "
            "in a customize storyboard (each shot has one)."
        ),
    )
    resolution: Resolution | None = Field(
        None,
        description=(
            f"kling: {_resolutions(KLING_V3)}; seedance: {_resolutions(SEEDANCE_2)}; happyhorse: "
            f"{_resolutions(HAPPYHORSE_1)}."
        ),
    )
    aspect_ratio: AspectRatio | None = Field(
        None,
        description=(
            f"kling: {_aspect_ratios(KLING_V3)} (a first_frame's own ratio wins [UPSTREAM]); the rest: "
            f"seedance, happyhorse. {_not_for('aspect_ratio')}"
        ),
    )
    duration: int | None = Field(
        None,
        ge=MIN_DURATION,
        le=MAX_DURATION,
        description=(
            f"Seconds, {KLING_V3.seconds}, default {KLING_V3.default_duration} (seedance {SEEDANCE_2.seconds}); "
            f"a customize storyboard's is the sum of its shots. {_not_for('duration')} Not in a video edit (the "
            "video sets it)."
        ),
    )
    generate_audio: Flag | None = Field(
        None,
        description=(
            f"true = add sound (more credits). Default {str(KLING_V3.default_audio).lower()}; seedance "
            f"{str(SEEDANCE_2.default_audio).lower()}. {_not_for('generate_audio')}"
        ),
    )
    reference_images: list[ReferenceImage] | None = Field(
        None,
        json_schema_extra={"maxItems": MAX_IMAGES_ANY},
        description=(
            f"kling: one first_frame, first_frame + last_frame, or 1–{KLING_V3.max_images} assets; never a "
            "last_frame alone or frames with assets; a storyboard takes one first_frame at most [INFER]. Others: "
            "list_models."
        ),
    )
    reference_videos: list[ReferenceVideo] | None = Field(
        None,
        json_schema_extra={"maxItems": MAX_VIDEOS_ANY},
        description=(
            f"Public http(s) URLs of mp4/mov. kling-v3-omni: ≤ {KLING_V3_OMNI.max_videos}, with refer_type; "
            f"kling-v3-motion-control: exactly {KLING_V3_MOTION_CONTROL.max_videos}; seedance: "
            f"≤ {SEEDANCE_2.max_videos}; happyhorse: {HAPPYHORSE_1.max_videos} (a video edit). Never with frame "
            "images."
        ),
    )
    reference_audios: list[ReferenceAudio] | None = Field(
        None,
        json_schema_extra={"maxItems": MAX_AUDIOS_ANY},
        description=(
            f"seedance only: ≤ {SEEDANCE_2.max_audios} public http(s) URLs, ≤ {SEEDANCE_MEDIA_SECONDS} s in "
            "total, with an asset image or a reference video."
        ),
    )
    extra_params: ExtraParams | None = Field(None, description=f"Per model: {extra_params_by_model()}.")

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
            "true = only check, and show the exact body and estimated credits; nothing is sent or spent."
        ),
    )
    wait_seconds: Number | None = Field(
        None,
        ge=0,
        description=(
            "Seconds to wait for the video after submitting (with progress); 0 = return at once. "
            + WAIT_LIMITS_IN_WORDS
        ),
    )
    output: Literal["url", "file", "both"] | None = Field(
        None,
        description="url: imini's links (they may expire); file: save video and cover on this machine; both. "
        "Default: the server's setting.",
    )
    output_name: OutputName | None = Field(
        None,
        description=f"Files are saved as <output_name>_<task id>.mp4 (and .cover.jpg): {OUTPUT_NAME_RULE}.",
    )
    idempotency_key: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description=(
            "Any unique string (a UUID): repeating a key returns its first task instead of paying twice; "
            "other arguments with it are refused."
        ),
    )
