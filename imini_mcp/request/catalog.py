"""The catalogue of imini video models: one frozen `ModelSpec` per model, the one place a model's rules live.

Sources: shared/imini-api.md §2–4 (kling/kling-v3), §7 (the other models) and §8 (prices). Tags say how sure
a rule is: [DOC] imini's docs say so; [UPSTREAM] the provider behind imini says so; [INFER] nobody says, so
the safe side is enforced. The shared rules (`rules/fields.py`, `rules/media.py`) read these tables; the few
rules no table can hold are named in `ModelSpec.special` and written out in one module per model family under
`rules/`. A model family's own limits that are not `ModelSpec` fields are named constants beside its entries.
Adding a model: one entry here (and in CATALOG), plus its rule module if it has special rules.
"""

from __future__ import annotations

from imini_mcp.request.spec import ModelSpec, Prices

# Kling storyboards (kling-v3, kling-v3-omni) [UPSTREAM]: shots per video, characters per shot prompt.
MAX_SHOTS = 6
MAX_SHOT_PROMPT = 512
# Kling motion control [UPSTREAM]: the longest motion video with character_orientation image.
IMAGE_ORIENTATION_MAX_SECONDS = 10
# Seedance [DOC]: the longest total of the reference videos, and of the reference audio clips.
SEEDANCE_MEDIA_SECONDS = 15
# HappyHorse [UPSTREAM]: the most asset images in a video edit.
HAPPYHORSE_EDIT_MAX_ASSETS = 5

KLING_V3 = ModelSpec(
    id="kling/kling-v3",
    title="Kling 3.0",
    use="Text-to-video, image-to-video, first/last-frame, up to 4 reference images, multi-shot storyboards, "
    "camera moves.",
    modes=(
        "text-to-video: no images",
        "image-to-video: one first_frame",
        "interpolation: one first_frame + one last_frame",
        "multi-reference: 1–4 assets",
        f"storyboard: extra_params.multi_shot with 1–{MAX_SHOTS} shots (optionally from one first_frame)",
    ),
    resolutions=("720P", "1080P"),
    default_resolution="720P",
    aspect_ratios=("16:9", "9:16", "1:1"),
    default_aspect_ratio="16:9",
    duration=(3, 15),
    default_duration=5,
    default_audio=False,
    max_prompt=2500,
    image_roles=("first_frame", "last_frame", "asset"),
    max_images=4,
    extra_params=(
        "multi_shot",
        "shot_type",
        "multi_prompt",
        "negative_prompt",
        "cfg_scale",
        "camera_control",
    ),
    special=("storyboard", "camera"),
    prices=Prices(
        per_second={"720P": (120, 170), "1080P": (160, 220)},
        source="imini's older published per-second rates [SKILL]",
    ),
    rules=(
        "[DOC] prompt ≤ 2500 characters; required except in a custom storyboard",
        "[DOC] resolution 720P | 1080P (default 720P); aspect_ratio 16:9 | 9:16 | 1:1 (default 16:9)",
        "[DOC] duration 3–15 s (default 5); generate_audio default false",
        "[DOC] reference_images ≤ 4: one first_frame, first_frame + last_frame, or 1–4 assets",
        "[INFER] never a last_frame alone, never frames and assets mixed",
        f"[UPSTREAM] storyboard: shot_type required, 1–{MAX_SHOTS} shots of ≥ 1 s and ≤ {MAX_SHOT_PROMPT} "
        "characters adding up to duration; [INFER] only a single first_frame image",
        "[UPSTREAM] camera_control: simple needs exactly one non-zero value in −10…10; not with a last_frame",
        "[INFER] no reference_videos, reference_audios or other extra_params keys",
    ),
    notes=("The model used when `model` is left out.",),
)

KLING_V3_OMNI = ModelSpec(
    id="kling/kling-v3-omni",
    title="Kling 3.0 Omni",
    use="kling-v3 plus one reference video: edit a video (refer_type base) or borrow its style and motion "
    "(feature); refer to inputs in the prompt as <<<image_1>>>, <<<video_1>>>; storyboards.",
    modes=(
        "text-to-video: no images",
        "image-to-video: one first_frame",
        "interpolation: one first_frame + one last_frame",
        "multi-reference: 1–4 assets",
        "video reference: one reference video (refer_type feature) + 0–4 assets",
        "video edit: one reference video (refer_type base) + 0–4 assets; the output is as long as the video",
        f"storyboard: extra_params.multi_shot with 1–{MAX_SHOTS} shots (optionally from one first_frame)",
    ),
    resolutions=("720P", "1080P"),
    default_resolution="720P",
    aspect_ratios=("16:9", "9:16", "1:1"),
    default_aspect_ratio="16:9",
    duration=(3, 15),
    default_duration=5,
    default_audio=False,
    max_prompt=2500,
    image_roles=("first_frame", "last_frame", "asset"),
    max_images=4,
    max_videos=1,
    refer_types=("base", "feature"),
    extra_params=("multi_shot", "shot_type", "multi_prompt"),
    length_from_video="base_video",
    max_video_seconds=10,
    special=("storyboard", "omni"),
    prices=Prices(
        per_second={"720P": (120, 160), "1080P": (160, 200)},
        with_video={"720P": 170, "1080P": 220},
        source="imini's older published per-second rates [SKILL]",
    ),
    rules=(
        "[DOC] prompt ≤ 2500 characters (may hold what to avoid too); required except in a custom storyboard",
        "[DOC] <<<image_N>>> / <<<video_N>>> in the prompt name the N-th reference image / video; "
        "[INFER] N must exist, and <<<element_N>>> is refused (imini documents no way to send elements)",
        "[DOC] resolution 720P | 1080P (default 720P); aspect_ratio 16:9 | 9:16 | 1:1 (default 16:9); "
        "duration 3–15 s (default 5); generate_audio default false",
        "[DOC] reference_images: one first_frame, first_frame + last_frame, or assets; never a last_frame alone; "
        "[INFER] at most 4 (Kling allows 7 without a video, 4 with one)",
        "[INFER] reference_videos: at most 1, public http(s) URL, refer_type required (base | feature)",
        "[DOC] with refer_type base only asset images, and duration is ignored (the output is as long as the "
        "video): [INFER] so duration and multi_shot are refused; [INFER] frames are refused with feature too",
        "[INFER] generate_audio true is refused with a reference video (imini lists no audio price with one; "
        "Kling makes them exclusive)",
        "[INFER] extra_params: only multi_shot, shot_type, multi_prompt (storyboard rules as kling-v3)",
    ),
    refusal_hints={"negative_prompt": "omni's prompt may say what to avoid itself"},
    notes=(
        "A base (edit) video is billed on its own length, rounded to the nearest second [DOC].",
        "Reference videos must be public http(s) URLs; local files and data URIs are images only.",
    ),
)

KLING_V3_MOTION_CONTROL = ModelSpec(
    id="kling/kling-v3-motion-control",
    title="Kling 3.0 Motion Control",
    use="Animate a character image with the motion of a reference video (dance, action, gesture).",
    modes=("motion transfer: exactly one character image + exactly one motion video",),
    resolutions=("720P", "1080P"),
    default_resolution="720P",
    aspect_ratios=(),
    default_aspect_ratio=None,
    duration=None,
    default_duration=None,
    default_audio=False,
    max_prompt=2500,
    image_roles=(),
    min_images=1,
    max_images=1,
    min_videos=1,
    max_videos=1,
    extra_params=("character_orientation",),
    length_from_video="any_video",
    max_video_seconds=30,
    special=("motion_control",),
    prices=Prices(
        per_second={"720P": (220, 220), "1080P": (220, 220)},
        rough=True,
        source="imini's rule of thumb: about 1,100 credits for 5 s at 1080P [SKILL]",
    ),
    rules=(
        "[DOC] prompt ≤ 2500 characters; [INFER] required",
        "[DOC] resolution 720P | 1080P; [INFER] default 720P",
        "[DOC] exactly 1 reference image (the character) and exactly 1 reference video (the motion: one "
        "continuous shot, full or upper body visible)",
        "[DOC] imini's example sends the image as {url} only: [INFER] so reference_type is refused, and the "
        "video must be a public http(s) URL without refer_type",
        "[DOC] no aspect_ratio or duration: the output follows the motion video",
        "[UPSTREAM] extra_params.character_orientation (image | video) is required: image keeps the image's "
        f"orientation (motion video ≤ {IMAGE_ORIENTATION_MAX_SECONDS} s), video follows the video (≤ 30 s)",
    ),
    refusal_hints={
        "aspect_ratio": "the motion video sets the framing",
        "duration": "the output is as long as the motion video",
    },
    notes=("The output is as long as the motion video (3–30 s upstream); its length is not checked here.",),
)

_SEEDANCE_RULES = (
    "[DOC] resolution 480P | 720P (default 720P); aspect_ratio 16:9 | 4:3 | 1:1 | 3:4 | 9:16 | 21:9 | "
    "adaptive (default adaptive)",
    "[DOC] duration 4–15 s (default 5); generate_audio default TRUE (mono)",
    "[INFER] prompt required and ≤ 2500 characters (imini recommends ≤ 1000 English words)",
    "[DOC] reference_images ≤ 9: one first_frame, first_frame + last_frame, or assets",
    f"[DOC] assets may come with reference_videos (≤ 3, public URL, ≤ {SEEDANCE_MEDIA_SECONDS} s in total) "
    f"and reference_audios (≤ 3, ≤ {SEEDANCE_MEDIA_SECONDS} s in total); audio never alone: it needs an asset "
    "image or a video; [INFER] videos may "
    "come without images",
    "[INFER] frame images never combine with videos or audio",
    "[DOC] the whole request body ≤ 64 MB (inline data-URI images count)",
    "[INFER] no extra_params at all",
)

SEEDANCE_2 = ModelSpec(
    id="doubao/seedance-2.0",
    title="Seedance 2.0",
    use="ByteDance Seedance 2.0: text/image-to-video, first/last frame, multimodal references (images, videos, "
    "audio); seven aspect ratios; sound on by default.",
    modes=(
        "text-to-video: no references",
        "image-to-video: one first_frame",
        "interpolation: one first_frame + one last_frame",
        "multimodal reference: 0–9 assets + 0–3 reference videos + 0–3 reference audios (audio needs an asset "
        "or a video)",
    ),
    resolutions=("480P", "720P"),
    default_resolution="720P",
    aspect_ratios=("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive"),
    default_aspect_ratio="adaptive",
    duration=(4, 15),
    default_duration=5,
    default_audio=True,
    max_prompt=2500,
    image_roles=("first_frame", "last_frame", "asset"),
    max_images=9,
    max_videos=3,
    max_audios=3,
    data_uris_documented=True,
    max_body_bytes=64 * 1024 * 1024,
    special=("seedance",),
    prices=Prices(
        per_second={"480P": (100, 100), "720P": (200, 200)},
        source="imini's older published per-second rates, without reference videos [SKILL]",
    ),
    rules=_SEEDANCE_RULES,
    notes=(
        "The documented price is without reference videos; with them the estimate is rough.",
        f"The {SEEDANCE_MEDIA_SECONDS} s total of reference videos and of reference audios cannot be checked here "
        "(lengths unknown).",
    ),
)

SEEDANCE_2_FAST = ModelSpec(
    id="doubao/seedance-2.0-fast",
    title="Seedance 2.0 Fast",
    use="Seedance 2.0 with the same parameters, lighter, faster and cheaper.",
    modes=SEEDANCE_2.modes,
    resolutions=SEEDANCE_2.resolutions,
    default_resolution=SEEDANCE_2.default_resolution,
    aspect_ratios=SEEDANCE_2.aspect_ratios,
    default_aspect_ratio=SEEDANCE_2.default_aspect_ratio,
    duration=SEEDANCE_2.duration,
    default_duration=SEEDANCE_2.default_duration,
    default_audio=True,
    max_prompt=SEEDANCE_2.max_prompt,
    image_roles=SEEDANCE_2.image_roles,
    max_images=SEEDANCE_2.max_images,
    max_videos=SEEDANCE_2.max_videos,
    max_audios=SEEDANCE_2.max_audios,
    data_uris_documented=True,
    max_body_bytes=SEEDANCE_2.max_body_bytes,
    special=("seedance",),
    prices=Prices(
        per_second={"480P": (80, 80), "720P": (160, 160)},
        source="imini's older published per-second rates, without reference videos [SKILL]",
    ),
    rules=("[DOC] the same parameters as doubao/seedance-2.0:", *_SEEDANCE_RULES),
    notes=SEEDANCE_2.notes,
)

HAPPYHORSE_1 = ModelSpec(
    id="dashscope/happyhorse-1.0",
    title="HappyHorse 1.0",
    use="Alibaba HappyHorse 1.0: text-to-video, image-to-video, reference-to-video (up to 9 images, named "
    "character1, character2… in the prompt) and video edit; 1080P and 5000-character prompts.",
    modes=(
        "text-to-video: no references",
        "image-to-video: one first_frame",
        "reference-to-video: 1–9 assets",
        f"video edit: one reference video + 0–{HAPPYHORSE_EDIT_MAX_ASSETS} assets; the output follows the video "
        "(≤ 15 s)",
    ),
    resolutions=("720P", "1080P"),
    default_resolution="1080P",
    aspect_ratios=("16:9", "9:16", "1:1", "4:3", "3:4"),
    default_aspect_ratio="16:9",
    duration=(3, 15),
    default_duration=5,
    default_audio=None,
    max_prompt=5000,
    image_roles=("first_frame", "asset"),
    max_images=9,
    max_videos=1,
    extra_params=("audio_setting",),
    length_from_video="any_video",
    max_video_seconds=15,
    data_uris_documented=True,
    special=("happyhorse",),
    prices=Prices(
        per_second={"720P": (300, 300), "1080P": (300, 300)},
        rough=True,
        source="imini's rule of thumb: about 1,500 credits for 5 s at 1080P [SKILL]",
    ),
    rules=(
        "[DOC] prompt ≤ 5000 characters; [INFER] required; character1, character2… name the N-th reference "
        "image in reference-to-video ([INFER] N must exist)",
        "[DOC] resolution 720P | 1080P (default 1080P)",
        "[DOC] aspect_ratio 16:9 | 9:16 | 1:1 | 4:3 | 3:4 (default 16:9), only in text- and reference-to-video",
        "[DOC] duration 3–15 s (default 5), not in video edit",
        "[DOC] reference_images ≤ 9: one first_frame, or assets; [INFER] no last_frame",
        "[DOC] reference_videos: at most 1, public URL only: a video edit, with asset images, never a "
        f"first_frame; [UPSTREAM] 0–{HAPPYHORSE_EDIT_MAX_ASSETS} assets in a video edit (a video alone "
        "restyles it)",
        "[INFER] no generate_audio; extra_params.audio_setting (auto | origin) [UPSTREAM] only in video edit",
    ),
    refusal_hints={"generate_audio": "a video edit sets its sound with extra_params.audio_setting"},
    notes=(
        "Reference-to-video images should have a shorter side ≥ 400 px [DOC]; this server checks ≥ 300 px.",
        "No per-second price is published: the estimate is imini's rough rule of thumb.",
    ),
)

CATALOG: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        KLING_V3,
        KLING_V3_OMNI,
        KLING_V3_MOTION_CONTROL,
        SEEDANCE_2,
        SEEDANCE_2_FAST,
        HAPPYHORSE_1,
    )
}
MODEL_IDS: tuple[str, ...] = tuple(CATALOG)
DEFAULT_MODEL = KLING_V3.id


def _union(values: list[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for group in values for v in group))


# The flat published schema takes the union; each model's own limits are checked against its spec.
ALL_RESOLUTIONS: tuple[str, ...] = tuple(
    sorted(_union([s.resolutions for s in CATALOG.values()]), key=lambda r: int(r[:-1]))
)
ALL_ASPECT_RATIOS: tuple[str, ...] = _union([s.aspect_ratios for s in CATALOG.values()])
MAX_PROMPT_ANY = max(s.max_prompt for s in CATALOG.values())
MAX_IMAGES_ANY = max(s.max_images for s in CATALOG.values())
MAX_VIDEOS_ANY = max(s.max_videos for s in CATALOG.values())
MAX_AUDIOS_ANY = max(s.max_audios for s in CATALOG.values())
# The widest duration range of any model; each model's own is its spec's `duration`.
MIN_DURATION = min(s.duration[0] for s in CATALOG.values() if s.duration)
MAX_DURATION = max(s.duration[1] for s in CATALOG.values() if s.duration)


def models_taking(name: str) -> list[str]:
    """Ids of the models that take the field or extra_params key `name`."""
    return [spec.id for spec in CATALOG.values() if spec.takes(name)]


def models_with(attribute: str, value: str) -> list[str]:
    """Ids of the models whose `resolutions` / `aspect_ratios` / `refer_types` / `image_roles` include `value`."""
    return [spec.id for spec in CATALOG.values() if value in getattr(spec, attribute)]


def short_id(model_id: str) -> str:
    """A model's id without its provider, as descriptions name it: `kling/kling-v3-omni` → `kling-v3-omni`."""
    return model_id.split("/", 1)[-1]


def used_by(name: str) -> str:
    """'Models: a, b.' (short ids) for a field description in the flat schema."""
    ids = models_taking(name)
    return "Models: all." if len(ids) == len(CATALOG) else f"Models: {', '.join(map(short_id, ids))}."


def extra_params_by_model() -> str:
    """Which models take which extra_params keys: `kling-v3: multi_shot, …; seedance-2.0, seedance-2.0-fast: none`."""
    keys: dict[tuple[str, ...], list[str]] = {}
    for spec in CATALOG.values():
        keys.setdefault(spec.extra_params, []).append(short_id(spec.id))
    return "; ".join(f"{', '.join(ids)}: {', '.join(params) or 'none'}" for params, ids in keys.items())


def choices(
    values: tuple[str, ...], default: str | None, *, joiner: str = ", ", mark: str = "default"
) -> str:
    """`16:9 (default), 9:16, 1:1`: a model's values for a field description, in order, its default marked."""
    return joiner.join(f"{value} ({mark})" if value == default else value for value in values)
