"""2b. In-process validation cost of generate_video arguments: `check_generate_arguments` (every problem at
once, plain words, cross-field rules) vs pydantic's own `GenerateVideoArguments.model_validate`.

timeit-style: many calls per sample, several samples, the median sample reported (the minimum is
printed too; it is the least disturbed by the other processes on this machine).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from harness import Row, bench_main, median, ratio_row, us
from payloads import DOC_EXAMPLE, WORST_CASE

from imini_mcp.request import GenerateVideoArguments, InvalidArguments, check_generate_arguments

BENCH = "2 validation"


def _per_call(fn: Callable[[], Any], number: int, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - started) / number)
    return median(samples), min(samples)


def _rejected(body: dict[str, Any]) -> Callable[[], Any]:
    def check() -> None:
        try:
            check_generate_arguments(body)
        except InvalidArguments:
            return
        raise AssertionError("the broken body was accepted")

    return check


def run(quick: bool) -> list[Row]:
    number, repeat = (300, 5) if quick else (2000, 9)
    worst = copy.deepcopy(WORST_CASE)
    # Both paths must accept the body, or the comparison would be meaningless.
    assert check_generate_arguments(worst).to_body() == GenerateVideoArguments.model_validate(worst).to_body()
    # A body with many problems at once: the error path builds every message.
    broken = copy.deepcopy(WORST_CASE)
    broken["duration"] = 99
    broken["extra_params"]["multi_prompt"][2]["duration"] = "x"
    broken["extra_params"]["camera_control"]["config"]["pan"] = 3
    broken["reference_images"].append({"url": "ftp://nope", "reference_type": "last_frame"})
    broken["colour"] = "red"

    rows: list[Row] = []
    for label, body in (
        ("worst case (6 shots × 512 chars, camera, negative, first_frame)", worst),
        ("doc example", DOC_EXAMPLE),
    ):
        ours, ours_min = _per_call(lambda b=body: check_generate_arguments(b), number, repeat)
        base, base_min = _per_call(lambda b=body: GenerateVideoArguments.model_validate(b), number, repeat)
        rows.append(
            ratio_row(
                BENCH,
                f"check_generate_arguments, {label}",
                ours,
                base,
                us,
                note=f"min {us(ours_min)} vs {us(base_min)}; baseline is model_validate",
            )
        )
    bad, bad_min = _per_call(_rejected(broken), number, repeat)
    rows.append(
        Row(
            BENCH,
            "check_generate_arguments, worst case with 5 problems (rejected)",
            us(bad),
            note=f"min {us(bad_min)}",
        )
    )
    return rows


if __name__ == "__main__":
    bench_main(run)
