"""Reference media checks: ``reference_images`` (with their roles), ``reference_videos``, ``reference_audios``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imini_mcp.simulator.checks import unknown_keys
from imini_mcp.simulator.model_rules import REFERENCE_TYPES, ModelRules

_URL_PREFIXES = ("https://", "http://", "data:image/")
_MEDIA_URL_PREFIXES = ("https://", "http://")


def check_reference_images(body: Mapping[str, Any], rules: ModelRules, problems: list[str]) -> list[str]:
    """Validates ``reference_images`` and returns the valid roles seen (for cross-field rules)."""
    low, high = rules.images
    if "reference_images" not in body:
        if low:
            problems.append(f"reference_images: required (exactly {low} image)")
        return []
    images = body["reference_images"]
    if not isinstance(images, list):
        problems.append("reference_images: must be an array")
        return []
    if len(images) > high:
        problems.append(f"reference_images: at most {high} images (got {len(images)})")
    elif len(images) < low:
        problems.append(f"reference_images: at least {low} image (got {len(images)})")
    roles: list[str] = []
    for i, item in enumerate(images):
        role = _check_image(item, f"reference_images[{i}]", rules.roles, problems)
        if role is not None:
            roles.append(role)
    if rules.roles:
        _check_roles(roles, problems)
    return roles


def _check_image(item: object, where: str, allowed_roles: tuple[str, ...], problems: list[str]) -> str | None:
    """One ``{url, reference_type}`` image; returns its role if valid ("asset" where images have none)."""
    if not isinstance(item, dict):
        problems.append(f"{where}: must be an object {{url, reference_type}}")
        return None
    allowed = frozenset({"url", "reference_type"} if allowed_roles else {"url"})
    problems.extend(unknown_keys(item, allowed, where))
    url = item.get("url")
    if "url" not in item:
        problems.append(f"{where}.url: required")
    elif not isinstance(url, str) or not url.startswith(_URL_PREFIXES):
        problems.append(f"{where}.url: must be an http(s) URL or a data:image/... URI")
    if not allowed_roles:
        return "asset"  # the one character image of motion control has no role
    if "reference_type" not in item:
        problems.append(f"{where}.reference_type: required ({', '.join(allowed_roles)})")
        return None
    role = item["reference_type"]
    if role not in allowed_roles:
        problems.append(f"{where}.reference_type: must be one of {', '.join(allowed_roles)} (got {role!r})")
        return None
    valid: str = role
    return valid


def _check_roles(roles: list[str], problems: list[str]) -> None:
    """Assets exclude frames; at most one first and one last frame; a last frame needs a first."""
    firsts, lasts, assets = (roles.count(r) for r in REFERENCE_TYPES)
    if assets and (firsts or lasts):
        problems.append("reference_images: asset images cannot be mixed with first_frame/last_frame images")
    else:
        if firsts > 1:
            problems.append("reference_images: at most one first_frame image")
        if lasts > 1:
            problems.append("reference_images: at most one last_frame image")
        if lasts and not firsts:
            problems.append("reference_images: a last_frame image requires a first_frame image")


def check_media(
    body: Mapping[str, Any],
    key: str,
    counts: tuple[int, int],
    refer_types: tuple[str, ...],
    problems: list[str],
) -> list[Mapping[str, Any]]:
    """Validates ``reference_videos`` / ``reference_audios``; returns the items that are valid objects."""
    low, high = counts
    if not high:
        return []  # not a field of this model: reported as an unknown field
    if key not in body:
        if low:
            problems.append(f"{key}: required (exactly {low})")
        return []
    items = body[key]
    if not isinstance(items, list):
        problems.append(f"{key}: must be an array")
        return []
    if len(items) > high:
        problems.append(f"{key}: at most {high} (got {len(items)})")
    elif len(items) < low:
        problems.append(f"{key}: at least {low} (got {len(items)})")
    valid: list[Mapping[str, Any]] = []
    for i, item in enumerate(items):
        where = f"{key}[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object {{url}}")
            continue
        problems.extend(
            unknown_keys(item, frozenset({"url", "refer_type"} if refer_types else {"url"}), where)
        )
        url = item.get("url")
        if "url" not in item:
            problems.append(f"{where}.url: required")
        elif not isinstance(url, str) or not url.startswith(_MEDIA_URL_PREFIXES):
            problems.append(f"{where}.url: must be a public http(s) URL")
        if refer_types and item.get("refer_type") not in refer_types:
            problems.append(f"{where}.refer_type: must be one of {', '.join(refer_types)}")
        valid.append(item)
    return valid
