"""The README as a product: short, its links alive, its legend complete, its two commands the ones CI runs.

The commands themselves run elsewhere: the Quick start's in CI (`.ci/run` runs the test command word for word,
checked here), the Inspector's in test_inspector.py, the extension's packing command in test_packaging.py.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
MAX_LINES = 353  # half of the 706 lines it had grown to; reference material lives in docs/
MAX_WIDTH = 200

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
TAG = re.compile(r"\[([A-Z]{3,})\](?!\()")  # [DOC], not a link like [README](…)


def prose(text: str) -> str:
    """The text outside fenced code blocks and inline code: where Markdown links live."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(path: Path) -> set[str]:
    """The #anchors GitHub gives the headings of a Markdown file."""
    found: set[str] = set()
    for heading in re.findall(
        r"^#{1,6} (.+)$", re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M), re.M
    ):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in found:
            n += 1
            candidate = f"{slug}-{n}"
        found.add(candidate)
    return found


def quick_start() -> tuple[str, str]:
    """The Quick start's two commands: (install and run the server, run the tests)."""
    section = README.read_text().split("## Quick start", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2, commands
    return commands[0], commands[1]


def test_the_readme_reads_in_a_few_screens() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_LINES, f"{len(lines)} lines: move reference material into docs/"
    wide = [f"{n}: {len(line)}" for n, line in enumerate(lines, 1) if len(line) > MAX_WIDTH]
    assert not wide, f"lines wider than {MAX_WIDTH} characters: {wide}"


def test_every_relative_link_in_the_readme_and_docs_resolves() -> None:
    checked = 0
    for page in [README, *DOCS]:
        for target in LINK.findall(prose(page.read_text())):
            if re.match(r"[a-z]+:", target):  # https:, mailto: …
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(ROOT)} → {target}"
            assert resolved.exists(), f"{where}: no such file"
            assert resolved.is_relative_to(ROOT), where
            if anchor:
                assert resolved.suffix == ".md", where
                assert anchor in anchors(resolved), f"{where}: no such heading"
            checked += 1
    assert checked > 20  # the pattern still finds the links


def test_every_image_the_readme_shows_exists() -> None:
    """HTML <img> tags too (the link check reads Markdown links): the video view's screenshots, for one."""
    images = re.findall(r'<img src="([^"]+)"', README.read_text())
    assert len(images) >= 3
    assert not [src for src in images if not (ROOT / src).is_file()]


def test_the_readme_links_every_docs_page() -> None:
    linked = {
        (README.parent / target.partition("#")[0]).resolve() for target in LINK.findall(README.read_text())
    }
    assert not [page.name for page in DOCS if page.resolve() not in linked]


def test_the_legend_explains_every_tag_the_server_uses() -> None:
    """Rules, field descriptions and prices carry tags like [DOC]; the README's legend says what each means."""
    sources = [p for p in (ROOT / "imini_mcp").rglob("*") if p.suffix in {".py", ".json"}]
    used = {tag for path in [*sources, *DOCS] for tag in TAG.findall(path.read_text())}
    assert {"DOC", "UPSTREAM", "INFER", "SKILL"} <= used  # the pattern still finds them
    legend = README.read_text()  # its "Tags" section: one `- **[TAG]**: meaning` line each
    assert not [tag for tag in sorted(used) if f"- **[{tag}]**: " not in legend]


def test_running_the_server_does_not_install_the_test_tools() -> None:
    """Quick start's first command installs the package alone; the test stack comes with the test command."""
    serve, test = quick_start()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    installs = [shlex.split(part) for part in serve.split("&&") if " install " in part]
    assert installs == [[".venv/bin/pip", "install", "-e", "."]], installs
    assert serve.endswith(".venv/bin/imini-mcp --simulate")
    test_tools = {
        re.split(r"[<>=\[ ]", req)[0] for req in pyproject["project"]["optional-dependencies"]["test"]
    }
    runtime = {re.split(r"[<>=\[ ]", req)[0] for req in pyproject["project"]["dependencies"]}
    assert not test_tools & runtime
    assert '.venv/bin/pip install -e ".[test]"' in test
    assert test.endswith(".venv/bin/python -m pytest")


def test_ci_runs_the_readmes_test_command_word_for_word() -> None:
    """`.ci/run` ends with the README's test command, so CI's status is that command's."""
    _, test = quick_start()
    steps = [
        line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")
    ]
    assert steps[-1] == test
