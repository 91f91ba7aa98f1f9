"""One backoff shape for every retry: the first wait, doubled each time, never past the cap."""

from __future__ import annotations

import pytest

from imini_mcp.imini import backoff_delay


@pytest.mark.parametrize(
    ("attempt", "wait"), [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 8.0), (60, 8.0)]
)
def test_the_wait_doubles_up_to_the_cap(attempt: int, wait: float) -> None:
    assert backoff_delay(attempt, 0.5, 8.0) == wait
