"""The JSON schemas the tools publish: portable through the agent frameworks, and lean for the model reading them.

pydantic's schemas are correct but heavy, and the frameworks that hand MCP tools to a model provider choke on
parts of them (tests/e2e/test_agent_frameworks.py loads the tools through langchain, openai-agents,
google-genai and pydantic-ai). So an input schema is published with:

- no `$ref` / `$defs`: every definition is inlined (openai-agents' strict conversion refuses a bare `$ref`);
- no `additionalProperties`: google-genai's schema filter recurses into `false` as if it were a schema and
  crashes. The server still refuses every unknown field itself, naming it (validation.py), and a strict
  conversion adds `false` back where its provider wants it;
- every optional property nullable: a strict conversion makes every property required, and the server reads
  an explicit null as "not set" (validation.py), so the strict call `{"status": null, …}` means what `{}` does;
- no `default` (OpenAI's strict mode does not take it; the descriptions state each default), no titles (they
  repeat the names), descriptions on one line, and without the confidence tags [DOC], [UPSTREAM], [INFER],
  [SKILL], which stay in the source and the docs but tell a model nothing.

An output schema only lets an MCP client check a result (models read the result's text), so it keeps its
`$defs` and loses only what cannot change what it accepts: titles, defaults, the descriptions of what the
result's own fields contain (those fields keep theirs; `get_task`'s result is the task itself, so the task's
fields are described there), and the `anyOf [T, null]` of a plain type, written `"type": [T, "null"]`.
"""

from __future__ import annotations

import re
from typing import Any

Schema = dict[str, Any]

_TAG = re.compile(r"\s*\[(?:DOC|UPSTREAM|INFER|SKILL)\]")
_SCALARS = frozenset({"string", "number", "integer", "boolean"})
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf")
_NULL: Schema = {"type": "null"}


def model_text(text: str) -> str:
    """A description as a model reads it: one line, no confidence tags."""
    return " ".join(_TAG.sub("", text).split())


# ---------------------------------------------------------------------------------------------------
# Input schemas


def portable_input_schema(schema: Schema) -> Schema:
    """pydantic's arguments schema (optional fields not nullable) → the published inputSchema (see above)."""
    defs: dict[str, Schema] = schema.get("$defs", {})
    root = _input_node({k: v for k, v in schema.items() if k not in ("$defs", "description")}, defs)
    return {"type": "object", **{k: v for k, v in root.items() if k != "type"}}


def _input_node(node: Schema, defs: dict[str, Schema]) -> Schema:
    if "$ref" in node:
        target = defs[node["$ref"].removeprefix("#/$defs/")]
        # The field's own words replace the model's docstring.
        node = {k: v for k, v in target.items() if k != "description"} | {
            k: v for k, v in node.items() if k != "$ref"
        }
    out: Schema = {}
    for key, value in node.items():
        if key in ("title", "default", "additionalProperties"):
            continue
        if key == "description":
            out[key] = model_text(value)
        elif key == "properties":
            out[key] = {name: _input_node(sub, defs) for name, sub in value.items()}
        elif key == "items":
            out[key] = _input_node(value, defs)
        elif key in _SUBSCHEMA_LISTS:
            out[key] = [_input_node(sub, defs) for sub in value]
        else:
            out[key] = value
    if "properties" in out:
        required = set(out.get("required", ()))
        out["properties"] = {
            name: prop if name in required else nullable(prop) for name, prop in out["properties"].items()
        }
    return out


def nullable(prop: Schema) -> Schema:
    """`prop` also accepting null, in the shape every converter tested reads: a plain scalar as
    `"type": [T, "null"]`; an enum, object or array as `anyOf [it, null]`, with the description outside."""
    kind = prop.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind) or _NULL in prop.get("anyOf", []):
        return prop
    if kind in _SCALARS and "enum" not in prop:
        return {**prop, "type": [kind, "null"]}
    inner = {k: v for k, v in prop.items() if k != "description"}
    outer = {"description": prop["description"]} if "description" in prop else {}
    if "anyOf" in inner and len(inner) == 1:
        return {"anyOf": [*inner["anyOf"], _NULL], **outer}
    return {"anyOf": [inner, _NULL], **outer}


# ---------------------------------------------------------------------------------------------------
# Output schemas


def lean_output_schema(schema: Schema) -> Schema:
    """pydantic's result schema without what cannot change what it accepts (see the module docstring)."""
    lean = _output_node({k: v for k, v in schema.items() if k != "description"}, describe=False)
    lean["properties"] = {
        name: _output_node(prop, describe=True) for name, prop in schema.get("properties", {}).items()
    }
    return lean


def _output_node(node: Schema, *, describe: bool) -> Schema:
    """One schema node: titles and defaults dropped; its description kept only if `describe` (the result's
    own fields are described, what they contain is not), on one line."""
    out: Schema = {}
    for key, value in node.items():
        if key in ("title", "default") or (key == "description" and not describe):
            continue
        if key == "description":
            out[key] = " ".join(value.split())
        elif key in ("properties", "$defs"):
            out[key] = {name: _output_node(sub, describe=False) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _output_node(value, describe=False)
        elif key in _SUBSCHEMA_LISTS:
            out[key] = [_output_node(sub, describe=False) for sub in value]
        else:
            out[key] = value
    return _plain_nullable(out)


def _plain_nullable(node: Schema) -> Schema:
    """`anyOf [{"type": T}, {"type": "null"}]` → `"type": [T, "null"]` (the same values)."""
    options = node.get("anyOf")
    if not (isinstance(options, list) and len(options) == 2 and options[1] == _NULL):
        return node
    first = options[0]
    if set(first) != {"type"} or first["type"] not in _SCALARS:
        return node
    return {"type": [first["type"], "null"], **{k: v for k, v in node.items() if k != "anyOf"}}
