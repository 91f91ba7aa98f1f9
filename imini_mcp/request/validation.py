"""Field-by-field validation of tool arguments that reports every problem at once, in plain words.

pydantic stops a model's cross-field validators as soon as one field fails, and its messages carry
URLs and `input_value` dumps. Here every field (and every item of a list of sub-models) is validated
on its own against the same pydantic types that publish the JSON schema, so one bad field never hides
another, and the cross-field rules can still run on everything that did parse. The result is a
`Parsed` model built only from validated values, plus the list of `Problem`s and the set of paths
that were invalid (so cross-field rules can skip what is already reported). pydantic's own messages
are put in plain words by `explain.py`.
"""

from __future__ import annotations

import difflib
import json
import types
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from imini_mcp.request.explain import explain, kind_of
from imini_mcp.request.problems import InvalidArguments, Loc, Problem, format_path
from imini_mcp.request.published import portable_input_schema

M = TypeVar("M", bound=BaseModel)


@dataclass
class Parsed(Generic[M]):
    """What field-by-field validation produced: a model of the valid values and the problems."""

    value: M | None
    problems: list[Problem] = field(default_factory=list)
    invalid: set[Loc] = field(default_factory=set)

    def is_invalid(self, *loc: str | int) -> bool:
        """True when the field at `loc`, or anything inside it, failed validation."""
        return any(bad[: len(loc)] == loc for bad in self.invalid)


class ArgumentsSchema(GenerateJsonSchema):
    """pydantic's side of an arguments schema: optional fields are simply not required (published.py then
    makes every one of them nullable, in the shape the agent frameworks read), and no property titles."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> dict[str, Any]:
        return self.generate_inner(schema["schema"])

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def arguments_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The published inputSchema of a tool whose arguments are `model` (portable: see published.py)."""
    return portable_input_schema(model.model_json_schema(schema_generator=ArgumentsSchema))


def check_arguments(model: type[M], raw: Any) -> M:
    """Validate a tool's raw arguments with no cross-field rules; raise `InvalidArguments` with all problems."""
    parsed = parse_partially(model, raw)
    if parsed.problems or parsed.value is None:
        raise InvalidArguments(parsed.problems)
    return parsed.value


# ---------------------------------------------------------------------------------------------------
# How each field of a model is validated, worked out once per model.


@dataclass(frozen=True)
class _FieldPlan:
    name: str
    key: str
    required: bool
    submodel: type[BaseModel] | None  # the field is (optionally) one sub-model
    item_model: type[BaseModel] | None  # the field is a list of sub-models
    adapter: TypeAdapter[Any]  # the whole field (leaf) or the list's own constraints


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _as_model(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


@cache
def _plan(model: type[BaseModel]) -> tuple[_FieldPlan, ...]:
    plans = []
    for name, info in model.model_fields.items():
        inner = _unwrap_optional(info.annotation)
        submodel = _as_model(inner)
        item_model = _as_model(get_args(inner)[0]) if get_origin(inner) is list and get_args(inner) else None
        annotation: Any = list[Any] | None if item_model is not None else info.annotation
        adapter: TypeAdapter[Any] = TypeAdapter(
            Annotated[annotation, *info.metadata] if info.metadata else annotation
        )
        plans.append(_FieldPlan(name, info.alias or name, info.is_required(), submodel, item_model, adapter))
    return tuple(plans)


@cache
def _field_index(model: type[BaseModel]) -> dict[str, str]:
    """Every field name in `model`'s tree → its dotted path, to point a misplaced key to its place."""
    index: dict[str, str] = {}

    def walk(m: type[BaseModel], prefix: str) -> None:
        for plan in _plan(m):
            path = f"{prefix}.{plan.key}" if prefix else plan.key
            index.setdefault(plan.key, path)
            if nested := plan.submodel or plan.item_model:
                walk(nested, path + ("[i]" if plan.item_model else ""))

    walk(model, "")
    return index


# ---------------------------------------------------------------------------------------------------
# Validation


def parse_partially(model: type[M], data: Any, *, root: type[BaseModel] | None = None) -> Parsed[M]:
    """Validate `data` against `model` field by field; see the module docstring."""
    result: Parsed[M] = Parsed(value=None)
    result.value = _parse_model(model, data, (), result, root or model)
    return result


def _parse_model(model: type[M], data: Any, loc: Loc, out: Parsed[Any], root: type[BaseModel]) -> M | None:
    data = _maybe_json(data, dict)
    if not isinstance(data, dict):
        out.invalid.add(loc)
        out.problems.append(
            Problem(
                format_path(loc),
                f"must be a JSON object, not {kind_of(data)}.",
                "send an object with the fields described in the tool's schema.",
            )
        )
        return None
    plans = _plan(model)
    known = {p.key for p in plans}
    for key in data:
        if key not in known:
            out.invalid.add((*loc, key))
            out.problems.append(_unknown_field(key, loc, sorted(known), root))
    values: dict[str, Any] = {}
    fields_set: set[str] = set()
    for plan in plans:
        here = (*loc, plan.key)
        if plan.key not in data:
            if plan.required:
                out.invalid.add(here)
                out.problems.append(
                    Problem(
                        format_path(here),
                        "is required but missing.",
                        f"add `{plan.key}` ({_describe(model, plan.name)}).",
                    )
                )
                values[plan.name] = None
            continue
        raw = data[plan.key]
        fields_set.add(plan.name)
        if raw is None and not plan.required:
            fields_set.discard(plan.name)  # an explicit null means "not set": the default applies
        elif plan.submodel is not None:
            values[plan.name] = _parse_model(plan.submodel, raw, here, out, root)
        elif plan.item_model is not None:
            values[plan.name] = _parse_list(plan, raw, here, out, root)
        else:
            values[plan.name] = _validate_leaf(plan.adapter, raw, here, out)
    return model.model_construct(_fields_set=fields_set, **values)


def _parse_list(
    plan: _FieldPlan, raw: Any, loc: Loc, out: Parsed[Any], root: type[BaseModel]
) -> list[Any] | None:
    raw = _maybe_json(raw, list)
    if _validate_leaf(plan.adapter, raw, loc, out) is None:
        return None
    assert plan.item_model is not None
    return [_parse_model(plan.item_model, item, (*loc, i), out, root) for i, item in enumerate(raw)]


def _validate_leaf(adapter: TypeAdapter[Any], raw: Any, loc: Loc, out: Parsed[Any]) -> Any:
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        out.invalid.add(loc)
        out.problems.extend(explain(err, loc) for err in exc.errors(include_url=False))
        return None


def _maybe_json(raw: Any, want: type) -> Any:
    """Some clients send nested objects and arrays as JSON text; accept that."""
    if isinstance(raw, str) and raw.lstrip()[:1] in ("{", "["):
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to be a real request
            return raw
        return parsed if isinstance(parsed, want) else raw
    return raw


def _describe(model: type[BaseModel], name: str) -> str:
    description = model.model_fields[name].description or "see the tool's schema"
    return description.split(". ")[0].rstrip(".")


def _unknown_field(key: str, loc: Loc, allowed: list[str], root: type[BaseModel]) -> Problem:
    path = format_path((*loc, key))
    elsewhere = _field_index(root).get(key)
    if elsewhere is not None:
        fix = f"move it to `{elsewhere}`."
    elif close := difflib.get_close_matches(key, allowed, n=1):
        fix = f"did you mean `{close[0]}`? Allowed here: {', '.join(allowed)}."
    else:
        fix = f"remove it. Allowed here: {', '.join(allowed)}."
    return Problem(
        path, "is not a field imini accepts here (unknown fields are refused rather than dropped).", fix
    )
