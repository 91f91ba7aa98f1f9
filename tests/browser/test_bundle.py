"""The view the package ships (imini_mcp/mcp/apps/view.html): what its sources in web/viewer/ build to, byte
for byte; well under the 1 MiB some hosts refuse; one self-contained file that fetches nothing at run time.

Rebuilding needs node and the view's node packages (scripts/install-node-tools.sh installs them): without
them those tests are skipped, and in CI (CI=true) they fail.
"""

from __future__ import annotations

import gzip
import re
import subprocess
from pathlib import Path

from imini_mcp.mcp.apps import view
from tests.browser.conftest import VIEWER, need, node

SHIPPED = Path(view.__file__).parent / view.VIEW_FILE
MAX_BYTES = 500_000


def built(tmp_path: Path) -> bytes:
    runtime = node()
    need(runtime and (VIEWER / "node_modules" / "esbuild").exists(), "no node or web/viewer/node_modules")
    out = tmp_path / "view.html"
    subprocess.run([runtime, "build.mjs", "--out", str(out)], cwd=VIEWER, check=True, capture_output=True)  # type: ignore[list-item]
    return out.read_bytes()


def test_the_shipped_view_is_what_its_sources_build_to(tmp_path: Path) -> None:
    assert built(tmp_path) == SHIPPED.read_bytes(), "rebuild it: cd web/viewer && node build.mjs"


def test_the_view_sources_type_check() -> None:
    runtime = node()
    need(runtime and (VIEWER / "node_modules" / "typescript").exists(), "no node or web/viewer/node_modules")
    checked = subprocess.run(
        [runtime, "node_modules/typescript/bin/tsc", "-p", "."],
        cwd=VIEWER,
        capture_output=True,
        text=True,  # type: ignore[list-item]
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_view_is_one_small_file_that_loads_nothing() -> None:
    html = SHIPPED.read_text(encoding="utf-8")
    size = len(html.encode())
    print(f"view.html: {size:,} bytes, {len(gzip.compress(html.encode(), 9)):,} gzipped")
    assert size <= MAX_BYTES, size
    # No script, style sheet, font or module from elsewhere: everything is inline.
    assert re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", html) == ['<script type="module">']
    for fetched in (
        r"<link\b",
        r"\bsrc=[\"']?https?:",
        r"@import",
        r"@font-face",
        r"url\(\s*[\"']?https?:",
        r"\bimport\(\s*[\"']https?:",
    ):
        assert not re.search(fetched, html), fetched
