"""The indicative price (imini-api.md §8; pricing.py), as a specification: credits per second × seconds, per
model; rough where imini publishes no per-second price or a reference video sets the length."""

from __future__ import annotations

from typing import Any

import pytest

from imini_mcp.request import DEFAULT_MODEL, check_generate_arguments, estimate_cost, request_notes
from tests.request.builders import (
    FAST,
    HORSE,
    OMNI,
    SEED,
    V3,
    motion,
    shots,
    storyboard,
    video,
)

# ---------------------------------------------------------------------------------------------------
# kling/kling-v3: credits per second × seconds

KLING_V3_COSTS = [
    pytest.param({"prompt": "p"}, 120, 5, id="720P without audio, default 5 s"),
    pytest.param(
        {"prompt": "p", "generate_audio": True, "duration": 10}, 170, 10, id="720P with audio, 10 s"
    ),
    pytest.param(
        {"prompt": "p", "resolution": "1080P"},
        160,
        5,
        id="1080P without audio, 5 s (the documented 800 credits)",
    ),
    pytest.param(
        {"prompt": "p", "resolution": "1080P", "generate_audio": True, "duration": 15},
        220,
        15,
        id="1080P with audio, 15 s",
    ),
    pytest.param(
        {"prompt": "p", "resolution": "1080p", "duration": 3},
        160,
        3,
        id="lowercase 1080p is priced as 1080P, 3 s",
    ),
    pytest.param(
        {"extra_params": storyboard(shots(2, 3, 4))},
        120,
        9,
        id="a storyboard without duration is priced on the sum of its shots",
    ),
    pytest.param(
        {
            "resolution": "1080P",
            "generate_audio": True,
            "duration": 8,
            "extra_params": storyboard(shots(2, 3, 3)),
        },
        220,
        8,
        id="a storyboard with duration is priced on that duration",
    ),
    pytest.param(
        {"prompt": "p", "duration": 10, "extra_params": {"multi_shot": True, "shot_type": "intelligence"}},
        120,
        10,
        id="intelligence mode is priced on duration",
    ),
    pytest.param(
        {"prompt": "p", "resolution": None, "generate_audio": None, "duration": None},
        120,
        5,
        id="explicit nulls are priced as the defaults",
    ),
]


@pytest.mark.parametrize(("args", "per_second", "seconds"), KLING_V3_COSTS)
def test_cost_is_rate_times_seconds(args: dict[str, Any], per_second: int, seconds: int) -> None:
    """kling-v3's estimate is its published rate × the video's length."""
    cost = estimate_cost(check_generate_arguments(args))
    assert (cost.credits_per_second, cost.seconds, cost.credits) == (
        per_second,
        seconds,
        per_second * seconds,
    )
    assert cost.basis


def test_explicit_nulls_use_the_defaults_and_send_nothing() -> None:
    """Explicit nulls are neither sent nor priced: the defaults apply."""
    args = check_generate_arguments(
        {"prompt": "p", "resolution": None, "generate_audio": None, "extra_params": {"negative_prompt": None}}
    )
    assert args.to_body() == {"model": "kling/kling-v3", "prompt": "p"}
    assert estimate_cost(args).credits == 120 * 5


def test_kling_v3_is_unchanged_and_the_default() -> None:
    """kling-v3 is the default model, priced and noted in its original words."""
    args = check_generate_arguments({"prompt": "p"})
    assert args.model == DEFAULT_MODEL == V3
    assert args.to_body() == {"model": V3, "prompt": "p"}
    assert estimate_cost(args).basis == "720P without audio: 120 credits/s × 5 s"
    assert request_notes(args) == []


# ---------------------------------------------------------------------------------------------------
# The other models: per-second rate × seconds; rough where no per-second price is published

COSTS = [
    pytest.param({"model": OMNI, "prompt": "p"}, 120, 5, False, id="omni 720P silent"),
    pytest.param(
        {"model": OMNI, "prompt": "p", "resolution": "1080P", "generate_audio": True, "duration": 8},
        200,
        8,
        False,
        id="omni 1080P with audio",
    ),
    pytest.param(
        {
            "model": OMNI,
            "prompt": "p",
            "resolution": "1080P",
            "duration": 10,
            "reference_videos": [video(refer_type="feature")],
        },
        220,
        10,
        False,
        id="omni 1080P with a feature video",
    ),
    pytest.param(
        {"model": OMNI, "prompt": "p", "reference_videos": [video(refer_type="base")]},
        170,
        5,
        True,
        id="omni edit: the video's length, assumed",
    ),
    pytest.param(
        {"model": OMNI, "extra_params": storyboard(shots(3, 4))},
        120,
        7,
        False,
        id="omni storyboard on its sum",
    ),
    pytest.param(motion(), 220, 5, True, id="motion control: rule of thumb, video length assumed"),
    pytest.param(motion(resolution="1080P"), 220, 5, True, id="motion control 1080P"),
    pytest.param({"model": SEED, "prompt": "p"}, 200, 5, False, id="seedance 720P with audio by default"),
    pytest.param(
        {"model": SEED, "prompt": "p", "resolution": "480P", "duration": 4}, 100, 4, False, id="seedance 480P"
    ),
    pytest.param(
        {"model": SEED, "prompt": "p", "reference_videos": [video()]},
        200,
        5,
        True,
        id="seedance with a video is rough",
    ),
    pytest.param({"model": FAST, "prompt": "p", "duration": 10}, 160, 10, False, id="seedance fast 720P"),
    pytest.param({"model": FAST, "prompt": "p", "resolution": "480P"}, 80, 5, False, id="seedance fast 480P"),
    pytest.param({"model": HORSE, "prompt": "p"}, 300, 5, True, id="happyhorse 1080P by default, rough"),
    pytest.param({"model": HORSE, "prompt": "p", "duration": 10}, 300, 10, True, id="happyhorse 10 s"),
    pytest.param(
        {"model": HORSE, "prompt": "p", "reference_videos": [video()]}, 300, 5, True, id="happyhorse edit"
    ),
]


@pytest.mark.parametrize(("args", "per_second", "seconds", "rough"), COSTS)
def test_cost_per_model(args: dict[str, Any], per_second: int, seconds: int, rough: bool) -> None:
    """Each model's estimate is its rate × seconds, marked rough where no per-second price is published."""
    cost = estimate_cost(check_generate_arguments(args))
    assert (cost.credits_per_second, cost.seconds, cost.credits) == (
        per_second,
        seconds,
        per_second * seconds,
    )
    assert cost.basis.startswith("rough: ") is rough
    assert ("Rough figure" in cost.disclaimer) is rough


def test_per_model_defaults_are_priced_and_said_but_not_sent() -> None:
    """seedance's sound and happyhorse's 1080P are priced and noted as defaults, never sent."""
    seedance = check_generate_arguments({"model": SEED, "prompt": "p"})
    assert "generate_audio" not in seedance.to_body()
    assert "with audio (default)" in estimate_cost(seedance).basis
    assert any("makes sound by default" in note for note in request_notes(seedance))
    horse = check_generate_arguments({"model": HORSE, "prompt": "p"})
    assert "resolution" not in horse.to_body()
    assert estimate_cost(horse).basis.startswith("rough: 1080P (default)")
    assert any("1080P by default" in note for note in request_notes(horse))


def test_a_length_set_by_a_video_says_so() -> None:
    """When a reference video sets the length, the estimate assumes one and the notes say so."""
    args = check_generate_arguments(motion())
    assert "the reference video's length (unknown here: 5 s assumed, up to 30 s)" in estimate_cost(args).basis
    assert any("cannot measure" in note for note in request_notes(args))
