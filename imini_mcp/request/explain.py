"""pydantic's error dicts → `Problem`s in plain words: no URLs, no `input_value` dumps, always a fix."""

from __future__ import annotations

import json
from typing import Any

from imini_mcp.request.problems import Loc, Problem, format_path

_SEE_SCHEMA = "see the field's description in the tool schema."


def kind_of(value: Any) -> str:
    """The JSON kind of a value in words: `a string`, `an array`, `null`…"""
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "an array"
        case dict():
            return "an object"
    return type(value).__name__


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _choices(expected: str) -> str:
    return expected.replace("'", "")


def _simple(kind: str, got: str, ctx: dict[str, Any]) -> tuple[str, str] | None:
    """Problem and fix of an error whose words depend only on what was given and the limit."""
    limit = ctx.get("ge", ctx.get("le", ctx.get("gt", ctx.get("lt"))))
    expected = _choices(str(ctx.get("expected", "")))
    boolean = (f"must be true or false{got}.", "send a JSON boolean.")
    whole = (f"must be a whole number{got}.", "send an integer such as 5.")
    number = (f"must be a number{got}.", "send a JSON number.")
    an_object = (f"must be an object{got}.", "send a JSON object.")
    words: dict[str, tuple[str, str]] = {
        "missing": ("is required but missing.", "add it."),
        "extra_forbidden": ("is not an accepted field.", "remove it."),
        "bool_type": boolean,
        "bool_parsing": boolean,
        "int_type": whole,
        "int_parsing": whole,
        "int_from_float": (f"must be a whole number, not a fraction{got}.", "round it to a whole number."),
        "float_type": number,
        "float_parsing": number,
        "string_type": (f"must be a string{got}.", "send text in double quotes."),
        "list_type": (f"must be an array{got}.", "send a JSON array."),
        "dict_type": an_object,
        "model_type": an_object,
        "model_attributes_type": an_object,
        "literal_error": (f"must be one of {expected}{got}.", f"use one of {expected}, spelled exactly."),
        "greater_than_equal": (f"must be at least {limit}{got}.", f"use a value ≥ {limit}."),
        "less_than_equal": (f"must be at most {limit}{got}.", f"use a value ≤ {limit}."),
        "greater_than": (f"must be more than {limit}{got}.", f"use a value > {limit}."),
        "less_than": (f"must be less than {limit}{got}.", f"use a value < {limit}."),
    }
    return words.get(kind)


def _sized(kind: str, value: Any, ctx: dict[str, Any]) -> tuple[str, str] | None:
    """Problem and fix of a text or list that is too long or too short. A text is measured in characters,
    whichever error pydantic names (a length limit on an optional text comes as the generic `too_long`)."""
    if kind == "string_too_long" or (kind == "too_long" and isinstance(value, str)):
        size = len(value) if isinstance(value, str) else "?"
        return (
            f"is {size} characters long; the limit is {ctx.get('max_length')}.",
            f"shorten it to at most {ctx.get('max_length')} characters.",
        )
    if kind == "string_too_short" or (kind == "too_short" and isinstance(value, str)):
        least = ctx.get("min_length", 1)
        if least == 1 or not isinstance(value, str):
            return "must not be empty.", "give it some text."
        return (
            f"is {len(value)} characters long; at least {least} are needed.",
            f"use at least {least} characters.",
        )
    if kind == "too_long":
        return (
            f"has {ctx.get('actual_length')} items; at most {ctx.get('max_length')} are allowed.",
            f"remove items until at most {ctx.get('max_length')} remain.",
        )
    if kind == "too_short":
        return (
            f"has {ctx.get('actual_length')} items; at least {ctx.get('min_length')} are needed.",
            f"add items until there are at least {ctx.get('min_length')}.",
        )
    return None


def explain(err: Any, prefix: Loc = ()) -> Problem:
    """Turn one pydantic error dict into a `Problem` (no URLs, no `input_value` dumps)."""
    path = format_path((*prefix, *err["loc"]))
    kind: str = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    value = err.get("input")
    got = f" (got {_show(value)})" if not isinstance(value, dict | list) else ""
    words = _simple(kind, got, ctx) or _sized(kind, value, ctx)
    if words is not None:
        return Problem(path, *words)
    if kind == "value_error":
        message, _, fix = str(ctx.get("error", err["msg"])).partition(" Fix: ")
        return Problem(path, message.rstrip(".") + ".", fix or _SEE_SCHEMA)
    return Problem(path, f"{err['msg']}{got}.", _SEE_SCHEMA)
