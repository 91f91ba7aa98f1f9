"""What a refused call reports: each `Problem` (where, what, how to fix it) and all of them at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the arguments: where, what, and how to fix it."""

    path: str
    problem: str
    fix: str

    def render(self) -> str:
        return f"{self.path}: {self.problem} Fix: {self.fix}"


def format_path(loc: Iterable[str | int]) -> str:
    """`("extra_params", "multi_prompt", 1, "duration")` → `extra_params.multi_prompt[1].duration`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(arguments)"


class InvalidArguments(Exception):
    """The arguments break one or more rules; the call did nothing."""

    def __init__(self, problems: list[Problem], headline: str = "Nothing was done.") -> None:
        self.problems = problems
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        lines = [f"{headline} {count} to fix:"]
        lines += [f"{n}. {p.render()}" for n, p in enumerate(problems, start=1)]
        super().__init__("\n".join(lines))
