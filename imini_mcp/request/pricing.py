"""Indicative credit cost of a request, from each model's price table in the catalogue (imini-api.md §8).

Per-second rates × the output length. Where imini publishes no per-second price (motion control,
happyhorse, seedance with reference videos) or a reference video sets the length (which this server cannot
measure), the figure is marked rough and its basis says why. Defaults that differ per model (seedance's
sound, happyhorse's 1080P) are priced as imini will apply them.
"""

from __future__ import annotations

from pydantic import Field

from imini_mcp.request.catalog import KLING_V3
from imini_mcp.request.lazy_model import LazyModel
from imini_mcp.request.schema import VideoRequest
from imini_mcp.request.spec import ASSUMED_VIDEO_SECONDS

# credits per second of output, by (resolution, generate_audio); [INFER] multi-shot is priced on its total length
KLING_V3_RATES: dict[tuple[str, bool], int] = {
    (resolution, audio): rates[audio]
    for resolution, rates in KLING_V3.prices.per_second.items()
    for audio in (False, True)
}
ROUGH_DISCLAIMER = (
    "Rough figure: imini publishes no per-second price for this case, so this uses its rule of thumb or the "
    "nearest published rate. imini decides the actual charge."
)


class CostEstimate(LazyModel):
    """Indicative credits for a request, from imini's published per-second rates."""

    credits: int = Field(description="Estimated credits: rate × seconds.")
    credits_per_second: int
    seconds: int
    basis: str = Field(description="How the estimate was computed.")
    disclaimer: str = "Estimate from imini's published per-second rates (may be out of date); imini decides the actual charge."


def estimate_cost(request: VideoRequest) -> CostEstimate:
    spec = request.spec
    resolution = request.effective_resolution()
    audio = request.effective_audio()
    with_video = bool(request.reference_videos)
    rate = spec.prices.rate(resolution, audio, with_video)
    from_video = request.length_from_video()
    seconds = ASSUMED_VIDEO_SECONDS if from_video else request.total_seconds()
    if spec.id == KLING_V3.id:  # the original wording, which the README quotes
        words = "with audio" if audio else "without audio"
        basis = f"{resolution} {words}: {rate} credits/s × {seconds} s"
        return CostEstimate(credits=rate * seconds, credits_per_second=rate, seconds=seconds, basis=basis)

    parts = [resolution + (" (default)" if request.resolution is None else "")]
    if spec.default_audio is not None:
        parts.append(
            ("with audio" if audio else "without audio")
            + (" (default)" if request.generate_audio is None else "")
        )
    if with_video:
        parts.append("with a reference video")
    length = f"{seconds} s"
    if from_video:
        most = f", up to {spec.max_video_seconds} s" if spec.max_video_seconds else ""
        length = f"the reference video's length (unknown here: {seconds} s assumed{most})"
    unpriced_video = (
        with_video and resolution not in spec.prices.with_video and spec.takes("reference_videos")
    )
    rough = spec.prices.rough or from_video or unpriced_video
    basis = f"{', '.join(parts)}: {rate} credits/s × {length}"
    if spec.prices.rough:
        basis += f"; {spec.prices.source}"
        if resolution != spec.resolutions[-1]:
            basis += f", so {resolution} is probably cheaper"
    elif unpriced_video:
        basis += "; imini's published rate is without reference videos"
    if rough:
        basis = "rough: " + basis
    estimate = CostEstimate(credits=rate * seconds, credits_per_second=rate, seconds=seconds, basis=basis)
    if rough:
        estimate.disclaimer = ROUGH_DISCLAIMER
    return estimate
