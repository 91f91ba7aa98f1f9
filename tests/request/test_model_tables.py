"""Each model's tables, checked the same way: valid arguments become exactly the body in the table (and the
independent simulated imini accepts it), invalid ones are refused with exactly the problem paths in the table
and nothing is sent. The tables live with each model's other rules, in tests/request/test_<model>*.py."""

from __future__ import annotations

from typing import Any

import pytest

from imini_mcp.request import check_generate_arguments
from imini_mcp.simulator import validate_generate_request
from tests.request import (
    test_happyhorse_rules,
    test_kling_rules,
    test_kling_v3,
    test_motion_control_rules,
    test_omni_rules,
    test_seedance_rules,
)
from tests.request.builders import assert_refused, assert_sent

OTHER_MODELS = (test_omni_rules, test_motion_control_rules, test_seedance_rules, test_happyhorse_rules)
ALL_MODELS = (test_kling_v3, test_kling_rules, *OTHER_MODELS)


@pytest.mark.parametrize(("args", "body"), [case for table in ALL_MODELS for case in table.VALID])
def test_valid_arguments_become_this_exact_body(args: dict[str, Any], body: dict[str, Any]) -> None:
    """Valid arguments are sent as exactly this body."""
    assert_sent(args, body)


@pytest.mark.parametrize(("args", "body"), [case for table in OTHER_MODELS for case in table.VALID])
def test_the_simulated_imini_accepts_every_body_this_server_sends(
    args: dict[str, Any], body: dict[str, Any]
) -> None:
    """The independent simulated imini accepts each of these bodies."""
    assert validate_generate_request(check_generate_arguments(args).to_body()) == []


@pytest.mark.parametrize(("args", "paths"), [case for table in ALL_MODELS for case in table.INVALID])
def test_invalid_arguments_report_exactly_these_paths(args: dict[str, Any], paths: set[str]) -> None:
    """Invalid arguments are refused with exactly these problems, nothing sent."""
    assert_refused(args, paths)
