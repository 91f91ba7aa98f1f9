"""Shared by the simulator tests: request bodies, request shortcuts, and the error-envelope check."""

from __future__ import annotations

import re
from typing import Any

import httpx2

AUTH = {"Authorization": "Bearer test-key"}
TASK_ID_RE = re.compile(r"^task_\d{19}$")
ISO_MS_Z_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
POLL_KEYS = {"task_id", "status", "model", "created_at", "completed_at", "videos", "error", "request_id"}

T2V: dict[str, Any] = {"model": "kling/kling-v3", "prompt": "a red fox running through snow"}
FIRST = {"url": "https://example.com/first.png", "reference_type": "first_frame"}
LAST = {"url": "https://example.com/last.png", "reference_type": "last_frame"}
ASSET = {"url": "https://example.com/asset.png", "reference_type": "asset"}


def shots(*durations: str) -> list[dict[str, Any]]:
    """A valid ``multi_prompt``: one shot per duration, numbered from 1."""
    return [{"index": i + 1, "prompt": f"shot {i + 1}", "duration": d} for i, d in enumerate(durations)]


async def submit(client: httpx2.AsyncClient, body: dict[str, Any]) -> httpx2.Response:
    return await client.post("/v1/videos/generate", json=body)


async def submit_ok(client: httpx2.AsyncClient, body: dict[str, Any] | None = None) -> str:
    """Submit ``body`` (default: text-to-video), assert it was accepted, and return the task id."""
    response = await submit(client, body or T2V)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["task_id"]
    return task_id


async def poll(client: httpx2.AsyncClient, task_id: str) -> httpx2.Response:
    return await client.get(f"/v1/videos/tasks/{task_id}")


def assert_envelope(response: httpx2.Response, status: int, code: str) -> dict[str, Any]:
    """Assert ``response`` is the section-6.1 error envelope with this status and code; return the error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "status", "request_id"}
    assert error["code"] == code
    assert error["status"] == status
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["request_id"], str)
    assert error["request_id"]
    return error
