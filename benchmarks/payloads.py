"""Request bodies shared by the benchmarks: imini's documented example and a worst-case storyboard."""

from __future__ import annotations

import copy
from typing import Any

# imini's documented kling-v3 example (README "Example: a storyboard").
DOC_EXAMPLE: dict[str, Any] = {
    "model": "kling/kling-v3",
    "resolution": "720P",
    "aspect_ratio": "9:16",
    "duration": 8,
    "generate_audio": True,
    "extra_params": {
        "multi_shot": True,
        "shot_type": "customize",
        "multi_prompt": [
            {"index": 1, "prompt": "A red fox wakes up in its den at dawn", "duration": "2"},
            {"index": 2, "prompt": "The fox runs through deep snow, camera tracking", "duration": "3"},
            {"index": 3, "prompt": "The fox stops on a ridge and looks at the sunrise", "duration": "3"},
        ],
    },
}


def _text(n: int, seed: str) -> str:
    words = f"{seed} drifts through the amber light over quiet water while the camera follows slowly "
    return (words * (n // len(words) + 1))[:n]


# Every rule engaged at its limit: 6 shots of 512 characters, a 2500-character prompt and negative
# prompt, a simple camera move, one first_frame (the only image multi-shot allows), all options.
WORST_CASE: dict[str, Any] = {
    "model": "kling/kling-v3",
    "prompt": _text(2500, "a fox"),
    "resolution": "1080P",
    "aspect_ratio": "16:9",
    "duration": 12,
    "generate_audio": True,
    "reference_images": [{"url": "https://example.com/first-frame.png", "reference_type": "first_frame"}],
    "extra_params": {
        "multi_shot": True,
        "shot_type": "customize",
        "multi_prompt": [
            {"index": n, "prompt": _text(512, f"shot {n}"), "duration": "2"} for n in range(1, 7)
        ],
        "negative_prompt": _text(2500, "blur"),
        "cfg_scale": 0.7,
        "camera_control": {
            "type": "simple",
            "config": {"horizontal": 0, "vertical": 0, "pan": 0, "tilt": 0, "roll": 0, "zoom": 5},
        },
    },
    "output": "url",
    "output_name": "my fox storyboard",
    "idempotency_key": "0f6c2f0e-4d1f-4a59-9a57-3c4d1b7e2a10",
}


def dry_run(body: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(body) | {"dry_run": True}
