"""How hard imini is retried, in one place: the policy's numbers and the one backoff shape every retry uses.

Reads (task polls, result downloads) retry transient failures; a submit is retried only where it cannot
have reached imini (see client.py), because a second submit may bill a second video.
"""

from __future__ import annotations

from dataclasses import dataclass


def backoff_delay(attempt: int, initial: float, maximum: float) -> float:
    """The wait before retry number `attempt` (1-based): `initial`, doubled each time, capped at `maximum`."""
    return min(initial * 2.0 ** (attempt - 1), maximum)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry. Defaults follow imini's advice (imini-api.md §5.3, §6.2)."""

    read_attempts: int = 4
    read_timeout: float = 60.0  # total seconds a read may spend retrying
    wait_initial: float = 1.0
    wait_max: float = 15.0
    rate_limit_floor: float = 5.0  # imini's skill: after a 429 wait at least 5 s
    submit_attempts: int = 3  # only for 429 / connection never opened
    submit_max_wait: float = 30.0  # never sleep longer than this for one submit retry
