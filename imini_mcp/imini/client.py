"""Async client for imini's two video endpoints, with the retry rules that never bill twice.

`submit()` is retried only when the request cannot have reached imini (the connection never opened)
or imini said 429; a timeout after sending, a 5xx or an unreadable answer raises
`SubmitOutcomeUnknown` instead, because the task may exist and be billed. `get_task()` is a read and
is retried on 429 (honouring Retry-After), 5xx, network errors and unreadable answers, with capped,
jittered backoff (stamina).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import anyio
import httpx2
from pydantic import ValidationError

from imini_mcp.imini.errors import (
    ConfigurationError,
    IminiError,
    InvalidResponse,
    NetworkError,
    RateLimited,
    SubmitOutcomeUnknown,
    error_for_status,
)
from imini_mcp.imini.retry import RetryPolicy, backoff_delay
from imini_mcp.imini.wire import SubmitReceipt, TaskSnapshot

log = logging.getLogger(__name__)

GENERATE_PATH = "/v1/videos/generate"
TASK_PATH = "/v1/videos/tasks/{task_id}"


# Errors raised before any byte of the request left this machine: safe to retry even a submit.
_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout, httpx2.UnsupportedProtocol)


class IminiClient:
    """One imini account (API key) over a shared `httpx2.AsyncClient`. Cheap to create per request."""

    def __init__(
        self,
        http: httpx2.AsyncClient,
        *,
        base_url: str,
        api_key: str | None,
        policy: RetryPolicy | None = None,
        no_key: Callable[[], ConfigurationError] | None = None,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.policy = policy or RetryPolicy()
        self._no_key = no_key  # what a call without a key raises, when not the single-user advice

    # -- public ---------------------------------------------------------------------------------

    async def submit(self, body: dict[str, Any]) -> SubmitReceipt:
        """POST the generation request once (retrying only where that cannot bill twice)."""
        url = self._base_url + GENERATE_PATH
        for attempt in range(1, self.policy.submit_attempts + 1):
            try:
                response = await self._http.post(url, json=body, headers=self._headers())
            except _NOT_SENT as exc:
                if attempt == self.policy.submit_attempts:
                    raise NetworkError(
                        f"Could not connect to imini at {self._base_url}: {_describe(exc)}"
                    ) from exc
                await anyio.sleep(self._backoff(attempt))
                continue
            except httpx2.TransportError as exc:
                raise SubmitOutcomeUnknown(
                    f"The submit was sent but no answer came back ({_describe(exc)}); a task may have been created"
                ) from exc
            if response.status_code == 429 and attempt < self.policy.submit_attempts:
                wait = self._rate_wait(_retry_after(response), attempt)
                log.info("imini rate-limited the submit; retrying in %.1f s", wait)
                await anyio.sleep(wait)
                continue
            return self._parse_submit(response)
        raise AssertionError("unreachable")  # pragma: no cover

    async def get_task(self, task_id: str) -> TaskSnapshot:
        """GET the task's current state, retrying transient failures with backoff."""
        import stamina  # only reads retry; importing it lazily keeps it off the start-up path

        policy = self.policy
        async for attempt in stamina.retry_context(
            on=self._read_backoff,
            attempts=policy.read_attempts,
            timeout=policy.read_timeout,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
        ):
            with attempt:
                return await self._get_task_once(task_id)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- internals ------------------------------------------------------------------------------

    @property
    def has_key(self) -> bool:
        return bool(self._api_key)

    def require_key(self) -> None:
        """Fail before anything is journalled or sent when there is no key."""
        self._headers()

    def _headers(self) -> dict[str, str]:
        if not self._api_key and self._no_key is not None:
            raise self._no_key()
        if not self._api_key:
            raise ConfigurationError(
                "No imini API key is configured",
                next_step="Set IMINI_API_KEY in the MCP server's environment (get one at https://imini.ai/api-keys) "
                "and restart it; or run with --simulate to try everything without a key.",
            )
        return {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}

    async def _get_task_once(self, task_id: str) -> TaskSnapshot:
        url = self._base_url + TASK_PATH.format(task_id=quote(task_id, safe=""))
        try:
            response = await self._http.get(url, headers=self._headers())
        except httpx2.TransportError as exc:
            raise NetworkError(f"Could not reach imini to read task {task_id}: {_describe(exc)}") from exc
        if response.status_code != 200:
            raise _error_from_response(response, f"imini refused to read task {task_id}")
        data = _json_object(response, "task status")
        try:
            return TaskSnapshot.model_validate(data)
        except ValidationError as exc:
            raise InvalidResponse(
                f"imini's task answer lacks fields ({_fields(exc)})", request_id=_request_id(data)
            ) from exc

    def _parse_submit(self, response: httpx2.Response) -> SubmitReceipt:
        if response.status_code >= 500:
            err = _error_from_response(response, "imini failed while accepting the submit")
            raise SubmitOutcomeUnknown(
                f"{err.message}; the task may or may not have been created",
                code=err.code,
                status=err.status,
                request_id=err.request_id,
            )
        if response.status_code == 404:  # the submit path itself is unknown: a wrong base URL, not a task
            err = _error_from_response(response, "imini has no video endpoint at this address")
            raise ConfigurationError(
                err.message,
                code=err.code,
                status=404,
                request_id=err.request_id,
                next_step=f"Check IMINI_BASE_URL (now {self._base_url}; imini's is "
                "https://openapi.imini.ai/imini/router). Nothing was created.",
            )
        if response.status_code not in (200, 201, 202):
            raise _error_from_response(response, "imini refused the request")
        try:
            return SubmitReceipt.model_validate(_json_object(response, "submit"))
        except (InvalidResponse, ValidationError) as exc:
            raise SubmitOutcomeUnknown(
                f"imini answered the submit with HTTP {response.status_code} but no readable task id; "
                "a task was probably created",
            ) from exc

    def _read_backoff(self, exc: Exception) -> bool | float:
        """stamina hook: retry transient read errors; a float is the wait to use (Retry-After)."""
        if isinstance(exc, RateLimited):
            return self._rate_wait(exc.retry_after, 1)
        return isinstance(exc, IminiError) and exc.transient

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, self.policy.wait_initial, self.policy.submit_max_wait)

    def _rate_wait(self, retry_after: float | None, attempt: int) -> float:
        """Wait after a 429: Retry-After when given, else backoff; never below imini's floor."""
        wanted = retry_after if retry_after is not None else self._backoff(attempt)
        return min(max(wanted, self.policy.rate_limit_floor), self.policy.submit_max_wait)


# ---------------------------------------------------------------------------------------------------
# Response parsing


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _fields(exc: ValidationError) -> str:
    return ", ".join(".".join(str(p) for p in err["loc"]) for err in exc.errors())


def _request_id(data: Any) -> str | None:
    return (
        data.get("request_id") if isinstance(data, dict) and isinstance(data.get("request_id"), str) else None
    )


def _retry_after(response: httpx2.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP-date; rare for APIs, so fall back to backoff


def _json_object(response: httpx2.Response, what: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as exc:
        kind = (
            "an HTML page" if "html" in response.headers.get("content-type", "") else "text that is not JSON"
        )
        raise InvalidResponse(
            f"imini answered the {what} request with {kind}", status=response.status_code
        ) from exc
    if not isinstance(data, dict):
        raise InvalidResponse(
            f"imini answered the {what} request with JSON that is not an object", status=response.status_code
        )
    return data


def _error_from_response(response: httpx2.Response, context: str) -> IminiError:
    """Map an error answer (the §6.1 envelope, or anything else) to the right `IminiError`."""
    status = response.status_code
    cls = error_for_status(status)
    envelope: dict[str, Any] = {}
    try:
        data = response.json()
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            envelope = data["error"]
    except ValueError:
        pass
    message = envelope.get("message")
    if not isinstance(message, str) or not message:
        kind = (
            "an HTML error page" if "html" in response.headers.get("content-type", "") else "no error details"
        )
        message = f"{context}: HTTP {status} with {kind}"
    else:
        message = f"{context}: {message}"
    code = envelope.get("code") if isinstance(envelope.get("code"), str) else None
    request_id = envelope.get("request_id") if isinstance(envelope.get("request_id"), str) else None
    if cls is RateLimited:
        return RateLimited(
            message, retry_after=_retry_after(response), code=code, status=status, request_id=request_id
        )
    return cls(message, code=code, status=status, request_id=request_id)
