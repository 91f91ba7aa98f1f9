"""The field rules every model shares, read from its catalogue entry: which model, which fields it takes,
each field's per-model enum, range and limit, and when the prompt is required.

Every rule takes the field-by-field `Parsed` arguments (`Args`) and the model's `ModelSpec` and returns
`Problem`s; values that already failed on their own are skipped, so each problem is reported once.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from imini_mcp.request.catalog import CATALOG, DEFAULT_MODEL, MODEL_IDS, models_taking, models_with
from imini_mcp.request.problems import Problem
from imini_mcp.request.schema import GenerateVideoArguments
from imini_mcp.request.spec import BODY_FIELDS, EXTRA_PARAMS, ModelSpec
from imini_mcp.request.validation import Parsed

Args = Parsed[GenerateVideoArguments]

# What to do instead of a field no model of this kind takes (a model's own hints are in its catalogue entry).
_HINTS: dict[str, str] = {
    "negative_prompt": "describe what to avoid in the prompt",
    "camera_control": "describe the camera move in the prompt",
    "multi_shot": "describe the shots in one prompt",
    "shot_type": "describe the shots in one prompt",
    "multi_prompt": "describe the shots in one prompt",
    "reference_type": 'this model\'s image has no role: send {"url": …} only',
    "refer_type": "only kling/kling-v3-omni's reference videos have one",
}


def show(value: Any) -> str:
    """A value as given, in JSON, cut short."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "…"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def is_set(args: Args, name: str) -> bool:
    """Set by the caller (an explicit null means unset) and valid on its own."""
    req = args.value
    return req is not None and name in req.model_fields_set and not args.is_invalid(name)


# ---------------------------------------------------------------------------------------------------
# Which model


def choose_model(args: Args) -> tuple[ModelSpec, list[Problem]]:
    """The spec whose rules apply, and the problem with `model` if it names no catalogued model.

    An unknown model is checked as its closest catalogued id (a typo of seedance is still checked as
    seedance), else as the default, so every other problem still comes back in the same answer."""
    req = args.value
    if req is None or args.is_invalid("model"):
        return CATALOG[DEFAULT_MODEL], []
    model = req.model
    if model in CATALOG:
        return CATALOG[model], []
    close = difflib.get_close_matches(model, MODEL_IDS, n=1, cutoff=0.6)
    spec = CATALOG[close[0]] if close else CATALOG[DEFAULT_MODEL]
    guess = f"did you mean {close[0]}? " if close else ""
    return spec, [
        Problem(
            "model",
            f"must be one of {', '.join(MODEL_IDS)} (got {show(model)}).",
            f"{guess}Use one of these ids, spelled exactly (list_models describes them); the other fields "
            f"were checked against {spec.id}.",
        )
    ]


# ---------------------------------------------------------------------------------------------------
# Fields a model does not take, and each field's per-model enum, range and limit


def not_taken(spec: ModelSpec, path: str) -> Problem:
    """`path` is a field, an extra_params key or a sub-field that `spec`'s model does not take."""
    key = path.rsplit(".", 1)[-1]
    hint = spec.refusal_hints.get(key) or _HINTS.get(key)
    others = [] if "[" in path else [m for m in models_taking(key) if m != spec.id]
    fix = "remove it" + (f" ({hint})" if hint else "")
    fix += f", or use a model that takes it: {', '.join(others)}." if others else "."
    return Problem(path, f"{spec.id} has no `{path}`.", fix)


def refused_fields(args: Args, spec: ModelSpec) -> list[str]:
    """The paths of the fields and extra_params keys the caller set that this model does not take."""
    req = args.value
    assert req is not None
    refused = [
        name
        for name in BODY_FIELDS[1:]
        if name in req.model_fields_set and not spec.takes(name) and name != "extra_params"
    ]
    extra = req.extra_params
    if "extra_params" in req.model_fields_set and not spec.takes("extra_params") and extra is None:
        refused.append("extra_params")  # not even an object: one problem, naming the model
    if extra is not None and "extra_params" in req.model_fields_set:
        refused += [
            f"extra_params.{key}"
            for key in EXTRA_PARAMS
            if key in extra.model_fields_set and not spec.takes(key)
        ]
    return refused


def field_problems(args: Args, spec: ModelSpec) -> tuple[list[Problem], list[str]]:
    """Problems with single fields under this model's rules, and the paths of fields it does not take."""
    req = args.value
    if req is None:
        return [], []
    refused = refused_fields(args, spec)
    problems = [not_taken(spec, path) for path in refused]
    if is_set(args, "prompt") and req.prompt is not None and len(req.prompt) > spec.max_prompt:
        problems.append(
            Problem(
                "prompt",
                f"is {len(req.prompt)} characters long; the limit is {spec.max_prompt} for {spec.id}.",
                f"shorten it to at most {spec.max_prompt} characters.",
            )
        )
    if is_set(args, "resolution") and req.resolution is not None:
        problems += _enum_problem(spec, "resolution", req.resolution, spec.resolutions)
    if is_set(args, "aspect_ratio") and req.aspect_ratio is not None and spec.aspect_ratios:
        problems += _enum_problem(spec, "aspect_ratio", req.aspect_ratio, spec.aspect_ratios)
    if is_set(args, "duration") and req.duration is not None and spec.duration is not None:
        low, high = spec.duration
        if not low <= req.duration <= high:
            problems.append(
                Problem(
                    "duration",
                    f"must be {low}–{high} s for {spec.id} (got {req.duration}).",
                    f"use a whole number of seconds between {low} and {high}.",
                )
            )
    return problems, refused


def _enum_problem(spec: ModelSpec, name: str, value: str, allowed: tuple[str, ...]) -> list[Problem]:
    if value in allowed:
        return []
    listed = ", ".join(allowed)
    others = models_with({"resolution": "resolutions", "aspect_ratio": "aspect_ratios"}[name], value)
    if others:
        return [
            Problem(
                name,
                f"{value} is not a {name} of {spec.id}, which takes {listed}.",
                f"use one of {listed}, or a model that has {value}: {', '.join(others)}.",
            )
        ]
    return [
        Problem(
            name,
            f"must be one of {listed} for {spec.id} (got {show(value)}).",
            f"use one of {listed}, spelled exactly.",
        )
    ]


# ---------------------------------------------------------------------------------------------------
# The prompt


def prompt_problems(args: Args, spec: ModelSpec, why: str | None = None) -> list[Problem]:
    """The prompt is required. A storyboard model's own rule (rules/kling.py) decides when, and says why.

    Not checked while extra_params.shot_type failed: a storyboard's shot type decides whether a prompt is
    needed, so the intent is unclear (the bad shot_type is reported)."""
    req = args.value
    assert req is not None
    if (
        args.is_invalid("prompt")
        or args.is_invalid("extra_params", "shot_type")
        or (req.prompt or "").strip()
    ):
        return []
    return [
        Problem(
            "prompt",
            f"is required {why or f'by {spec.id}'}.",
            f"describe the video in prompt (≤ {spec.max_prompt} characters).",
        )
    ]
