"""imini-mcp benchmarks: one command, everything on loopback, every figure next to a baseline of the same run.

    .venv/bin/python benchmarks/run.py            # full run (~5–8 min on 2 cores)
    .venv/bin/python benchmarks/run.py --quick    # smoke run, < 60 s
    .venv/bin/python benchmarks/run.py --only coldstart --only calls

Each benchmark runs as its own process, in its own process group, with TMPDIR pointing into one
temporary folder: whatever happens (a crash, a timeout, Ctrl-C), the group is killed and the folder
removed at the end. Bytecode caches go to that folder too (PYTHONPYCACHEPREFIX), so stale caches in
the tree do not slow a cold start and nothing outside benchmarks/ is written. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

from harness import BENCH_DIR, PYTHON, REPO, Row

# name → (module, time limit of a full run in seconds). The cold start goes first: its warm-up round
# also fills the bytecode cache that every later process uses.
BENCHMARKS: dict[str, tuple[str, int]] = {
    "coldstart": ("bench_coldstart", 240),
    "calls": ("bench_calls", 120),
    "validation": ("bench_validation", 60),
    "polling": ("bench_polling", 60),
    "concurrency": ("bench_concurrency", 420),
    "download": ("bench_download", 180),
    "journal": ("bench_journal", 180),
    "fleet": ("bench_fleet", 420),
    "schema": ("bench_schema", 60),
}


def _shown_path(path: str) -> str:
    """A path inside the repo relative to it: the output is pasted into README files."""
    shown = Path(path)  # not resolved: a venv's python is a link to the interpreter elsewhere
    return str(shown.relative_to(REPO)) if shown.is_relative_to(REPO) else shown.name


def machine_facts() -> list[tuple[str, str]]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem = f"{kib / 2**20:.1f} GiB"
    curl = "not found"
    if shutil.which("curl"):
        curl = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
        curl = " ".join(curl.split()[:2])
    # Read-only git queries; GIT_OPTIONAL_LOCKS=0 stops `git status` from refreshing the index.
    git_env = os.environ | {"GIT_OPTIONAL_LOCKS": "0"}
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, env=git_env
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "imini_mcp"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=git_env,
    ).stdout.splitlines()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        ("CPU", f"{cpu}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable)"),
        ("memory", mem),
        ("OS", f"{platform.system()} {platform.release()}"),
        (
            "Python",
            f"{platform.python_implementation()} {platform.python_version()} ({_shown_path(sys.executable)})",
        ),
        (
            "packages",
            ", ".join(
                f"{name} {version(name)}" for name in ("mcp", "pydantic", "httpx2", "uvicorn", "anyio")
            ),
        ),
        ("SQLite", sqlite3.sqlite_version),
        ("curl", curl),
        (
            "imini-mcp",
            f"{version('imini-mcp')} at {commit or '?'}"
            + (f", {len(dirty)} files changed in imini_mcp/" if dirty else ""),
        ),
        ("load average at start", load),
    ]


def run_one(name: str, quick: bool, root: Path) -> tuple[list[Row], str | None, float]:
    """Run one benchmark process; return its rows, an error message (or None) and its wall time."""
    module, limit = BENCHMARKS[name]
    out = root / f"{name}.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"TMPDIR": str(root), "PYTHONPYCACHEPREFIX": str(root / "pycache")}
    cmd = [PYTHON, str(BENCH_DIR / f"{module}.py"), "--out", str(out)] + (["--quick"] if quick else [])
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=BENCH_DIR, env=env, start_new_session=True)
    error: str | None = None
    try:
        code = proc.wait(timeout=90 if quick else limit)
        if code != 0:
            error = f"exited with {code}"
    except subprocess.TimeoutExpired:
        error = f"timed out after {90 if quick else limit} s"
    finally:
        _kill_group(proc)
    elapsed = time.monotonic() - started
    if error is None:
        try:
            return [Row(**r) for r in json.loads(out.read_text())], None, elapsed
        except (OSError, ValueError, TypeError) as exc:
            error = f"unreadable results: {exc}"
    return [], error, elapsed


def _kill_group(proc: subprocess.Popen[Any]) -> None:
    """The benchmark and every server it started share one process group: end them all (by group id).

    After a normal exit the group is already empty; after a timeout or Ctrl-C this is the cleanup.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    time.sleep(0.2)  # let servers that got the SIGTERM exit on their own first
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


# ---------------------------------------------------------------------------------------------------
# Output


def _ratio(row: Row) -> str:
    return "" if row.ratio is None else f"{row.ratio:.2f}×"


def _met(row: Row) -> str:
    return {True: "yes", False: "**NO**", None: ""}[row.ok]


def markdown_table(rows: list[Row]) -> str:
    head = "| benchmark | measure | imini-mcp | baseline | ratio | goal | met | note |"
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = [r.bench, r.measure, r.value, r.baseline, _ratio(r), r.goal, _met(r), r.note]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (< 60 s)")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(BENCHMARKS),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--json", type=Path, help="also write the rows (and machine facts) to this file")
    args = parser.parse_args()
    names = args.only or list(BENCHMARKS)
    # Ctrl-C and a plain `kill` must both reach the cleanup below (SIGINT may arrive ignored when
    # started in the background; SIGTERM would otherwise end this process without it).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)

    facts = machine_facts()
    print(f"# imini-mcp benchmarks ({'quick' if args.quick else 'full'} run)\n")
    for key, value in facts:
        print(f"- {key}: {value}")
    print(flush=True)

    rows: list[Row] = []
    errors: list[str] = []
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="imini-bench-"))
    try:
        for name in names:
            print(f"## {name} …", file=sys.stderr, flush=True)
            got, error, elapsed = run_one(name, args.quick, root)
            rows += got
            if error is not None:
                errors.append(f"{name}: {error}")
                rows.append(Row(BENCHMARKS[name][0], "FAILED", error))
            print(f"## {name}: {elapsed:.0f} s{f' — {error}' if error else ''}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        errors.append("interrupted")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    total = time.monotonic() - started

    print(markdown_table(rows))
    goals = [r for r in rows if r.ok is not None]
    missed = [r for r in goals if not r.ok]
    print(f"\nGoals: {len(goals) - len(missed)} of {len(goals)} met.")
    for r in missed:
        print(f"- MISSED: {r.bench} / {r.measure}: {r.value} vs {r.baseline} ({_ratio(r)}), goal {r.goal}")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nTotal {total:.0f} s; load average at the end {load}.")
    if args.json is not None:
        args.json.write_text(
            json.dumps({"facts": dict(facts), "rows": [asdict(r) for r in rows], "seconds": total}, indent=1)
        )
    for error in errors:
        print(f"ERROR {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
