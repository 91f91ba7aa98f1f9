"""The `list_models` tool: what each catalogued video model takes, its limits, defaults and indicative prices.

Read-only, free and the same on every call: it describes `catalog.py`, so what it says and what
`generate_video` enforces cannot drift apart. Registered in tools/__init__.py.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import ConfigDict, Field

from imini_mcp.mcp.tooling import SelfValidatingTool
from imini_mcp.request import (
    ASSUMED_VIDEO_SECONDS,
    BODY_FIELDS,
    CATALOG,
    DEFAULT_MODEL,
    MODEL_IDS,
    InvalidArguments,
    LazyModel,
    ModelSpec,
    Problem,
    check_arguments,
)


class ListModelsArguments(LazyModel):
    """Arguments of `list_models`: none, or one model to describe."""

    model_config = ConfigDict(extra="forbid")

    # A plain string: the ids are listed once, in generate_video's `model`; an unknown one is refused with them.
    model: str | None = Field(None, description="Only this model id (default: all).")


class DurationRange(LazyModel):
    """Output length the caller may set, in whole seconds."""

    min: int
    max: int
    default: int


class PriceRow(LazyModel):
    """One indicative rate."""

    resolution: str
    audio: bool | None = Field(description="With generated sound; null when the model has no generate_audio.")
    with_reference_video: bool = False
    credits_per_second: int
    credits_for_5_seconds: int


class ModelInfo(LazyModel):
    """One video model: what it is for, what it takes, its limits, defaults and prices."""

    id: str = Field(description="The value for generate_video's `model`.")
    title: str
    is_default: bool = Field(description="true for the model used when `model` is left out.")
    use: str = Field(description="What it is for.")
    modes: list[str] = Field(description="The input combinations it takes.")
    fields: list[str] = Field(description="The generate_video body fields it takes; any other is refused.")
    extra_params: list[str] = Field(description="The extra_params keys it takes.")
    resolutions: list[str]
    default_resolution: str
    aspect_ratios: list[str] = Field(description="Empty: no aspect_ratio (the inputs frame the video).")
    default_aspect_ratio: str | None
    duration_seconds: DurationRange | None = Field(
        description="null: no duration field (a reference video sets the length)."
    )
    output_length: str = Field(description="What decides how long the video is (and what is billed).")
    generate_audio_default: bool | None = Field(description="null: no generate_audio field.")
    prompt_max_characters: int
    reference_images: str = Field(description="How many images, in which roles.")
    reference_videos_max: int
    reference_audios_max: int
    prices: list[PriceRow] = Field(description="Indicative credits per second of output.")
    price_source: str
    price_is_rough: bool = Field(
        description="true: no per-second price is published; a rule-of-thumb figure."
    )
    rules: list[str] = Field(description="Every rule enforced, tagged [DOC], [UPSTREAM] or [INFER].")
    notes: list[str] = Field(default_factory=list)


# What the tags in `rules`, `notes` and `price_source` say about how sure a rule or figure is.
RULE_TAGS = {
    "[DOC]": "imini's documentation says so",
    "[UPSTREAM]": "the provider behind imini (Kling, Seedance, HappyHorse) says so",
    "[INFER]": "not documented: the safe side is enforced",
    "[SKILL]": "from imini's official integration guide (its skill repository), not the API reference",
}


class ModelList(LazyModel):
    """The video models generate_video can use."""

    models: list[ModelInfo]
    default_model: str
    rule_tags: dict[str, str] = Field(description="What each tag in the rules says about how sure it is.")
    next_step: str


def _images(spec: ModelSpec) -> str:
    if not spec.image_roles:
        return f"exactly {spec.max_images} image sent as {{url}} (no reference_type)"
    low = f"{spec.min_images}–" if spec.min_images else "up to "
    return f"{low}{spec.max_images}; roles: {', '.join(spec.image_roles)}"


def _length(spec: ModelSpec) -> str:
    if spec.duration is None:
        return f"the reference video (≤ {spec.max_video_seconds} s)"
    match spec.length_from_video:
        case "any_video":
            return f"the reference video when one is given (≤ {spec.max_video_seconds} s), else duration"
        case "base_video":
            return f"the reference video in a video edit (refer_type base, ≤ {spec.max_video_seconds} s), else duration"
    return "duration (or the sum of the storyboard's shots)" if spec.storyboards else "duration"


def _prices(spec: ModelSpec) -> list[PriceRow]:
    rows: list[PriceRow] = []
    for resolution, (silent, sounding) in spec.prices.per_second.items():
        if spec.default_audio is None or silent == sounding:
            audio = None if spec.default_audio is None else spec.default_audio
            rows.append(
                PriceRow(
                    resolution=resolution,
                    audio=audio,
                    credits_per_second=silent,
                    credits_for_5_seconds=silent * 5,
                )
            )
            continue
        for audio, rate in ((False, silent), (True, sounding)):
            rows.append(
                PriceRow(
                    resolution=resolution,
                    audio=audio,
                    credits_per_second=rate,
                    credits_for_5_seconds=rate * 5,
                )
            )
    for resolution, rate in spec.prices.with_video.items():
        rows.append(
            PriceRow(
                resolution=resolution,
                audio=False,
                with_reference_video=True,
                credits_per_second=rate,
                credits_for_5_seconds=rate * 5,
            )
        )
    return rows


def describe(spec: ModelSpec) -> ModelInfo:
    low_high = spec.duration
    return ModelInfo(
        id=spec.id,
        title=spec.title,
        is_default=spec.id == DEFAULT_MODEL,
        use=spec.use,
        modes=list(spec.modes),
        fields=[name for name in BODY_FIELDS if spec.takes(name)],
        extra_params=list(spec.extra_params),
        resolutions=list(spec.resolutions),
        default_resolution=spec.default_resolution,
        aspect_ratios=list(spec.aspect_ratios),
        default_aspect_ratio=spec.default_aspect_ratio,
        duration_seconds=(
            DurationRange(min=low_high[0], max=low_high[1], default=spec.default_duration or 5)
            if low_high
            else None
        ),
        output_length=_length(spec),
        generate_audio_default=spec.default_audio,
        prompt_max_characters=spec.max_prompt,
        reference_images=_images(spec),
        reference_videos_max=spec.max_videos,
        reference_audios_max=spec.max_audios,
        prices=_prices(spec),
        price_source=spec.prices.source,
        price_is_rough=spec.prices.rough,
        rules=list(spec.rules),
        notes=list(spec.notes),
    )


def render_models(listing: ModelList) -> str:
    """Readable text for clients that show only text."""
    lines = [f"{len(listing.models)} video model(s); prices are indicative credits per second of output."]
    for info in listing.models:
        default = " (default)" if info.is_default else ""
        lines.append(f"\n{info.id}{default}: {info.title}. {info.use}")
        lines.append(f"  modes: {'; '.join(info.modes)}")
        resolution = ", ".join(r + ("*" if r == info.default_resolution else "") for r in info.resolutions)
        shape = [f"resolution {resolution}"]
        if info.aspect_ratios:
            shape.append(
                "aspect_ratio "
                + ", ".join(a + ("*" if a == info.default_aspect_ratio else "") for a in info.aspect_ratios)
            )
        if info.duration_seconds:
            d = info.duration_seconds
            shape.append(f"duration {d.min}–{d.max} s (default {d.default})")
        if info.generate_audio_default is not None:
            shape.append(f"generate_audio default {str(info.generate_audio_default).lower()}")
        lines.append(f"  {'; '.join(shape)} (* = default); prompt ≤ {info.prompt_max_characters} characters")
        media = [f"images {info.reference_images}"]
        if info.reference_videos_max:
            media.append(f"videos ≤ {info.reference_videos_max}")
        if info.reference_audios_max:
            media.append(f"audio ≤ {info.reference_audios_max}")
        lines.append(f"  references: {'; '.join(media)}; length: {info.output_length}")
        lines.append(f"  extra_params: {', '.join(info.extra_params) or 'none'}")
        rates = []
        for row in info.prices:
            tags = [row.resolution]
            if row.audio is not None:
                tags.append("audio" if row.audio else "silent")
            if row.with_reference_video:
                tags.append("with video")
            rates.append(f"{' '.join(tags)} {row.credits_per_second}/s")
        rough = "rough, " if info.price_is_rough else ""
        lines.append(f"  price ({rough}{info.price_source}): {', '.join(rates)}")
        lines += [f"  rule: {rule}" for rule in info.rules]
        lines += [f"  note: {note}" for note in info.notes]
    legend = "; ".join(f"{tag} {meaning}" for tag, meaning in listing.rule_tags.items())
    lines.append(f"\nEvery rule is checked before anything is sent. Tags: {legend}.")
    lines.append(f"\nNext: {listing.next_step}")
    return "\n".join(lines)


def model_list(model: str | None = None) -> ModelList:
    specs = [CATALOG[model]] if model else list(CATALOG.values())
    return ModelList(
        models=[describe(spec) for spec in specs],
        default_model=DEFAULT_MODEL,
        rule_tags=RULE_TAGS,
        next_step=(
            'Pass the id as generate_video\'s "model" and dry-run first (dry_run true): it checks every rule of '
            f"that model and shows the estimated credits. Where a reference video sets the length, estimates "
            f"assume {ASSUMED_VIDEO_SECONDS} s."
        ),
    )


async def list_models(arguments: dict[str, Any]) -> Annotated[CallToolResult, ModelList]:
    """The video models generate_video can use (default kling/kling-v3): what each takes, its limits,
    defaults, every rule it is checked against, and indicative credits per second. Free; call it before
    choosing another model."""
    try:
        args = check_arguments(ListModelsArguments, arguments)
        if args.model is not None and args.model not in CATALOG:
            raise InvalidArguments(
                [
                    Problem(
                        "model",
                        f"is not a known model (got {args.model!r}).",
                        f"use one of {', '.join(MODEL_IDS)}, or leave it out to list them all.",
                    )
                ]
            )
    except InvalidArguments as exc:
        raise ToolError(str(exc)) from exc
    listing = model_list(args.model)
    return CallToolResult(
        content=[TextContent(type="text", text=render_models(listing))],
        structured_content=listing.model_dump(mode="json"),
    )


SPEC = SelfValidatingTool(
    list_models,
    arguments_model=ListModelsArguments,
    title="List video models",
    read_only=True,
    idempotent=True,
    open_world=False,
)
