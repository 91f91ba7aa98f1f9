"""Everything that can go wrong with imini, as exceptions that say what happened and what to do next.

    IminiError
    ├── ConfigurationError       no API key / unusable setting; nothing was sent
    ├── RequestRejected          400: the request or prompt was refused; fix it
    ├── AuthenticationFailed     401: key missing, invalid or revoked
    ├── InsufficientCredits      402: top up credits first
    ├── PermissionDenied         403: no permission / quota exhausted
    ├── TaskNotFound             404: unknown or expired task id
    ├── RateLimited              429: back off (carries Retry-After); transient
    ├── UpstreamError            5xx: imini or the model service failed; transient for reads
    ├── NetworkError             connection failed, reset or timed out; transient for reads
    ├── InvalidResponse          not JSON, an HTML page, or fields missing; transient for reads
    └── SubmitOutcomeUnknown     a submit that may have created (and billed) a task; never retried

`error_for_status()` is the one table from HTTP status to error class (imini-api.md §6.2).
"""

from __future__ import annotations

from typing import ClassVar


class IminiError(Exception):
    """Base class. `str()` is the full message a person or an assistant reads."""

    default_next_step: ClassVar[str] = (
        "Try again later; if it persists, contact support@imini.com with the request id."
    )
    transient: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        next_step: str | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.status = status
        self.request_id = request_id
        self.next_step = next_step or self.default_next_step
        super().__init__(message)

    def __str__(self) -> str:
        return self.render()  # rendered late: callers may add to next_step (e.g. the journal entry)

    def render(self) -> str:
        facts = [
            f"HTTP {self.status}" if self.status else "",
            self.code or "",
            f"request_id {self.request_id}" if self.request_id else "",
        ]
        said = ", ".join(f for f in facts if f)
        return f"{self.message}" + (f" ({said})" if said else "") + f". Next step: {self.next_step}"


class ConfigurationError(IminiError):
    default_next_step = "Fix the setting and restart the server."


class RequestRejected(IminiError):
    default_next_step = (
        "Change the request as the message says (if the prompt was refused by content safety, rephrase it); "
        "call generate_video with dry_run true to check it first."
    )


class AuthenticationFailed(IminiError):
    default_next_step = (
        "Check IMINI_API_KEY in the MCP server's environment (create a key at https://imini.ai/api-keys), "
        "then restart the server."
    )


class InsufficientCredits(IminiError):
    default_next_step = "Top up credits in your imini account, then submit again."


class PermissionDenied(IminiError):
    default_next_step = "Check that this API key may use kling/kling-v3 and that its quota is not exhausted."


class TaskNotFound(IminiError):
    default_next_step = (
        "Check the task id (it looks like task_2042864638838083584). Tasks expire after a while; "
        "if it expired, submit a new generation."
    )


class RateLimited(IminiError):
    transient = True
    default_next_step = "Wait a little and try again; imini limits requests per account."

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        if retry_after is not None and "next_step" not in kwargs:
            kwargs["next_step"] = f"Wait {retry_after:g} s (imini's Retry-After) and try again."
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class UpstreamError(IminiError):
    transient = True
    default_next_step = "imini or the model service had a problem; try again in a minute."


class NetworkError(IminiError):
    transient = True
    default_next_step = "Check the network and IMINI_BASE_URL, then try again."


class InvalidResponse(IminiError):
    transient = True
    default_next_step = "imini answered with something unexpected; try again in a minute."


class SubmitOutcomeUnknown(IminiError):
    """The submit may have reached imini: a task may exist and be billed, so it is not retried."""

    default_next_step = (
        "Do NOT resubmit right away: that may create and bill a second video. The task may still appear; "
        "if you decide to resubmit, accept that risk (or use the same idempotency_key)."
    )


_BY_STATUS: dict[int, type[IminiError]] = {
    400: RequestRejected,
    401: AuthenticationFailed,
    402: InsufficientCredits,
    403: PermissionDenied,
    404: TaskNotFound,
    422: RequestRejected,
    429: RateLimited,
}


def error_for_status(status: int) -> type[IminiError]:
    """The error class for an HTTP status imini answered with (imini-api.md §6.2)."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return UpstreamError
    return RequestRejected if 400 <= status < 500 else InvalidResponse
