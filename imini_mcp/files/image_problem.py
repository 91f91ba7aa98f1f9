"""What a refused reference image reports: :class:`ImageProblem`, the rule it breaks and how to fix it.

Shared by the path checks (:mod:`imini_mcp.files.local_paths`) and the image checks
(:mod:`imini_mcp.files.images`), so both speak the same way.
"""

from __future__ import annotations

__all__ = ["ImageProblem", "clip"]


class ImageProblem(Exception):
    """One reference image breaks a rule. ``message`` says what and names the file; ``fix`` says what to do."""

    def __init__(self, message: str, fix: str) -> None:
        self.message = message
        self.fix = fix
        super().__init__(f"{message} Fix: {fix}")


def clip(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters for a message (a data URI may be megabytes long)."""
    return text if len(text) <= limit else text[:limit] + "…"
