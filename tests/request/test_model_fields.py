"""The rules every model shares (rules/fields.py, rules/media.py), as a specification: the model is one of
the catalogue's, and a field a model does not take is an error naming the model, never silently dropped."""

from __future__ import annotations

import json
from typing import Any

import pytest

from imini_mcp.request import CATALOG, MODEL_IDS
from imini_mcp.request.spec import BODY_FIELDS, EXTRA_PARAMS
from tests.request.builders import (
    AUDIO,
    FIRST,
    MOTION,
    SEED,
    assert_refused,
    image,
    motion,
    problems_of,
    video,
)

# ---------------------------------------------------------------------------------------------------
# The model itself

INVALID = [
    # The model itself
    pytest.param({"model": "doubao/seedance-2", "prompt": "p"}, {"model"}, id="a misspelt model"),
    pytest.param({"model": 3, "prompt": "p"}, {"model"}, id="a model that is not a string"),
]


@pytest.mark.parametrize(("args", "paths"), INVALID)
def test_invalid_arguments_report_exactly_these_paths(args: dict[str, Any], paths: set[str]) -> None:
    """A model that is not in the catalogue is refused, nothing sent."""
    assert_refused(args, paths)


def test_a_misspelt_model_is_checked_as_the_closest_one() -> None:
    """A typo of a model id is pointed out, and the other fields are checked against the model meant."""
    exc = problems_of({"model": "doubao/seedance-2", "prompt": "p", "resolution": "1080P"})
    by_path = {p.path: p for p in exc.problems}
    assert "did you mean doubao/seedance-2.0?" in by_path["model"].fix
    assert "doubao/seedance-2.0" in by_path["resolution"].problem


def test_every_problem_of_another_model_comes_at_once() -> None:
    """Every problem under another model's rules comes back in one answer, a refused field only once."""
    exc = problems_of(
        {
            "model": SEED,
            "resolution": "1080P",
            "duration": 3,
            "reference_images": [image(FIRST, "first_frame")],
            "reference_audios": [{"url": AUDIO}],
            "extra_params": {"camera_control": {"type": "simple", "config": {"zoom": 50}}},
        }
    )
    assert {p.path for p in exc.problems} == {
        "prompt",
        "resolution",
        "duration",
        "reference_images",
        "extra_params.camera_control",
    }
    # A field the model does not take is ONE problem, not also every flaw inside it.
    assert len(exc.problems) == 5


# ---------------------------------------------------------------------------------------------------
# NOT TAKEN: a field a model does not take is an error naming the model, never silently dropped

SAMPLES: dict[str, Any] = {
    "aspect_ratio": "16:9",
    "duration": 5,
    "generate_audio": False,
    "reference_videos": [video()],
    "reference_audios": [{"url": AUDIO}],
    "multi_shot": False,
    "shot_type": "intelligence",
    "multi_prompt": [{"prompt": "a shot", "duration": 5}],
    "negative_prompt": "blur",
    "cfg_scale": 0.5,
    "camera_control": {"type": "down_back"},
    "character_orientation": "video",
    "audio_setting": "auto",
}
BASES: dict[str, dict[str, Any]] = {model: {"model": model, "prompt": "p"} for model in MODEL_IDS} | {
    MOTION: motion()
}
NOT_TAKEN = [
    pytest.param(model, name, id=f"{model} has no {name}")
    for model, spec in CATALOG.items()
    for name in SAMPLES
    if not spec.takes(name)
]


@pytest.mark.parametrize(("model", "name"), NOT_TAKEN)
def test_a_field_the_model_does_not_take_is_refused_naming_the_model(model: str, name: str) -> None:
    """Setting a field the model does not take is one problem naming the model; nothing is dropped."""
    args = json.loads(json.dumps(BASES[model]))
    path = name
    if name in EXTRA_PARAMS:
        args.setdefault("extra_params", {})[name] = SAMPLES[name]
        path = f"extra_params.{name}"
    else:
        args[name] = SAMPLES[name]
    [problem] = problems_of(args).problems
    assert problem.path == path
    assert problem.problem == f"{model} has no `{path}`."
    assert problem.fix.startswith("remove it")


def test_the_documented_example_of_a_refused_field_reads_as_promised() -> None:
    """The README's example of a refused field is what the server says, word for word."""
    exc = problems_of(
        {"model": SEED, "prompt": "p", "extra_params": {"camera_control": {"type": "down_back"}}}
    )
    assert str(exc).splitlines()[1] == (
        "1. extra_params.camera_control: doubao/seedance-2.0 has no `extra_params.camera_control`. "
        "Fix: remove it (describe the camera move in the prompt), or use a model that takes it: kling/kling-v3."
    )


def test_every_field_of_the_schema_is_taken_by_some_model() -> None:
    """No field of the flat schema is dead: some model takes each one."""
    for name in [*BODY_FIELDS, *EXTRA_PARAMS]:
        assert any(spec.takes(name) for spec in CATALOG.values()), name
