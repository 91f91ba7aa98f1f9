"""The per-model rules: those every model shares, read from its catalogue entry (`fields.py`, `media.py`),
and the few that only one model family has, one module per family, registered here under the names
`ModelSpec.special` uses.

Adding a model with rules of its own: write its module (rule functions taking the parsed arguments, the
spec and the refused paths, returning `Problem`s; note functions taking a valid request and the spec), then
register them below under a new `SpecialRule` name (spec.py) and put that name in its catalogue entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from imini_mcp.request.problems import Problem
from imini_mcp.request.rules.fields import Args
from imini_mcp.request.rules.happyhorse import happyhorse_notes, happyhorse_problems
from imini_mcp.request.rules.kling import (
    camera_problems,
    storyboard_first_notes,
    storyboard_notes,
    storyboard_problems,
)
from imini_mcp.request.rules.motion_control import motion_control_notes, motion_control_problems
from imini_mcp.request.rules.omni import omni_problems
from imini_mcp.request.rules.seedance import seedance_notes, seedance_problems
from imini_mcp.request.schema import VideoRequest
from imini_mcp.request.spec import ModelSpec, SpecialRule

Rule = Callable[[Args, ModelSpec, list[str]], list[Problem]]
Notes = Callable[[VideoRequest, ModelSpec], list[str]]


def no_notes(req: VideoRequest, spec: ModelSpec) -> list[str]:
    return []


@dataclass(frozen=True)
class Special:
    """What one name in `ModelSpec.special` adds to the shared rules, each part at its place in the pipeline
    (check.py): the field checks, then the checks run before the reference-media counts (`before_media`),
    the counts, then the checks run after them (`after_media`)."""

    check: Rule
    before_media: bool = False  # True: a cross-field rule on extra_params, reported before the media counts
    # True: `check` says when the prompt is required (the shared check is skipped)
    checks_prompt: bool = False
    first_notes: Notes = no_notes  # notes before the shared ones (how imini reads this request)
    notes: Notes = no_notes  # notes after the shared ones (the model's limits not checked here)


SPECIALS: dict[SpecialRule, Special] = {
    "storyboard": Special(
        storyboard_problems,
        before_media=True,
        checks_prompt=True,
        first_notes=storyboard_first_notes,
        notes=storyboard_notes,
    ),
    "camera": Special(camera_problems, before_media=True),
    "omni": Special(omni_problems),
    "motion_control": Special(motion_control_problems, notes=motion_control_notes),
    "seedance": Special(seedance_problems, notes=seedance_notes),
    "happyhorse": Special(happyhorse_problems, notes=happyhorse_notes),
}


def specials_of(spec: ModelSpec) -> list[Special]:
    """The special rules of a model, in the order its catalogue entry names them."""
    return [SPECIALS[name] for name in spec.special]
