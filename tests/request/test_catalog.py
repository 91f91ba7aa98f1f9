"""The catalogue (catalog.py, spec.py) and the registry of special rules (rules/__init__.py), as a
specification: every special name has its rules, the texts of an entry state its own numbers, and the
README and the simulated imini know the same models."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import pytest

from imini_mcp.request import CATALOG, MODEL_IDS, ModelSpec
from imini_mcp.request.rules import SPECIALS
from imini_mcp.request.spec import SpecialRule
from imini_mcp.simulator import MODELS as SIMULATED_MODELS
from tests.request.builders import SEED, problems_of

USED = {name for spec in CATALOG.values() for name in spec.special}


def test_every_special_name_of_the_catalogue_has_registered_rules() -> None:
    """A name in an entry's `special` is a rule that runs: it is registered in rules/__init__.py."""
    assert sorted(USED - set(SPECIALS)) == []


def test_every_registered_rule_is_used_by_some_model() -> None:
    """No registered rule is dead: some catalogue entry names it."""
    assert sorted(set(SPECIALS) - USED) == []


def test_the_special_names_are_the_registered_ones() -> None:
    """`SpecialRule` (spec.py) lists exactly the registered names."""
    assert set(get_args(SpecialRule)) == set(SPECIALS)


# The numbers an entry's own texts (use, modes, rules, notes) state, and the attributes they must equal.
NUMBERS: list[tuple[str, Callable[[ModelSpec], tuple[str, ...]]]] = [
    (r"prompt (?:required and )?≤ (\d+) characters", lambda s: (str(s.max_prompt),)),
    (r"(\d+)-character prompts", lambda s: (str(s.max_prompt),)),
    (r"resolution ((?:\w+ \| )+\w+)", lambda s: (" | ".join(s.resolutions),)),
    (r"resolution [\w| ]+ \(default (\w+)\)", lambda s: (s.default_resolution,)),
    (r"aspect_ratio ((?:[\w:]+ \| )+[\w:]+)", lambda s: (" | ".join(s.aspect_ratios),)),
    (r"aspect_ratio [\w:| ]+ \(default ([\w:]+)\)", lambda s: (str(s.default_aspect_ratio),)),
    (
        r"duration (\d+)–(\d+) s \(default (\d+)\)",
        lambda s: (*map(str, s.duration or ()), str(s.default_duration)),
    ),
    (r"reference_images ≤ (\d+)", lambda s: (str(s.max_images),)),
    (r"up to (\d+) (?:reference )?images", lambda s: (str(s.max_images),)),
    (r"reference_videos(?::| \() ?(?:at most|≤) (\d+)", lambda s: (str(s.max_videos),)),
    (r"reference_audios \(≤ (\d+)", lambda s: (str(s.max_audios),)),
]


@pytest.mark.parametrize(("pattern", "expected"), [pytest.param(*row, id=row[0]) for row in NUMBERS])
def test_an_entrys_texts_state_its_own_numbers(
    pattern: str, expected: Callable[[ModelSpec], tuple[str, ...]]
) -> None:
    """Wherever an entry's words state a limit or default, it is the entry's own value."""
    stated = 0
    for spec in CATALOG.values():
        for found in re.findall(pattern, " ".join([spec.use, *spec.modes, *spec.rules, *spec.notes])):
            assert (found if isinstance(found, tuple) else (found,)) == expected(spec), (spec.id, found)
            stated += 1
    assert stated  # the pattern still finds what it checks


def test_the_simulator_knows_the_same_models() -> None:
    """The independent simulated imini serves exactly the catalogued models."""
    assert SIMULATED_MODELS == MODEL_IDS


def test_the_models_page_lists_every_models_rules_and_notes() -> None:
    """docs/models.md (the README links it) lists each model with its rules and notes, and a refused field."""
    readme = (Path(__file__).parents[2] / "docs" / "models.md").read_text()
    for model, spec in CATALOG.items():
        assert f"### `{model}`" in readme, model
        for line in [*spec.rules, *(f"Note: {note}" for note in spec.notes)]:
            assert f"- {line}\n" in readme, (model, line)
    refused = str(
        problems_of({"model": SEED, "prompt": "p", "extra_params": {"camera_control": {"type": "down_back"}}})
    ).splitlines()[1]
    assert f"\n{refused}\n" in readme
