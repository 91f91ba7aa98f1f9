"""Indicative credit cost of a kling-v3 request (imini-api.md §8: per-second rates, marked [SKILL])."""

from __future__ import annotations

from imini_mcp.models import VideoRequest
from imini_mcp.results import CostEstimate

# credits per second of output, by (resolution, generate_audio); [INFER] multi-shot is priced on its total length
KLING_V3_RATES: dict[tuple[str, bool], int] = {
    ("720P", False): 120,
    ("720P", True): 170,
    ("1080P", False): 160,
    ("1080P", True): 220,
}


def estimate_cost(request: VideoRequest) -> CostEstimate:
    seconds = request.total_seconds()
    rate = KLING_V3_RATES[(request.resolution, request.generate_audio)]
    audio = "with audio" if request.generate_audio else "without audio"
    return CostEstimate(
        credits=rate * seconds,
        credits_per_second=rate,
        seconds=seconds,
        basis=f"{request.resolution} {audio}: {rate} credits/s × {seconds} s",
    )
