"""Fuzzing ``generate_video`` through the MCP client: no input, however wrong, crashes it or reaches imini invalid.

Three kinds of input, all sent as MCP tool calls to one in-process server per test (against the simulated imini,
whose validator is independent of the package's):

* arguments generated from the tool's **published** ``inputSchema`` (a strategy built from the schema itself);
* **valid bodies** built from the API notes (every reference-image mode, storyboards, camera moves, data URIs);
* **near misses**: valid bodies with one to three mutations (drop or duplicate a shot, off-by-one durations,
  indexes and lengths, wrong types, unknown keys, nulls, swapped reference types, lower-cased enums…).

Properties, for every call:

1. never an opaque error: an error always says what is wrong (never the bare "Error executing tool X");
2. an error means nothing was sent: no submit reached imini (so imini never answered 400 to a body the server
   let through);
3. every accepted body is one the spec allows: the simulator's own validator finds no problem with it, a dry run
   sends nothing at all, and a real submit is answered 200 with exactly the body the dry run showed;
4. a valid body is accepted and sent as it was given (the documented example can be passed unchanged).

Most calls are dry runs; a subset is really submitted. ``IMINI_FUZZ_EXAMPLES`` sets the total number of
examples (default 3000, spread over the tests below); an explicit value also turns off hypothesis'
derandomisation, so a long run explores new inputs.
"""

from __future__ import annotations

import base64
import copy
import functools
import io
import math
import os
import re
import tempfile
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from mcp import Client
from PIL import Image

from imini_mcp.files import shorten_data_uris
from imini_mcp.mcp import build_server
from imini_mcp.settings import Settings
from imini_mcp.simulator import validate_generate_request
from tests.conftest import DOC_EXAMPLE, Backend

pytestmark = pytest.mark.anyio

_ASKED = int(os.environ.get("IMINI_FUZZ_EXAMPLES", "0"))
TOTAL_EXAMPLES = _ASKED or 3000
OPAQUE = re.compile(r"^Error executing tool [\w-]+\s*[:.]?\s*$")
MODEL = "kling/kling-v3"
NOT_SENT = "Not submitted — nothing was sent to imini"


def fuzz_settings(share: float) -> Any:
    """``share`` of the total examples; derandomised (reproducible) unless IMINI_FUZZ_EXAMPLES was given."""
    return settings(
        max_examples=max(10, round(TOTAL_EXAMPLES * share)),
        deadline=None,
        database=None,
        derandomize=not _ASKED,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # one server per test function, on purpose
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


def _png_data_uri(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


# A real image the server accepts (it decodes data URIs and checks format, size and ratio).
GOOD_DATA_URI = _png_data_uri(320, 320)


# ---------------------------------------------------------------------------------------------------
# Strategies: valid bodies


def _text(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(min_size=min_size, max_size=min(max_size, 40)),
        st.text(alphabet="ab ✓é😀\t", min_size=max_size, max_size=max_size),  # exactly at the limit
    ).filter(str.strip)


image_urls = st.one_of(
    st.sampled_from(["https://cdn.example.com/fox.png", "http://images.example.org/a/b/c.jpg?x=1"]),
    st.builds("https://img.example.com/{}.jpeg".format, st.integers(0, 10**6)),
    st.just(GOOD_DATA_URI),
)


@st.composite
def cameras(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(["simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"])
    )
    if kind != "simple":
        return {"type": kind}
    axis = draw(st.sampled_from(["horizontal", "vertical", "pan", "tilt", "roll", "zoom"]))
    value = draw(st.one_of(st.integers(-10, 10), st.floats(-10, 10, allow_nan=False)).filter(bool))
    config: dict[str, Any] = {axis: value}
    for other in draw(st.sets(st.sampled_from(["horizontal", "vertical", "pan", "tilt", "roll", "zoom"]))):
        config.setdefault(other, 0)
    return {"type": kind, "config": config}


def _split(draw: st.DrawFn, total: int, parts: int) -> list[int]:
    cuts = sorted(
        draw(st.lists(st.integers(1, total - 1), min_size=parts - 1, max_size=parts - 1, unique=True))
    )
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


@st.composite
def valid_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A body the spec allows, written the way imini documents it (so it must be sent unchanged)."""
    mode = draw(
        st.sampled_from(["text", "first_frame", "first_last", "assets", "storyboard", "intelligence"])
    )
    body: dict[str, Any] = {"model": MODEL}
    extra: dict[str, Any] = {}
    for key, values in (("resolution", ["720P", "1080P"]), ("aspect_ratio", ["16:9", "9:16", "1:1"])):
        if draw(st.booleans()):
            body[key] = draw(st.sampled_from(values))
    if draw(st.booleans()):
        body["generate_audio"] = draw(st.booleans())
    if mode == "storyboard":
        total = draw(st.integers(3, 15))
        seconds = _split(draw, total, draw(st.integers(1, min(6, total))))
        body["duration"] = total
        extra |= {"multi_shot": True, "shot_type": "customize"}
        extra["multi_prompt"] = [
            {"index": n, "prompt": draw(_text(1, 512)), "duration": str(s)} for n, s in enumerate(seconds, 1)
        ]
    else:
        body["prompt"] = draw(_text(1, 2500))
        if draw(st.booleans()):
            body["duration"] = draw(st.integers(3, 15))
    if mode == "intelligence":
        extra |= {"multi_shot": True, "shot_type": "intelligence"}

    frames = {"first_frame": ["first_frame"], "first_last": ["first_frame", "last_frame"]}
    if mode in frames:
        roles = frames[mode]
    elif mode == "assets":
        roles = ["asset"] * draw(st.integers(1, 4))
    elif mode in ("storyboard", "intelligence") and draw(st.booleans()):
        roles = ["first_frame"]  # [INFER] the only image a storyboard takes
    else:
        roles = []
    if roles:
        body["reference_images"] = [{"url": draw(image_urls), "reference_type": role} for role in roles]

    if draw(st.booleans()):
        extra["negative_prompt"] = draw(_text(1, 2500))
    if draw(st.booleans()):
        extra["cfg_scale"] = draw(st.one_of(st.sampled_from([0, 1, 0.5]), st.floats(0, 1)))
    if "last_frame" not in roles and draw(st.booleans()):
        extra["camera_control"] = draw(cameras())
    if extra:
        body["extra_params"] = extra
    return body


# ---------------------------------------------------------------------------------------------------
# Strategies: near misses

UNKNOWN_KEYS = ["seed", "negative_prompt", "mode", "callback_url", "n", "Prompt", "extra", ""]
WRONG_VALUES = [None, True, False, 0, -1, 1.5, 16, "", " ", "5", "x" * 3, [], {}, [1], {"a": 1}]


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) in a JSON tree, the root included."""
    found = [(path, value)]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _nodes(child, (*path, index))
    return found


def _set(root: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = root
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return root


def _mutants(value: Any, key: Any) -> list[Any]:
    """Near-miss replacements for one value (``key`` is where it sits)."""
    options: list[Any] = [copy.deepcopy(v) for v in WRONG_VALUES]
    if isinstance(value, bool):
        options += [not value, str(value).lower(), int(value)]
    elif isinstance(value, int):
        options += [value - 1, value + 1, str(value), float(value), value + 0.5, -value]
    elif isinstance(value, float):
        options += [
            value + 1e-9,
            value - 1e-9,
            value * 10,
            -value,
            str(value),
            10.000001,
            -10.000001,
            1.000001,
        ]
    elif isinstance(value, str):
        options += [value + "x", value[:-1], value.lower(), f" {value} ", value * 2]
        options.append(value.upper())
        if value.isdigit():
            options += [str(int(value) - 1), str(int(value) + 1), int(value), f"{value}.0", f"-{value}"]
        options += {
            "reference_type": ["first_frame", "last_frame", "asset", "style"],
            "shot_type": ["customize", "intelligence", "auto"],
            "resolution": ["720p", "1080p", "4K", "720"],
            "aspect_ratio": ["16:9", "9:16", "1:1", "4:3", "16/9"],
            "type": ["simple", "down_back", "zoom"],
            "model": ["kling/kling-v3-omni", "doubao/seedance-2.0", "KLING/KLING-V3", "kling-v3"],
            "url": ["https://", "ftp://example.com/a.png", "data:image/gif;base64,R0lGOD", "/etc/passwd"],
            "prompt": ["a" * 2501, "b" * 513, "b" * 512],
            "negative_prompt": ["c" * 2501],
        }.get(key, [])
    elif isinstance(value, list):
        if value:
            options += [value[:-1], value[1:], [*value, copy.deepcopy(value[-1])], list(reversed(value))]
            options += [[*value, *copy.deepcopy(value)], value * 3]
    elif isinstance(value, dict):
        options += [{**value, unknown: 1} for unknown in UNKNOWN_KEYS]
        options += [{k: v for k, v in value.items() if k != drop} for drop in value]
    return options


@st.composite
def near_misses(draw: st.DrawFn) -> dict[str, Any]:
    """A valid body with one to three mutations anywhere in it."""
    body = draw(st.one_of(valid_bodies(), st.just(copy.deepcopy(DOC_EXAMPLE))))
    for _ in range(draw(st.integers(1, 3))):
        path, value = draw(st.sampled_from(_nodes(body)))
        key = path[-1] if path else None
        body = _set(body, path, draw(st.sampled_from(_mutants(value, key))))
        if not isinstance(body, dict):  # the whole body was replaced: the tool takes an object, keep one
            body = {"prompt": body}
    return body


# ---------------------------------------------------------------------------------------------------
# The properties


@pytest.fixture
async def client(make_server: Callable[..., Any]) -> AsyncIterator[Client]:
    async with Client(make_server()) as connected:  # type: ignore[arg-type]
        yield connected


def _text_of(result: Any) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


async def check_call(client: Client, backend: Backend, arguments: dict[str, Any]) -> dict[str, Any] | None:
    """Call generate_video and check properties 1–3; the sent (or would-be-sent) body if accepted, else None."""
    dry_run = arguments.get("dry_run") is True
    seen = len(backend.sim.ledger)
    result = await client.call_tool("generate_video", arguments)
    new = backend.sim.ledger.entries[seen:]
    submits = [e for e in new if e.kind == "submit"]
    text = _text_of(result)
    assert not OPAQUE.match(text.strip()), f"opaque error for {arguments!r}: {text!r}"
    if currently_in_test_context():
        event("refused" if result.is_error else "accepted")  # see pytest --hypothesis-show-statistics
    if result.is_error:
        assert not submits, (
            f"an error answer, yet imini received a submit ({submits}) for {arguments!r}: {text}"
        )
        if dry_run:
            assert NOT_SENT in text, f"a dry run failed without a validation message: {text}"
            assert re.search(r"\d+ problems? to fix", text), text
        return None
    shown = result.structured_content["request_body"]
    assert validate_generate_request(shown) == [], f"accepted a body the spec refuses: {shown!r}"
    if dry_run:
        assert new == [], f"a dry run reached imini: {new}"
        return shown  # type: ignore[no-any-return]
    assert [e.status for e in submits] == [200], f"imini answered {[e.status for e in submits]} for {shown!r}"
    task_id = result.structured_content["task"]["task_id"]
    sent = backend.sim.tasks()[task_id].request
    assert validate_generate_request(sent) == []
    assert shorten_data_uris(sent) == shown, "the body sent differs from the body shown"
    return sent


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def from_schema(schema: dict[str, Any], root: dict[str, Any] | None = None) -> st.SearchStrategy[Any]:
    """Values valid against the JSON schema pydantic publishes ($ref/$defs, anyOf/oneOf, enum/const, bounds,
    lengths, pattern, additionalProperties false). An optional property whose default is null is sometimes
    sent as null. Anything this does not know becomes arbitrary JSON, so a new schema feature is still fuzzed."""
    root = root or schema
    if "$ref" in schema:
        return from_schema(root["$defs"][schema["$ref"].removeprefix("#/$defs/")], root)
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return st.one_of([from_schema(option, root) for option in schema[combinator]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": k}, root) for k in kind])
    if kind == "object" and "properties" in schema:
        required = set(schema.get("required", []))
        fields = {
            name: from_schema(prop, root)
            | (st.none() if "default" in prop and prop["default"] is None else st.nothing())
            for name, prop in schema["properties"].items()
        }
        return st.fixed_dictionaries(
            {k: v for k, v in fields.items() if k in required},
            optional={k: v for k, v in fields.items() if k not in required},
        )
    if kind == "array" and "items" in schema:
        return st.lists(
            from_schema(schema["items"], root),
            min_size=schema.get("minItems", 0),
            max_size=schema.get("maxItems", 5),
        )
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength", 100)
        if "pattern" in schema:
            return st.from_regex(schema["pattern"]).filter(lambda s: low <= len(s) <= high)
        return st.one_of(st.text(min_size=low, max_size=min(high, 40)), st.text(min_size=high, max_size=high))
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        low, high = schema.get("minimum"), schema.get("maximum")
        return st.floats(low, high, allow_nan=False, allow_infinity=False) | st.integers(
            None if low is None else math.ceil(low), None if high is None else math.floor(high)
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return JSON_VALUES


@functools.cache
def published_schema() -> dict[str, Any]:
    """generate_video's inputSchema as an MCP client sees it (tools/list of a fresh in-process server)."""

    async def fetch() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(_env_file=None, api_key=None, journal_path=Path(tmp) / "j.sqlite3")  # type: ignore[call-arg]
            async with Client(build_server(settings)) as client:  # type: ignore[arg-type]
                tools = {t.name: t for t in (await client.list_tools()).tools}
        return tools["generate_video"].input_schema

    # In a thread of its own: hypothesis may draw while the test's event loop exists.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, fetch).result()


# Deferred: the schema is fetched when the first example is drawn, not at import.
schema_arguments = st.deferred(lambda: from_schema(published_schema()))


@fuzz_settings(0.35)
@given(arguments=schema_arguments)
async def test_arguments_generated_from_the_published_schema_never_crash_or_slip_through(
    client: Client, backend: Backend, arguments: dict[str, Any]
) -> None:
    await check_call(client, backend, arguments | {"dry_run": True})


async def test_the_fuzzed_schema_is_the_one_clients_see(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert tools["generate_video"].input_schema == published_schema()


@fuzz_settings(0.2)
@given(body=valid_bodies())
async def test_a_valid_body_is_accepted_and_sent_exactly_as_given(
    client: Client, backend: Backend, body: dict[str, Any]
) -> None:
    shown = await check_call(client, backend, body | {"dry_run": True})
    assert shown == shorten_data_uris(body)


@fuzz_settings(0.4)
@given(body=near_misses())
async def test_near_misses_are_refused_in_plain_words_or_sent_valid(
    client: Client, backend: Backend, body: dict[str, Any]
) -> None:
    await check_call(client, backend, body | {"dry_run": True})


@fuzz_settings(0.05)
@given(body=st.one_of(valid_bodies(), near_misses()))
async def test_real_submits_reach_imini_only_valid_and_exactly_as_shown(
    client: Client, backend: Backend, body: dict[str, Any]
) -> None:
    body = {k: v for k, v in body.items() if k not in ("dry_run", "idempotency_key")}
    shown = await check_call(client, backend, body | {"dry_run": True})
    submitted = await check_call(client, backend, body | {"dry_run": False, "wait_seconds": 0})
    assert (shown is None) == (submitted is None), "the dry run and the real call disagree"


async def test_an_image_url_with_an_upper_case_scheme_is_never_sent_as_imini_refuses_it(
    client: Client, backend: Backend
) -> None:
    image = {"url": "HTTPS://cdn.example.com/fox.png", "reference_type": "first_frame"}
    await check_call(client, backend, {"prompt": "a fox", "reference_images": [image], "wait_seconds": 0})


async def test_the_documented_example_is_accepted_and_sent_unchanged(
    client: Client, backend: Backend
) -> None:
    assert await check_call(client, backend, DOC_EXAMPLE | {"wait_seconds": 0}) == DOC_EXAMPLE
