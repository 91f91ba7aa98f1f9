"""Field-by-field validation (validation.py, explain.py), as a specification: junk in any field of any
model's request is refused in plain words, never a crash; and whatever this server accepts, the independent
simulated imini accepts too."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imini_mcp.request import CATALOG, GenerateVideoArguments, InvalidArguments, estimate_cost
from imini_mcp.request.explain import explain
from imini_mcp.request.spec import BODY_FIELDS, EXTRA_PARAMS
from imini_mcp.simulator import validate_generate_request
from tests.conftest import DOC_EXAMPLE as DOCUMENTED_EXAMPLE
from tests.request import (
    test_happyhorse_rules,
    test_motion_control_rules,
    test_omni_rules,
    test_seedance_rules,
)
from tests.request.builders import (
    CAM,
    FIRST,
    LAST,
    LEAKS,
    PROPERTY_SETTINGS,
    V3,
    camera,
    image,
    junk,
    outcome,
    problems_of,
)
from tests.request.test_model_fields import SAMPLES

BASES: list[dict[str, Any]] = [
    {"prompt": "a red fox"},
    DOCUMENTED_EXAMPLE,
    {"prompt": "morph", "reference_images": [image(FIRST, "first_frame"), image(LAST, "last_frame")]},
    {"prompt": "p", "extra_params": {"camera_control": camera(zoom=5), "cfg_scale": 0.5}},
    {"prompt": "p", "duration": 10, "extra_params": {"multi_shot": True, "shot_type": "intelligence"}},
]


@PROPERTY_SETTINGS
@given(
    base=st.sampled_from(BASES),
    field=st.sampled_from([*GenerateVideoArguments.model_fields, "seed", "negative_prompt"]),
    value=junk,
)
def test_junk_in_any_top_level_field_is_refused_in_plain_words_never_a_crash(
    base: dict[str, Any], field: str, value: Any
) -> None:
    """Any JSON value in any top-level field of a kling-v3 request is refused in plain words or sent whole."""
    result = outcome({**base, field: value})
    if isinstance(result, InvalidArguments):
        assert result.problems
        assert not [leak for leak in LEAKS if leak in str(result)]
    else:
        body = result.to_body()
        assert body["model"] == V3 or field == "model"
        json.dumps(body)


FIELDS = [*BODY_FIELDS, *(f"extra_params.{key}" for key in EXTRA_PARAMS), "reference_videos", "seed"]
VALID_ARGS = [
    case.values[0]
    for module in (test_omni_rules, test_motion_control_rules, test_seedance_rules, test_happyhorse_rules)
    for case in module.VALID
]


@PROPERTY_SETTINGS
@given(
    base=st.sampled_from(VALID_ARGS),
    field=st.sampled_from(FIELDS),
    value=junk | st.sampled_from(list(SAMPLES.values())),
)
def test_junk_in_any_field_of_any_model_is_refused_or_accepted_by_the_simulator_too(
    base: dict[str, Any], field: str, value: Any
) -> None:
    """Junk in any field of any model's request is refused in plain words, or the simulator accepts it too."""
    args = json.loads(json.dumps(base))
    if field.startswith("extra_params."):
        extra = args.get("extra_params")
        args["extra_params"] = (extra if isinstance(extra, dict) else {}) | {field.split(".", 1)[1]: value}
    else:
        args[field] = value
    result = outcome(args)
    if isinstance(result, InvalidArguments):
        assert result.problems
        assert not [leak for leak in LEAKS if leak in str(result)]
        return
    accepted = result
    body = accepted.to_body()
    assert body["model"] in CATALOG
    assert validate_generate_request(json.loads(json.dumps(body, allow_nan=False))) == []
    estimate_cost(accepted)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000, id="a deeply nested JSON array"),
        pytest.param('{"a":' * 100_000, id="a deeply nested JSON object"),
    ],
)
def test_deeply_nested_json_text_is_refused_not_a_crash(text: str) -> None:
    """JSON text nested too deep to be a real request is refused as not an object."""
    exc = problems_of({"prompt": "p", "extra_params": text})
    assert {p.path for p in exc.problems} == {"extra_params"}


def test_nan_and_infinity_are_refused() -> None:
    """NaN and infinity are not numbers a request can send."""
    exc = problems_of(
        {"prompt": "p", "extra_params": {"cfg_scale": math.nan, "camera_control": camera(zoom=math.inf)}}
    )
    assert {p.path for p in exc.problems} == {"extra_params.cfg_scale", f"{CAM}.zoom"}


@pytest.mark.parametrize(
    ("kind", "text", "limit", "said", "fix"),
    [
        (
            "too_long",
            "x" * 300,
            {"max_length": 80, "actual_length": 300},
            "is 300 characters long; the limit is 80.",
            "shorten it to at most 80 characters.",
        ),
        (
            "string_too_long",
            "x" * 9,
            {"max_length": 8},
            "is 9 characters long; the limit is 8.",
            "shorten it to at most 8 characters.",
        ),
        (
            "too_short",
            "ab",
            {"min_length": 3, "actual_length": 2},
            "is 2 characters long; at least 3 are needed.",
            "use at least 3 characters.",
        ),
        ("too_short", "", {"min_length": 1, "actual_length": 0}, "must not be empty.", "give it some text."),
    ],
)
def test_a_text_is_measured_in_characters_whichever_length_error_pydantic_names(
    kind: str, text: str, limit: dict[str, int], said: str, fix: str
) -> None:
    """pydantic reports a length limit on an optional text as the generic `too_long` of a list; a text is
    still measured in characters, never "items"."""
    problem = explain({"type": kind, "loc": ("output_name",), "input": text, "ctx": limit, "msg": "?"})
    assert (problem.problem, problem.fix) == (said, fix)


def test_a_list_is_still_measured_in_items() -> None:
    problem = explain(
        {
            "type": "too_long",
            "loc": ("shots",),
            "input": [1, 2],
            "ctx": {"max_length": 1, "actual_length": 2},
            "msg": "?",
        }
    )
    assert problem.problem == "has 2 items; at most 1 are allowed."
