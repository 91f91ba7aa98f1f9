"""The published `generate_video` schema (schema.py, parts.py), as a specification: one flat, portable
object whose enums are the union of the models, each field saying which models use it, and each limit it
states being the catalogue's."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from imini_mcp.request import CATALOG, MODEL_IDS, GenerateVideoArguments, ModelSpec, arguments_schema
from imini_mcp.request.catalog import (
    ALL_ASPECT_RATIOS,
    HAPPYHORSE_EDIT_MAX_ASSETS,
    IMAGE_ORIENTATION_MAX_SECONDS,
    MAX_SHOT_PROMPT,
    MAX_SHOTS,
    SEEDANCE_MEDIA_SECONDS,
    models_taking,
)
from imini_mcp.request.spec import EXTRA_PARAMS
from tests.request.builders import FAST, HORSE, MOTION, OMNI, SEED, V3

SCHEMA = arguments_schema(GenerateVideoArguments)


def _combinators(node: Any, path: str = "") -> list[tuple[str, str, list[Any]]]:
    found: list[tuple[str, str, list[Any]]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("oneOf", "anyOf", "allOf"):
                found.append((path, key, value))
            found += _combinators(value, f"{path}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            found += _combinators(value, f"{path}/{n}")
    return found


def test_the_schema_has_no_oneof_and_no_anyof_deeper_than_one_level() -> None:
    """The only combinator is the shot duration's integer-or-digits; no per-model objects."""
    found = _combinators(SCHEMA)
    assert [kind for _, kind, _ in found] == ["anyOf"]  # the shot duration: integer or digit string
    for path, _, branches in found:
        for branch in branches:
            assert not _combinators(branch), path  # no combinator inside a combinator
            assert branch.get("type") in ("integer", "string", "number", "boolean"), (
                path
            )  # no per-model objects


def test_the_schema_is_one_object_with_the_union_of_the_models() -> None:
    """One object; its enums and limits are the widest of any model (each model's own are checked after)."""
    props = SCHEMA["properties"]
    assert SCHEMA["type"] == "object"
    assert SCHEMA["additionalProperties"] is False
    assert props["model"]["enum"] == list(MODEL_IDS)
    assert props["model"]["default"] == V3
    assert props["resolution"]["enum"] == ["480P", "720P", "1080P"]
    assert props["aspect_ratio"]["enum"] == list(ALL_ASPECT_RATIOS)
    assert set(ALL_ASPECT_RATIOS) == {"16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive"}
    assert (props["duration"]["minimum"], props["duration"]["maximum"]) == (3, 15)
    assert props["prompt"]["maxLength"] == 5000
    assert props["reference_images"]["maxItems"] == 9
    assert props["reference_videos"]["maxItems"] == 3
    assert props["reference_audios"]["maxItems"] == 3
    assert set(SCHEMA["$defs"]["ExtraParams"]["properties"]) == set(EXTRA_PARAMS)


def test_each_field_says_which_models_use_it() -> None:
    """Every extra_params key, and the media lists, name the models that take them."""
    extra = SCHEMA["$defs"]["ExtraParams"]["properties"]
    for name, prop in extra.items():
        takers = [model for model, spec in CATALOG.items() if spec.takes(name)]
        assert "Models: " in prop["description"], name
        for model in takers:
            assert model in prop["description"], (name, model)
    for name in ("reference_videos", "reference_audios"):
        assert "Models: " in SCHEMA["properties"][name]["description"]
    assert "refer_type" in SCHEMA["$defs"]["ReferenceVideo"]["properties"]
    assert all(model in SCHEMA["properties"]["model"]["description"] for model in MODEL_IDS)


# ---------------------------------------------------------------------------------------------------
# Each limit a description states is the catalogue's, for every model it speaks for


def _marked(values: tuple[str, ...], default: str | None, joiner: str = ", ", mark: str = "default") -> str:
    return joiner.join(f"{value} ({mark})" if value == default else value for value in values)


def _seconds(spec: ModelSpec) -> str:
    assert spec.duration is not None
    return f"{spec.duration[0]}–{spec.duration[1]}"


def _exactly(count: int, low: int) -> str:
    return f"exactly {count}" if low == count else f"{low}–{count}"


Phrase = Callable[[ModelSpec], str]
# (field, the models one phrase of its description speaks for, the phrase from their catalogue entry)
STATED_LIMITS: list[tuple[str, list[str], Phrase]] = [
    ("prompt", [V3, OMNI, MOTION, SEED, FAST], lambda s: f"≤ {s.max_prompt} characters; happyhorse"),
    ("prompt", [HORSE], lambda s: f"happyhorse ≤ {s.max_prompt}."),
    (
        "resolution",
        [V3, OMNI, MOTION],
        lambda s: (
            f"kling models: {_marked(s.resolutions, s.default_resolution, ' or ', 'default, cheaper')};"
        ),
    ),
    (
        "resolution",
        [SEED, FAST],
        lambda s: f"seedance: {_marked(s.resolutions, s.default_resolution, ' or ')};",
    ),
    ("resolution", [HORSE], lambda s: f"happyhorse: {_marked(s.resolutions, s.default_resolution, ' or ')}."),
    (
        "aspect_ratio",
        [V3, OMNI],
        lambda s: f"kling v3 / omni: {_marked(s.aspect_ratios, s.default_aspect_ratio)} (",
    ),
    (
        "aspect_ratio",
        [SEED, FAST],
        lambda s: f"seedance: {_marked(s.aspect_ratios, s.default_aspect_ratio)};",
    ),
    (
        "aspect_ratio",
        [HORSE],
        lambda s: f"happyhorse: {_marked(s.aspect_ratios, s.default_aspect_ratio)}, only",
    ),
    ("duration", [V3, OMNI, SEED, FAST, HORSE], lambda s: f"default {s.default_duration}:"),
    ("duration", [V3, OMNI, HORSE], lambda s: f": {_seconds(s)} (seedance"),
    ("duration", [SEED, FAST], lambda s: f"(seedance {_seconds(s)})."),
    (
        "generate_audio",
        [V3, OMNI, MOTION],
        lambda s: f"Default {json.dumps(s.default_audio)} on the kling models",
    ),
    ("generate_audio", [SEED, FAST], lambda s: f"{json.dumps(s.default_audio).upper()} on seedance"),
    ("reference_images", [V3, OMNI], lambda s: f"or 1–{s.max_images} assets; never"),
    ("reference_images", [MOTION], lambda s: f"motion control: {_exactly(s.max_images, s.min_images)} (the"),
    ("reference_images", [SEED, FAST], lambda s: f"seedance: ≤ {s.max_images}, the same roles"),
    (
        "reference_images",
        [HORSE],
        lambda s: f"or 1–{s.max_images} assets (≤ {HAPPYHORSE_EDIT_MAX_ASSETS} in video edit)",
    ),
    ("reference_videos", [OMNI], lambda s: f"omni: ≤ {s.max_videos}, with refer_type"),
    ("reference_videos", [MOTION], lambda s: f"motion control: {_exactly(s.max_videos, s.min_videos)} (the"),
    (
        "reference_videos",
        [SEED, FAST],
        lambda s: f"seedance: ≤ {s.max_videos} (≤ {SEEDANCE_MEDIA_SECONDS} s in total)",
    ),
    ("reference_videos", [HORSE], lambda s: f"happyhorse: ≤ {s.max_videos} = video edit"),
    ("reference_audios", [SEED, FAST], lambda s: f"≤ {s.max_audios}, ≤ {SEEDANCE_MEDIA_SECONDS} s in total"),
    (
        "extra_params.multi_prompt",
        [V3, OMNI],
        lambda s: f"1–{MAX_SHOTS} shots, each ≥ 1 s and ≤ {MAX_SHOT_PROMPT} characters",
    ),
    ("extra_params.multi_prompt", [V3, OMNI], lambda s: f"the top-level duration ({_seconds(s)} s)"),
    ("extra_params.negative_prompt", [V3], lambda s: f"≤ {s.max_prompt} characters"),
    (
        "extra_params.character_orientation",
        [MOTION],
        lambda s: (
            f"(motion video ≤ {IMAGE_ORIENTATION_MAX_SECONDS} s); video = it follows the video "
            f"(≤ {s.max_video_seconds} s)"
        ),
    ),
]


def _description(field: str) -> str:
    """The published description of a top-level field or an `extra_params.` key."""
    if field.startswith("extra_params."):
        return str(SCHEMA["$defs"]["ExtraParams"]["properties"][field.split(".", 1)[1]]["description"])
    return str(SCHEMA["properties"][field]["description"])


@pytest.mark.parametrize(
    ("field", "models", "phrase"),
    [pytest.param(*row, id=f"{row[0]}: {', '.join(row[1])}") for row in STATED_LIMITS],
)
def test_a_description_states_the_catalogues_limits(field: str, models: list[str], phrase: Phrase) -> None:
    """The models a phrase speaks for agree on the limit, and the description states it."""
    said = {phrase(CATALOG[model]) for model in models}
    assert len(said) == 1, said  # a model whose limit differs needs its own words
    assert said.pop() in _description(field)


@pytest.mark.parametrize("field", sorted({row[0] for row in STATED_LIMITS}))
def test_a_description_with_limits_speaks_for_every_model_taking_the_field(field: str) -> None:
    """A new model taking the field must be covered by a phrase of its description (and a row above)."""
    covered = {model for row_field, models, _ in STATED_LIMITS if row_field == field for model in models}
    assert covered == set(models_taking(field.removeprefix("extra_params.")))
