"""Strict JSON: parsing without NaN/Infinity, exact types, and the small checks every validator repeats."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NoReturn


def is_int(value: object) -> bool:
    """An integer, and not a bool (``5.0`` and ``True`` are not integers)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """A finite int or float, and not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def unknown_keys(obj: Mapping[str, Any], allowed: frozenset[str], where: str) -> list[str]:
    """One ``"where.key: unknown field"`` problem per key of ``obj`` outside ``allowed``, sorted."""
    prefix = f"{where}." if where else ""
    return [f"{prefix}{key}: unknown field" for key in sorted(set(obj) - allowed)]


def check_enum(
    obj: Mapping[str, Any], key: str, allowed: tuple[str, ...], where: str, problems: list[str]
) -> None:
    """If ``key`` is present, its value must be one of ``allowed``."""
    if key in obj and obj[key] not in allowed:
        problems.append(f"{where}{key}: must be one of {', '.join(allowed)} (got {obj[key]!r})")


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity (Python's json would otherwise accept them)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("body is not UTF-8") from exc
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(str(exc)) from exc
