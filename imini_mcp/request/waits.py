"""How long a tool call may wait for a video: defined once, used by the schema texts, settings and the service.

A call may ask for any wait ≥ 0; the server waits at most its cap (`max_seconds`, 240 s unless configured),
and when it cuts a longer wait it says so in the answer (`cap_note`). The published schema states both
defaults, and no maximum of its own: the cap is the server's, and a configured server may raise it.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_WAIT_SECONDS = 45.0  # fits clients that cut tool calls off at 60 s
MAX_WAIT_SECONDS = 240.0  # Claude Desktop stops tool calls at about 4 minutes
# How the schema texts state the limits (a server may configure others).
WAIT_LIMITS_IN_WORDS = (
    f"Default {DEFAULT_WAIT_SECONDS:g} s, at most {MAX_WAIT_SECONDS:g} s (server settings): a longer wait is "
    "cut, and the answer says so."
)


@dataclass(frozen=True)
class WaitLimits:
    """The server's wait limits: what an unset `wait_seconds` means, and the longest wait allowed."""

    default_seconds: float = DEFAULT_WAIT_SECONDS
    max_seconds: float = MAX_WAIT_SECONDS

    def clamp(self, wanted: float | None) -> float:
        return max(0.0, min(self.default_seconds if wanted is None else wanted, self.max_seconds))

    def cap_note(self, wanted: float | None) -> str | None:
        """What to tell a caller whose wait was cut to the cap; None when it was not."""
        if wanted is None or wanted <= self.max_seconds:
            return None
        return (
            f"wait_seconds {wanted:g} is more than this server's longest wait: it waited at most "
            f"{self.max_seconds:g} s (IMINI_MAX_WAIT_SECONDS)."
        )
