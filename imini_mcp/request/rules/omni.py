"""kling/kling-v3-omni's own rules (special "omni"): <<<image_N>>> / <<<video_N>>> in the prompts name inputs
that exist, a base video sets the length, and a reference video comes without storyboard or sound."""

from __future__ import annotations

import re

from imini_mcp.request.problems import Problem
from imini_mcp.request.rules.fields import Args, is_set, plural
from imini_mcp.request.rules.media import listed
from imini_mcp.request.schema import GenerateVideoArguments
from imini_mcp.request.spec import ModelSpec

_PROMPT_REFERENCE = re.compile(r"<<<\s*([A-Za-z]+)_(\d+)\s*>>>")


def omni_problems(args: Args, spec: ModelSpec, refused: list[str]) -> list[Problem]:
    """<<<image_N>>> / <<<video_N>>> name inputs that exist; with a reference video, the video sets the length
    of an edit, and there is no storyboard and no generated sound."""
    req = args.value
    assert req is not None
    images, videos_listed = listed(args, "reference_images"), listed(args, "reference_videos")
    counts = {
        "image": None if images is None else len(images),
        "video": None if videos_listed is None else len(videos_listed),
    }
    problems = [
        problem for path, text in _prompts(req) for problem in _reference_problems(spec, path, text, counts)
    ]
    videos = [v for v in videos_listed or [] if v is not None]
    return problems + (_with_video_problems(args, spec) if videos else [])


def _prompts(req: GenerateVideoArguments) -> list[tuple[str, str]]:
    """The top-level prompt and every shot's prompt, with their paths."""
    texts = [("prompt", req.prompt)] if isinstance(req.prompt, str) else []
    shots = req.extra_params.multi_prompt if req.extra_params else None
    for index, shot in enumerate(shots or []):
        if shot is not None and isinstance(shot.prompt, str):
            texts.append((f"extra_params.multi_prompt[{index}].prompt", shot.prompt))
    return texts


def _reference_problems(
    spec: ModelSpec, path: str, text: str, counts: dict[str, int | None]
) -> list[Problem]:
    """Each distinct <<<kind_N>>> in one prompt: a kind omni knows, naming an input that exists."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for kind, number in _PROMPT_REFERENCE.findall(text):
        token, kind, n = f"<<<{kind}_{number}>>>", kind.lower(), int(number)
        if token in seen:
            continue
        seen.add(token)
        if kind in counts:
            have = counts[kind]
            if have is not None and not 1 <= n <= have:
                problems.append(_missing_input(path, token, kind, have))
        elif kind == "element":
            problems.append(
                Problem(
                    path,
                    f"uses {token}, but imini documents no way to send elements to {spec.id}. [INFER]",
                    "describe the subject in words, or give it as an asset image and write <<<image_N>>>.",
                )
            )
        else:
            problems.append(
                Problem(
                    path,
                    f"uses {token}; {spec.id} knows <<<image_N>>> and <<<video_N>>> (and <<<element_N>>>).",
                    "refer to a reference image as <<<image_N>>> or a video as <<<video_N>>>.",
                )
            )
    return problems


def _missing_input(path: str, token: str, kind: str, have: int) -> Problem:
    inputs = "reference_images" if kind == "image" else "reference_videos"
    return Problem(
        path,
        f"refers to {token} but there {'is' if have == 1 else 'are'} "
        f"{plural(have, 'reference ' + kind)}; <<<{kind}_N>>> names the N-th entry of "
        f"{inputs}. [DOC]",
        f"add the {kind}, or number from 1 in the order of {inputs}.",
    )


def _with_video_problems(args: Args, spec: ModelSpec) -> list[Problem]:
    """With a reference video: no duration in an edit (base), no storyboard, no generated sound."""
    req = args.value
    assert req is not None
    problems: list[Problem] = []
    if any(v is not None and v.refer_type == "base" for v in req.reference_videos or []) and (
        is_set(args, "duration") and req.duration is not None
    ):
        problems.append(
            Problem(
                "duration",
                "is ignored in a video edit (refer_type base): the output is as long as the video and billed on "
                "its length [DOC]. It is refused so the request says what will happen. [INFER]",
                "remove duration, or use refer_type feature.",
            )
        )
    if req.extra_params is not None and req.extra_params.multi_shot:
        problems.append(
            Problem(
                "extra_params.multi_shot",
                f"is not combined with a reference video on {spec.id}. [INFER]",
                "turn multi_shot off, or remove the reference video.",
            )
        )
    if req.generate_audio is True and not args.is_invalid("generate_audio"):
        problems.append(
            Problem(
                "generate_audio",
                f"cannot be true with a reference video on {spec.id}: imini lists no audio price with one and "
                "Kling makes them exclusive. [INFER]",
                "leave generate_audio out (or false), or remove the reference video.",
            )
        )
    return problems
