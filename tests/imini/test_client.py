"""The imini HTTP client: what is retried, what never is, and how answers map to errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from imini_mcp.imini import IminiClient, RetryPolicy
from imini_mcp.imini.errors import (
    ConfigurationError,
    InvalidResponse,
    NetworkError,
    RateLimited,
    RequestRejected,
    SubmitOutcomeUnknown,
    TaskNotFound,
    UpstreamError,
)
from imini_mcp.simulator import Fault
from tests.conftest import DOC_EXAMPLE, FAKE_KEY, FAST_RETRY, Backend
from tests.processes import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture
async def http() -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(timeout=httpx2.Timeout(2.0, connect=1.0)) as client:
        yield client


def _client(http: httpx2.AsyncClient, url: str, key: str | None = FAKE_KEY) -> IminiClient:
    return IminiClient(http, base_url=url, api_key=key, policy=FAST_RETRY)


async def test_submit_returns_the_receipt(http: httpx2.AsyncClient, backend: Backend) -> None:
    receipt = await _client(http, backend.url).submit(DOC_EXAMPLE)
    assert receipt.task_id.startswith("task_")
    assert receipt.model == "kling/kling-v3"
    assert receipt.request_id


async def test_a_read_timeout_after_sending_is_an_unknown_outcome_not_a_retry(backend: Backend) -> None:
    sent: list[httpx2.Request] = []

    async def count(request: httpx2.Request) -> None:
        sent.append(request)

    backend.sim.add_fault(Fault("submit", "delay", seconds=5))
    async with httpx2.AsyncClient(timeout=httpx2.Timeout(0.5), event_hooks={"request": [count]}) as http:
        with pytest.raises(SubmitOutcomeUnknown) as caught:
            await _client(http, backend.url).submit(DOC_EXAMPLE)
    assert "may have been created" in str(caught.value)
    assert len(sent) == 1


async def test_a_connection_that_never_opened_is_retried_then_reported(http: httpx2.AsyncClient) -> None:
    client = _client(http, f"http://127.0.0.1:{free_port()}/imini/router")
    with pytest.raises(NetworkError) as caught:
        await client.submit(DOC_EXAMPLE)
    assert "Could not connect" in str(caught.value)
    assert "IMINI_BASE_URL" in str(caught.value)


async def test_no_key_fails_before_anything_is_sent(http: httpx2.AsyncClient, backend: Backend) -> None:
    with pytest.raises(ConfigurationError):
        await _client(http, backend.url, key=None).submit(DOC_EXAMPLE)
    assert len(backend.sim.ledger) == 0


async def test_a_400_from_imini_is_a_rejection_with_its_details(
    http: httpx2.AsyncClient, backend: Backend
) -> None:
    with pytest.raises(RequestRejected) as caught:
        await _client(http, backend.url).submit({"model": "kling/kling-v3", "duration": 99, "prompt": "p"})
    assert caught.value.status == 400
    assert caught.value.code == "INVALID_PARAMETER"
    assert caught.value.request_id


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        pytest.param(Fault("poll", "status", status=504, times=3), UpstreamError, id="504 every time"),
        pytest.param(Fault("poll", "status", status=429, times=3), RateLimited, id="429 every time"),
        pytest.param(Fault("poll", "html", times=3), UpstreamError, id="a proxy's HTML 502 every time"),
        pytest.param(Fault("poll", "malformed_json", times=3), InvalidResponse, id="broken JSON every time"),
        pytest.param(Fault("poll", "missing_fields", times=3), InvalidResponse, id="no status every time"),
        pytest.param(Fault("poll", "expire_task"), TaskNotFound, id="expired: 404 at once"),
    ],
)
async def test_reads_give_up_after_their_attempts_with_the_right_error(
    http: httpx2.AsyncClient, backend: Backend, fault: Fault, error: type[Exception]
) -> None:
    client = _client(http, backend.url)
    task_id = (await client.submit(DOC_EXAMPLE)).task_id
    backend.sim.add_fault(fault)
    with pytest.raises(error):
        await client.get_task(task_id)
    expected_gets = 1 if error is TaskNotFound else FAST_RETRY.read_attempts
    assert backend.polls(task_id) == expected_gets


async def test_a_read_waits_for_retry_after(http: httpx2.AsyncClient, backend: Backend) -> None:
    policy = RetryPolicy(read_attempts=2, wait_initial=0.01, wait_max=0.05, rate_limit_floor=0)
    client = IminiClient(http, base_url=backend.url, api_key=FAKE_KEY, policy=policy)
    task_id = (await client.submit(DOC_EXAMPLE)).task_id
    backend.sim.add_fault(Fault("poll", "status", status=429, retry_after=0.3))
    await client.get_task(task_id)
    polls = [e.time for e in backend.sim.ledger.entries if e.kind == "poll"]
    assert polls[1] - polls[0] >= 0.3


async def test_task_ids_cannot_escape_the_task_path(http: httpx2.AsyncClient, backend: Backend) -> None:
    with pytest.raises(TaskNotFound):
        await _client(http, backend.url).get_task("../generate")
    entry = backend.sim.ledger.entries[0]
    assert entry.kind == "poll"  # it stayed a task lookup; "/v1/videos/generate" was never reached
    assert entry.task_id == "../generate"
