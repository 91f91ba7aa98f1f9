"""The MCP surface, end to end through `mcp.Client` in both protocol eras, against the simulated imini."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from mcp import MCPError

from imini_mcp.simulator import Fault
from tests.conftest import DOC_EXAMPLE, FAKE_KEY, Backend

pytestmark = pytest.mark.anyio

BODY_FIELDS = {
    "model",
    "prompt",
    "resolution",
    "aspect_ratio",
    "duration",
    "generate_audio",
    "reference_images",
    "reference_videos",
    "reference_audios",
    "extra_params",
}


def _object(prop: dict[str, Any]) -> dict[str, Any]:
    """The object (or array) a nullable property holds: published as `anyOf [it, null]`."""
    return next(option for option in prop["anyOf"] if option != {"type": "null"})


async def test_tools_are_listed_with_schemas_annotations_and_output_schemas(connect: Any) -> None:
    async with connect() as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"generate_video", "get_task", "list_tasks", "list_models"}
    gen = tools["generate_video"]
    assert set(gen.input_schema["properties"]) == BODY_FIELDS | {
        "dry_run",
        "wait_seconds",
        "idempotency_key",
        "output",
        "output_name",
    }
    assert gen.input_schema.get("required", []) == []
    props = gen.input_schema["properties"]
    for name, prop in props.items():
        assert prop.get("description"), f"{name} has no description"
    # One flat schema for every model: the union of their values (each model's own are checked per model).
    assert _object(props["resolution"])["enum"] == ["480P", "720P", "1080P"]
    assert _object(props["aspect_ratio"])["enum"] == ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive"]
    assert (props["duration"]["minimum"], props["duration"]["maximum"]) == (3, 15)
    assert props["prompt"]["maxLength"] == 5000
    assert _object(props["reference_images"])["maxItems"] == 9
    extra = _object(props["extra_params"])["properties"]
    for name, prop in extra.items():
        assert prop.get("description"), f"extra_params.{name} has no description"
    shots = _object(extra["multi_prompt"])
    assert shots["items"]["properties"]["prompt"]["maxLength"] == 512
    assert (shots["minItems"], shots["maxItems"]) == (1, 6)
    assert (extra["cfg_scale"]["minimum"], extra["cfg_scale"]["maximum"]) == (0, 1)
    assert gen.annotations.open_world_hint is True
    assert gen.annotations.idempotent_hint is False
    assert gen.annotations.read_only_hint is False
    assert tools["get_task"].annotations.read_only_hint is True
    assert tools["get_task"].annotations.idempotent_hint
    for tool in tools.values():
        assert tool.output_schema is not None
        assert tool.output_schema["type"] == "object"
    assert tools["get_task"].input_schema["required"] == ["task_id"]


async def test_invalid_call_lists_every_problem_and_sends_nothing(connect: Any, backend: Backend) -> None:
    bad = {
        "prompt": "x" * 2501,
        "resolution": "4K",
        "seed": 1,
        "extra_params": {
            "multi_shot": True,
            "shot_type": "customize",
            "multi_prompt": [{"prompt": "a", "duration": "2"}, {"prompt": "b", "duration": 9}],
        },
        "duration": 8,
    }
    async with connect() as client:
        result = await client.call_tool("generate_video", bad)
    assert result.is_error
    text = result.content[0].text
    assert "Not submitted — nothing was sent to imini and no credits were used. 4 problems" in text
    for path in ("prompt:", "resolution:", "seed:", "extra_params.multi_prompt:"):
        assert path in text
    assert "11 s (2 + 9) but duration is 8 s" in text
    assert "pydantic" not in text
    assert "input_value" not in text
    assert len(backend.sim.ledger) == 0


async def test_documented_example_is_sent_exactly(connect: Any, backend: Backend) -> None:
    async with connect() as client:
        dry = await client.call_tool("generate_video", DOC_EXAMPLE | {"dry_run": True})
        assert not dry.is_error
        assert dry.structured_content["request_body"] == DOC_EXAMPLE
        assert dry.structured_content["submitted"] is False
        assert dry.structured_content["estimated_cost"]["credits"] == 170 * 8
        assert len(backend.sim.ledger) == 0  # a dry run sends nothing
        real = await client.call_tool("generate_video", DOC_EXAMPLE)
    assert not real.is_error, real.content[0].text
    task_id = real.structured_content["task"]["task_id"]
    assert backend.sim.tasks()[task_id].request == DOC_EXAMPLE


async def test_dry_run_needs_no_key(connect: Any, backend: Backend) -> None:
    async with connect(api_key=None) as client:
        dry = await client.call_tool("generate_video", {"prompt": "a red fox", "dry_run": True})
        real = await client.call_tool("generate_video", {"prompt": "a red fox"})
    assert not dry.is_error
    assert real.is_error
    assert "IMINI_API_KEY" in real.content[0].text
    assert "--simulate" in real.content[0].text
    assert len(backend.sim.ledger) == 0


async def test_submit_then_get_task_until_succeeded(connect: Any, backend: Backend) -> None:
    async with connect() as client:
        submitted = await client.call_tool("generate_video", {"prompt": "a red fox in snow", "duration": 5})
        task = submitted.structured_content["task"]
        assert task["status"] == "queued"
        assert task["task_id"].startswith("task_")
        assert f'"task_id": "{task["task_id"]}"' in task["next_step"]
        first = await client.call_tool("get_task", {"task_id": task["task_id"]})
        # Queued lasts 0.1 s of real time here: a slow machine may already see it processing.
        assert first.structured_content["status"] in ("queued", "processing")
        assert not first.structured_content["is_terminal"]
        done = await client.call_tool("get_task", {"task_id": task["task_id"], "wait_seconds": 120})
    view = done.structured_content
    assert view["status"] == "succeeded"
    assert view["is_terminal"]
    assert view["videos"][0]["url"].endswith(".mp4")
    assert view["videos"][0]["cover_url"].endswith(".jpg")
    assert view["videos"][0]["url"] in done.content[0].text
    assert backend.submits == 1


async def test_a_finished_task_is_answered_from_the_journal(connect: Any, backend: Backend) -> None:
    async with connect() as client:
        task_id = (
            await client.call_tool("generate_video", {"prompt": "p", "wait_seconds": 200})
        ).structured_content["task"]["task_id"]
        polls = backend.polls(task_id)
        again = await client.call_tool("get_task", {"task_id": task_id})
    assert again.structured_content["status"] == "succeeded"
    assert backend.polls(task_id) == polls


async def test_failed_task_reports_imini_error(connect: Any, backend: Backend) -> None:
    backend.sim.add_fault(Fault("submit", "fail_task", code="CONTENT_BLOCKED", message="output flagged"))
    async with connect() as client:
        result = await client.call_tool("generate_video", {"prompt": "p", "wait_seconds": 200})
    view = result.structured_content["task"]
    assert not result.is_error
    assert view["status"] == "failed"
    assert view["is_terminal"]
    assert view["error"]["code"] == "CONTENT_BLOCKED"
    assert "output flagged" in result.content[0].text
    assert "final" in view["next_step"]


async def test_unknown_task_is_a_clear_404(connect: Any) -> None:
    async with connect() as client:
        result = await client.call_tool("get_task", {"task_id": "task_000"})
        bad_id = await client.call_tool("get_task", {"task_id": "../etc/passwd"})
    assert result.is_error
    assert "HTTP 404" in result.content[0].text
    assert "expire" in result.content[0].text
    assert bad_id.is_error
    assert "task_id" in bad_id.content[0].text


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        pytest.param(400, "INVALID_PROMPT", "rephrase", id="400 content refused: fix the request"),
        pytest.param(401, "UNAUTHORIZED", "IMINI_API_KEY", id="401: check the key"),
        pytest.param(402, "INSUFFICIENT_CREDITS", "Top up", id="402: top up credits"),
        pytest.param(403, "FORBIDDEN", "quota", id="403: permission or quota"),
    ],
)
async def test_submit_refusals_name_code_request_id_and_next_step(
    connect: Any, backend: Backend, status: int, code: str, expected: str
) -> None:
    backend.sim.add_fault(Fault("submit", "status", status=status, code=code))
    async with connect() as client:
        result = await client.call_tool("generate_video", {"prompt": "p"})
        listed = await client.call_tool("list_tasks", {"status": "rejected"})
    text = result.content[0].text
    assert result.is_error
    assert f"HTTP {status}" in text
    assert code in text
    assert "request_id req_" in text
    assert expected in text
    assert backend.submits == 1
    assert listed.structured_content["tasks"][0]["state"] == "rejected"


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault("submit", "status", status=500), id="500"),
        pytest.param(Fault("submit", "status", status=503), id="503"),
        pytest.param(Fault("submit", "accept_then_status", status=502), id="accepted but answered 502"),
        pytest.param(Fault("submit", "html"), id="HTML error page"),
        pytest.param(Fault("submit", "malformed_json"), id="broken JSON"),
        pytest.param(Fault("submit", "missing_fields"), id="no task_id"),
        pytest.param(Fault("submit", "reset"), id="connection reset"),
    ],
)
async def test_a_submit_that_may_have_reached_imini_is_never_retried(
    connect: Any, backend: Backend, fault: Fault
) -> None:
    backend.sim.add_fault(fault)
    async with connect() as client:
        result = await client.call_tool("generate_video", {"prompt": "p"})
        listed = await client.call_tool("list_tasks", {})
    text = result.content[0].text
    assert result.is_error
    assert "Do NOT resubmit" in text
    assert "journal entry #1" in text
    assert backend.submits == 1
    entry = listed.structured_content["tasks"][0]
    assert entry["state"] == "outcome_unknown"
    assert entry["task_id"] is None


async def test_submit_is_retried_after_429_and_honours_retry_after(connect: Any, backend: Backend) -> None:
    backend.sim.add_fault(Fault("submit", "status", status=429, retry_after=0.01))
    async with connect() as client:
        result = await client.call_tool("generate_video", {"prompt": "p"})
    assert not result.is_error
    assert backend.submits == 2
    assert len(backend.sim.ledger.tasks_created) == 1


async def test_submit_gives_up_after_repeated_429(connect: Any, backend: Backend) -> None:
    backend.sim.add_fault(Fault("submit", "status", status=429, times=5))
    async with connect() as client:
        result = await client.call_tool("generate_video", {"prompt": "p"})
    assert result.is_error
    assert "HTTP 429" in result.content[0].text
    assert "Wait" in result.content[0].text
    assert backend.submits == 3
    assert backend.sim.ledger.tasks_created == []


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault("poll", "status", status=500, times=2), id="500 twice"),
        pytest.param(Fault("poll", "status", status=429, retry_after=0.01), id="429"),
        pytest.param(Fault("poll", "html"), id="HTML page"),
        pytest.param(Fault("poll", "malformed_json"), id="broken JSON"),
        pytest.param(Fault("poll", "reset"), id="reset"),
    ],
)
async def test_reads_are_retried_through_transient_faults(
    connect: Any, backend: Backend, fault: Fault
) -> None:
    async with connect() as client:
        task_id = (await client.call_tool("generate_video", {"prompt": "p"})).structured_content["task"][
            "task_id"
        ]
        backend.sim.add_fault(fault)
        result = await client.call_tool("get_task", {"task_id": task_id})
    assert not result.is_error, result.content[0].text
    assert backend.polls(task_id) == fault.times + 1


async def test_unknown_status_value_is_treated_as_still_running(connect: Any, backend: Backend) -> None:
    async with connect() as client:
        task_id = (await client.call_tool("generate_video", {"prompt": "p"})).structured_content["task"][
            "task_id"
        ]
        backend.sim.add_fault(Fault("poll", "unknown_status"))
        result = await client.call_tool("get_task", {"task_id": task_id})
    assert result.structured_content["status"] == "pending_review"
    assert result.structured_content["is_terminal"] is False


async def test_task_resource_reads_the_journal(connect: Any) -> None:
    async with connect() as client:
        task_id = (await client.call_tool("generate_video", {"prompt": "a fox"})).structured_content["task"][
            "task_id"
        ]
        resource = await client.read_resource(f"imini://tasks/{task_id}")
        data = json.loads(resource.contents[0].text)
        assert data["task_id"] == task_id
        assert data["state"] == "accepted"
        with pytest.raises(MCPError):
            await client.read_resource("imini://tasks/task_404")


async def test_the_api_key_never_appears_in_results(connect: Any, backend: Backend) -> None:
    backend.sim.add_fault(Fault("submit", "status", status=401))
    async with connect() as client:
        texts = [
            await client.call_tool("generate_video", {"prompt": "p"}),
            await client.call_tool("generate_video", {"prompt": "p", "dry_run": True}),
            await client.call_tool("list_tasks", {}),
        ]
    for result in texts:
        assert FAKE_KEY not in json.dumps(result.model_dump(mode="json"))


async def test_prompts_help_compose_valid_requests(connect: Any) -> None:
    async with connect() as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        story = await client.get_prompt(
            "storyboard", {"story": "A fox crosses a frozen lake", "duration": "8"}
        )
        i2v = await client.get_prompt(
            "image_to_video", {"image": "https://example.com/a.jpg", "motion": "waves"}
        )
    assert set(prompts) == {"storyboard", "image_to_video"}
    assert {a.name for a in prompts["storyboard"].arguments} >= {"story", "duration"}
    text = story.messages[0].content.text
    assert "add up to exactly 8 seconds" in text
    assert "1 to 6 shots" in text
    assert "dry_run" in text
    assert '"reference_type": "first_frame"' in i2v.messages[0].content.text


@pytest.mark.parametrize(
    ("audio", "sound"), [("false", "false"), ("no", "false"), ("True", "true"), ("yes", "true")]
)
async def test_the_storyboard_prompt_writes_json_not_python(connect: Any, audio: str, sound: str) -> None:
    """Values shown for the body are JSON (false, not Python's False), ready to copy into the call."""
    async with connect() as client:
        story = await client.get_prompt(
            "storyboard", {"story": "A fox", "duration": "8", "aspect_ratio": "9:16", "audio": audio}
        )
    text = story.messages[0].content.text
    assert (
        f'"aspect_ratio": "9:16", "resolution": "720P" (1080P costs more), "generate_audio": {sound}.' in text
    )
    assert "False" not in text
    assert "True" not in text


async def test_the_image_prompt_quotes_paths_as_json(connect: Any) -> None:
    """A path with backslashes and quotes (Windows, a quoted name) comes out as a valid JSON string."""
    image = 'C:\\Users\\me\\Pictures\\the "fox".png'
    last = "C:\\Users\\me\\end.png"
    async with connect() as client:
        prompt = await client.get_prompt(
            "image_to_video", {"image": image, "motion": "the fox turns", "keep_last_frame": last}
        )
    text = prompt.messages[0].content.text
    first = re.search(r"reference_images: (\[.*?\])\. ", text)
    end = re.search(r"add (\{.*?\}) \(then", text)
    assert first is not None
    assert end is not None
    assert json.loads(first.group(1)) == [{"url": image, "reference_type": "first_frame"}]
    assert json.loads(end.group(1)) == {"url": last, "reference_type": "last_frame"}
