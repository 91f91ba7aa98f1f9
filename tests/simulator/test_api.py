"""The wire contract of a healthy simulator: submit and poll shapes, the task lifecycle, result files, auth."""

from __future__ import annotations

import uuid

import httpx2
import pytest

from imini_mcp.simulator import ManualClock, Simulator, SimulatorConfig
from tests.conftest import DOC_EXAMPLE  # imini-api.md §2.3, verbatim
from tests.simulator.helpers import (
    ISO_MS_Z_RE,
    POLL_KEYS,
    T2V,
    TASK_ID_RE,
    assert_envelope,
    poll,
    submit,
    submit_ok,
)


@pytest.mark.anyio
async def test_documented_example_is_accepted_with_exact_submit_shape(
    client: httpx2.AsyncClient, sim: Simulator
) -> None:
    response = await submit(client, DOC_EXAMPLE)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"task_id", "model", "created_at", "request_id"}
    assert TASK_ID_RE.match(body["task_id"])
    assert body["model"] == "kling/kling-v3"
    assert ISO_MS_Z_RE.match(body["created_at"])
    assert uuid.UUID(body["request_id"]).version == 4
    assert sim.ledger.tasks_created == [body["task_id"]]
    assert sim.tasks()[body["task_id"]].request == DOC_EXAMPLE


@pytest.mark.anyio
async def test_task_lifecycle_follows_the_clock_with_exact_poll_shape(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    submitted = (await submit(client, DOC_EXAMPLE)).json()
    task_id = submitted["task_id"]

    seen = []
    # Binary-exact steps: 0 → 1.5 (queued) → 2.0 (processing starts) → 9.5 → 10.0 (succeeded).
    steps = [(0, "queued"), (1.5, "queued"), (0.5, "processing"), (7.5, "processing"), (0.5, "succeeded")]
    for advance, expected in steps:
        clock.advance(advance)
        response = await poll(client, task_id)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == POLL_KEYS
        assert body["status"] == expected
        assert body["task_id"] == task_id
        assert body["model"] == "kling/kling-v3"
        assert body["created_at"] == submitted["created_at"]
        assert body["error"] is None
        assert isinstance(body["request_id"], str)
        assert body["request_id"]
        seen.append(body)

    for body in seen[:-1]:
        assert body["completed_at"] is None
        assert body["videos"] is None
    done = seen[-1]
    assert ISO_MS_Z_RE.match(done["completed_at"])
    assert done["completed_at"] > done["created_at"]
    base = sim.config.public_base_url
    assert done["videos"] == [
        {
            "url": f"{base}/files/{task_id}.mp4",
            "width": 720,
            "height": 1280,
            "duration": 8,
            "cover_url": f"{base}/files/{task_id}.jpg",
        }
    ]
    assert sim.tasks()[task_id].status == "succeeded"


@pytest.mark.anyio
async def test_result_files_are_served_without_auth(
    client: httpx2.AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    task_id = await submit_ok(client)
    # Not there before the task succeeded.
    assert (await client.get(f"http://cdn/files/{task_id}.mp4")).status_code == 404
    clock.advance(10)
    video = (await poll(client, task_id)).json()["videos"][0]

    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=sim.app)) as anonymous:  # no auth header
        mp4 = await anonymous.get(video["url"])
        jpg = await anonymous.get(video["cover_url"])
    assert mp4.status_code == 200
    assert mp4.headers["content-type"] == "video/mp4"
    assert int(mp4.headers["content-length"]) == len(mp4.content) < 20_000
    assert mp4.content[4:8] == b"ftyp"
    assert jpg.status_code == 200
    assert jpg.headers["content-type"] == "image/jpeg"
    assert int(jpg.headers["content-length"]) == len(jpg.content) < 20_000
    assert jpg.content[:3] == b"\xff\xd8\xff"

    assert (await client.get("http://cdn/files/task_0000000000000000000.mp4")).status_code == 404
    assert (await client.get(f"http://cdn/files/{task_id}.gif")).status_code == 404


@pytest.mark.parametrize(
    ("resolution", "aspect_ratio", "size"),
    [
        ("720P", "16:9", (1280, 720)),
        ("720P", "9:16", (720, 1280)),
        ("720P", "1:1", (720, 720)),
        ("1080P", "16:9", (1920, 1080)),
        ("1080P", "9:16", (1080, 1920)),
        ("1080P", "1:1", (1080, 1080)),
        (None, None, (1280, 720)),  # defaults: 720P, 16:9
    ],
)
@pytest.mark.anyio
async def test_video_dimensions_follow_resolution_and_aspect_ratio(
    client: httpx2.AsyncClient,
    clock: ManualClock,
    resolution: str | None,
    aspect_ratio: str | None,
    size: tuple[int, int],
) -> None:
    body = dict(T2V, duration=12)
    if resolution:
        body.update(resolution=resolution, aspect_ratio=aspect_ratio)
    task_id = await submit_ok(client, body)
    clock.advance(10)
    video = (await poll(client, task_id)).json()["videos"][0]
    assert (video["width"], video["height"]) == size
    assert video["duration"] == 12


# ------------------------------------------------------------------------------------------------
# Auth and unknown resources
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "test-key"])
@pytest.mark.anyio
async def test_missing_or_malformed_auth_is_401(sim: Simulator, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=sim.app), base_url="http://sim/imini/router", headers=headers
    ) as anonymous:
        assert_envelope(await submit(anonymous, T2V), 401, "UNAUTHORIZED")
        assert_envelope(await poll(anonymous, "task_1234567890123456789"), 401, "UNAUTHORIZED")
    assert sim.ledger.tasks_created == []


@pytest.mark.anyio
async def test_configured_api_key_is_enforced() -> None:
    sim = Simulator(SimulatorConfig(api_key="sk-right"))
    transport = httpx2.ASGITransport(app=sim.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sim/imini/router") as c:
        wrong = await c.post("/v1/videos/generate", json=T2V, headers={"Authorization": "Bearer sk-wrong"})
        assert_envelope(wrong, 401, "UNAUTHORIZED")
        right = await c.post("/v1/videos/generate", json=T2V, headers={"Authorization": "bearer sk-right"})
        assert right.status_code == 200


@pytest.mark.anyio
async def test_unknown_task_is_404_task_not_found(client: httpx2.AsyncClient) -> None:
    assert_envelope(await poll(client, "task_1234567890123456789"), 404, "TASK_NOT_FOUND")


@pytest.mark.anyio
async def test_unknown_route_and_wrong_method_use_the_envelope(client: httpx2.AsyncClient) -> None:
    assert_envelope(await client.get("/v1/nothing"), 404, "NOT_FOUND")
    assert_envelope(await client.get("/v1/videos/generate"), 405, "METHOD_NOT_ALLOWED")
