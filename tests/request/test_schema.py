"""The published `generate_video` schema (schema.py, parts.py, published.py), as a specification.

One flat object whose enums are the union of the models. It is portable (no `$ref`, no `additionalProperties`,
every optional field nullable: what the agent frameworks need, tests/e2e/test_agent_frameworks.py) and lean
(tests/mcp/test_model_context.py measures it). Its descriptions state what a model needs to compose a valid
first request for the default model, kling-v3, including a storyboard, with the catalogue's numbers, and which
fields and extra_params keys belong to which other model; the other models' own limits are stated by
list_models (tests/mcp/test_list_models.py) and in every refusal.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from imini_mcp.request import (
    BODY_FIELDS,
    CATALOG,
    MODEL_IDS,
    GenerateVideoArguments,
    GetTaskArguments,
    ListTasksArguments,
    arguments_schema,
    check_arguments,
    check_generate_arguments,
)
from imini_mcp.request.catalog import ALL_ASPECT_RATIOS, KLING_V3, MAX_SHOT_PROMPT, MAX_SHOTS
from imini_mcp.request.spec import EXTRA_PARAMS

SCHEMA = arguments_schema(GenerateVideoArguments)
NULL = {"type": "null"}


def short_id(model_id: str) -> str:
    """How descriptions name a model: its id without the provider (`kling-v3-omni`)."""
    return model_id.split("/", 1)[-1]


def _nodes(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node with its path (property names are not keywords)."""
    if not isinstance(node, dict):
        return
    yield path, node
    for name, sub in node.get("properties", {}).items():
        yield from _nodes(sub, f"{path}.{name}" if path else name)
    if "items" in node:
        yield from _nodes(node["items"], f"{path}[]")
    for n, sub in enumerate(node.get("anyOf", [])):
        yield from _nodes(sub, f"{path}|{n}")


def _value(prop: dict[str, Any]) -> dict[str, Any]:
    """What a nullable property holds when it is not null."""
    if "anyOf" in prop and NULL in prop["anyOf"]:
        [held] = [option for option in prop["anyOf"] if option != NULL]
        return held
    return prop


def _accepts_null(prop: dict[str, Any]) -> bool:
    kind = prop.get("type")
    return NULL in prop.get("anyOf", []) or (isinstance(kind, list) and "null" in kind)


def _prop(path: str) -> dict[str, Any]:
    """A property by dotted path through nullable objects and arrays: `extra_params.multi_prompt[].duration`."""
    node: dict[str, Any] = SCHEMA
    for part in path.split("."):
        name, items = part.removesuffix("[]"), part.endswith("[]")
        node = _value(node)["properties"][name]
        if items:
            node = _value(node)["items"]
    return node


def _description(path: str) -> str:
    return str(_prop(path)["description"])


# ---------------------------------------------------------------------------------------------------
# Portable: what every agent framework tested can convert


@pytest.mark.parametrize("model", [GenerateVideoArguments, GetTaskArguments, ListTasksArguments])
def test_the_schema_has_no_refs_no_closed_objects_no_defaults_and_no_titles(model: Any) -> None:
    schema = arguments_schema(model)
    assert schema["type"] == "object"
    for path, node in _nodes(schema):
        assert not {"$ref", "$defs", "additionalProperties", "default", "title"} & set(node), path


@pytest.mark.parametrize("model", [GenerateVideoArguments, GetTaskArguments, ListTasksArguments])
def test_every_optional_field_at_every_level_accepts_null(model: Any) -> None:
    """A strict conversion makes every property required; null is then how a model leaves one unset."""
    for path, node in _nodes(arguments_schema(model)):
        required = set(node.get("required", []))
        for name, prop in node.get("properties", {}).items():
            assert _accepts_null(prop) != (name in required), f"{path}.{name}"


def test_an_enum_an_object_or_an_array_is_nullable_through_anyof_and_a_scalar_through_its_type() -> None:
    """The shapes the converters read alike: google-genai folds `anyOf [X, null]` into a nullable X, and
    pydantic-ai's strict mode closes only objects and arrays whose type is a plain "object"/"array"."""
    for path, node in _nodes(SCHEMA):
        if isinstance(node.get("type"), list):
            assert node["type"][1] == "null"
            assert node["type"][0] in ("string", "number", "integer", "boolean")
            assert "enum" not in node, path
        if "anyOf" in node and NULL in node["anyOf"]:
            assert len(node["anyOf"]) == 2, path


def test_the_only_other_combinator_is_the_shot_durations_integer_or_digits() -> None:
    """No per-model objects: the one flat object is checked per model after parsing."""
    others = [path for path, node in _nodes(SCHEMA) if "anyOf" in node and NULL not in node["anyOf"]]
    assert others == ["extra_params|0.multi_prompt|0[].duration"]
    assert [option["type"] for option in _prop("extra_params.multi_prompt[].duration")["anyOf"]] == [
        "integer",
        "string",
    ]
    assert not any("oneOf" in node or "allOf" in node for _, node in _nodes(SCHEMA))


@pytest.mark.parametrize("model", [GenerateVideoArguments, GetTaskArguments, ListTasksArguments])
def test_descriptions_are_single_lines_without_confidence_tags(model: Any) -> None:
    """[DOC], [UPSTREAM], [INFER] stay in the source and the docs: a model is never told what they mean."""
    for path, node in _nodes(arguments_schema(model)):
        text = node.get("description", "")
        assert "\n" not in text, path
        assert "  " not in text, path
        assert not any(tag in text for tag in ("[DOC]", "[UPSTREAM]", "[INFER]", "[SKILL]")), path


def test_an_explicit_null_is_not_set_for_every_optional_field_at_every_level() -> None:
    """What a strict-converted call sends: every optional field null, also inside the objects it fills."""
    nulls = dict.fromkeys(SCHEMA["properties"])
    storyboard = {
        "multi_shot": True,
        "shot_type": "customize",
        "multi_prompt": [
            {"prompt": "a fox wakes", "duration": 2, "index": None},
            {"prompt": "it runs", "duration": 3},
        ],
    } | {key: None for key in EXTRA_PARAMS if key not in ("multi_shot", "shot_type", "multi_prompt")}
    args = nulls | {"duration": 5, "extra_params": storyboard, "dry_run": True}
    assert (
        check_generate_arguments(args).to_body()
        == check_generate_arguments(
            {"duration": 5, "extra_params": {k: v for k, v in storyboard.items() if v is not None}}
        ).to_body()
    )
    camera = {"type": "simple", "config": {"pan": 3, **dict.fromkeys(("horizontal", "zoom"))}}
    body = check_generate_arguments(
        nulls | {"prompt": "p", "extra_params": {"camera_control": camera}}
    ).to_body()
    assert body["extra_params"] == {"camera_control": {"type": "simple", "config": {"pan": 3.0}}}
    image = {"url": "https://example.com/a.png", "reference_type": None}
    assert check_generate_arguments(nulls | {"prompt": "p", "reference_images": [image]}).to_body()[
        "reference_images"
    ] == [{"url": "https://example.com/a.png", "reference_type": "asset"}]
    assert check_arguments(ListTasksArguments, {"status": None, "since": None, "limit": None}).limit == 20
    assert check_arguments(GetTaskArguments, {"task_id": "task_1", "wait_seconds": None, "output": None})


# ---------------------------------------------------------------------------------------------------
# One flat object: the union of the models


def test_the_schema_is_one_object_with_the_union_of_the_models() -> None:
    """Its enums and limits are the widest of any model (each model's own are checked after)."""
    props = SCHEMA["properties"]
    assert set(props) == set(BODY_FIELDS) | {
        "dry_run",
        "wait_seconds",
        "output",
        "output_name",
        "idempotency_key",
    }
    assert SCHEMA.get("required", []) == []
    assert _value(props["model"])["enum"] == list(MODEL_IDS)
    assert _value(props["resolution"])["enum"] == ["480P", "720P", "1080P"]
    assert _value(props["aspect_ratio"])["enum"] == list(ALL_ASPECT_RATIOS)
    assert (props["duration"]["minimum"], props["duration"]["maximum"]) == (3, 15)
    assert props["prompt"]["maxLength"] == 5000
    assert _value(props["reference_images"])["maxItems"] == 9
    assert _value(props["reference_videos"])["maxItems"] == 3
    assert _value(props["reference_audios"])["maxItems"] == 3
    assert set(_value(props["extra_params"])["properties"]) == set(EXTRA_PARAMS)


# ---------------------------------------------------------------------------------------------------
# What a first kling-v3 request needs, with the catalogue's numbers

V3 = KLING_V3
DEFAULT_MODEL_LIMITS = [
    ("prompt", f"≤ {V3.max_prompt} characters"),
    ("prompt", "Required, except in a customize storyboard"),
    ("resolution", "kling: 720P (default) or 1080P"),
    ("aspect_ratio", "kling: 16:9 (default), 9:16, 1:1"),
    ("duration", f"{V3.seconds}, default {V3.default_duration}"),
    ("duration", "a customize storyboard's is the sum of its shots"),
    ("generate_audio", f"Default {str(V3.default_audio).lower()}"),
    ("reference_images", f"one first_frame, first_frame + last_frame, or 1–{V3.max_images} assets"),
    ("reference_images", "never a last_frame alone or frames with assets"),
    ("reference_images", "a storyboard takes one first_frame at most"),
    ("extra_params.multi_shot", "needs shot_type"),
    ("extra_params.shot_type", "customize: you give the shots in multi_prompt"),
    ("extra_params.multi_prompt", f"1–{MAX_SHOTS}, ≤ {MAX_SHOT_PROMPT} characters each"),
    ("extra_params.multi_prompt", f"their durations adding up to duration ({V3.seconds} s)"),
    ("extra_params.multi_prompt[].duration", "Whole seconds ≥ 1"),
    ("extra_params.negative_prompt", f"≤ {V3.max_prompt} characters"),
    ("extra_params.cfg_scale", "0..1"),
    ("extra_params.camera_control", "not with a last_frame image"),
    ("extra_params.camera_control.config", "exactly one value non-zero, −10..10"),
]


@pytest.mark.parametrize(("field", "phrase"), DEFAULT_MODEL_LIMITS)
def test_the_default_models_rules_are_stated_where_the_field_is(field: str, phrase: str) -> None:
    assert phrase in _description(field)


def test_the_schema_holds_the_storyboard_numbers_too() -> None:
    shots = _value(_prop("extra_params.multi_prompt"))
    assert (shots["minItems"], shots["maxItems"]) == (1, MAX_SHOTS)
    assert shots["items"]["properties"]["prompt"]["maxLength"] == MAX_SHOT_PROMPT
    assert shots["items"]["required"] == ["prompt", "duration"]
    cfg = _prop("extra_params.cfg_scale")
    assert (cfg["minimum"], cfg["maximum"]) == (0, 1)


# ---------------------------------------------------------------------------------------------------
# Which field belongs to which other model


def test_extra_params_says_which_model_takes_which_key() -> None:
    said = _description("extra_params").removeprefix("Per model: ").rstrip(".")
    stated = {}
    for part in said.split("; "):
        models, keys = part.split(": ")
        stated |= dict.fromkeys(models.split(", "), keys)
    assert stated == {short_id(s.id): ", ".join(s.extra_params) or "none" for s in CATALOG.values()}


@pytest.mark.parametrize("field", sorted(set(BODY_FIELDS) - {"extra_params"}))
def test_a_field_some_models_do_not_take_says_which(field: str) -> None:
    """Either `Not for <them>.`, or it names every model that takes it (by id, or by family: seedance)."""
    said = _description(field)
    refusing = [short_id(spec.id) for spec in CATALOG.values() if not spec.takes(field)]
    if not refusing or f"Not for {', '.join(refusing)}." in said:
        return
    for spec in CATALOG.values():
        if spec.takes(field):
            assert short_id(spec.id) in said or short_id(spec.id).split("-")[0] in said, (spec.id, said)


def test_the_model_description_names_every_model() -> None:
    said = _description("model")
    for model_id in MODEL_IDS:
        assert short_id(model_id) in said or short_id(model_id).removesuffix("-fast") + "(-fast)" in said
