"""How long a tool call may wait for a video: defined once, used by the schema texts, settings and the service."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_WAIT_SECONDS = 45.0  # fits clients that cut tool calls off at 60 s
MAX_WAIT_SECONDS = 240.0  # Claude Desktop stops tool calls at about 4 minutes
# How the schema texts state the limits (a server may configure others).
WAIT_LIMITS_IN_WORDS = f"{DEFAULT_WAIT_SECONDS:g} s / {MAX_WAIT_SECONDS:g} s unless configured"


@dataclass(frozen=True)
class WaitLimits:
    """The server's wait limits: what an unset `wait_seconds` means, and the longest wait allowed."""

    default_seconds: float = DEFAULT_WAIT_SECONDS
    max_seconds: float = MAX_WAIT_SECONDS

    def clamp(self, wanted: float | None) -> float:
        return max(0.0, min(self.default_seconds if wanted is None else wanted, self.max_seconds))
