"""1. stdio cold start: spawn → initialize → first `tools/list` answer, imini-mcp vs a bare echo MCPServer.

Runs are interleaved round by round (in a shuffled order), after one discarded warm-up round, so drift
on this noisy machine hits every variant alike. Then, to explain the difference, the same start is cut
into phases in-process, and `python -X importtime` says which packages imini-mcp adds over the echo server.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from harness import (
    BENCH_DIR,
    BIN,
    PYTHON,
    Row,
    bench_env,
    bench_main,
    median,
    mib,
    ms,
    progress,
    ratio_row,
    rss_bytes,
    spread,
    temp_dir,
)
from rawrpc import stdio_server

BENCH = "1 cold start"
GOAL = 1.10  # by the paired median: the same-round ratios cancel the machine's drift
DUMMY_KEY = "bench-dummy-key-not-real"


def _variants(root: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    imini = str(BIN / "imini-mcp")
    return {
        "echo": ([PYTHON, str(BENCH_DIR / "echo_server.py")], bench_env()),
        "imini": (
            [imini],
            bench_env(IMINI_API_KEY=DUMMY_KEY, IMINI_JOURNAL_PATH=str(root / "key" / "journal.sqlite3")),
        ),
        "simulate": (
            [imini, "--simulate"],
            bench_env(IMINI_JOURNAL_PATH=str(root / "sim" / "journal.sqlite3")),
        ),
    }


def _one_start(cmd: list[str], env: dict[str, str], root: Path) -> tuple[float, int, int, int]:
    """Seconds from spawn to the tools/list answer, the server's RSS then, the answer's size and tool count."""
    started = time.perf_counter()
    with stdio_server(cmd, env=env, cwd=root, log=root / "servers.log") as client:
        client.handshake()
        tools = client.request("tools/list")["tools"]
        elapsed = time.perf_counter() - started
        assert tools, "no tools listed"
        return elapsed, rss_bytes(client.proc.pid), client.last_size, len(tools)


def _interpreter_start(runs: int) -> float:
    """Spawn → exit of `python -c pass` in this venv: the floor under every cold start."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([PYTHON, "-c", "pass"], check=True, timeout=60)
        times.append(time.perf_counter() - started)
    return median(times)


# ---------------------------------------------------------------------------------------------------
# Phases, measured inside a fresh interpreter (phases.py)


def _phase_runs(kind: str, runs: int, root: Path) -> dict[str, float]:
    samples: dict[str, list[float]] = defaultdict(list)
    env = bench_env(IMINI_API_KEY=DUMMY_KEY, IMINI_JOURNAL_PATH=str(root / "phases" / "journal.sqlite3"))
    for _ in range(runs):
        out = subprocess.run(
            [PYTHON, str(BENCH_DIR / "phases.py"), kind],
            env=env,
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        for name, value in json.loads(out).items():
            samples[name].append(value)
    return {name: median(values) for name, values in samples.items()}


# ---------------------------------------------------------------------------------------------------
# Which packages imini-mcp adds (python -X importtime)

ECHO_IMPORTS = "import mcp.server.mcpserver"
IMINI_IMPORTS = "import mcp.server.mcpserver, imini_mcp.cli, imini_mcp.mcp.server"


def _importtime(code: str, root: Path) -> dict[str, int]:
    """module → self time in µs, from one `-X importtime` run."""
    err = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", code],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stderr
    modules: dict[str, int] = {}
    for line in err.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        self_us, _cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        if self_us.isdigit():
            modules[name] = int(self_us)
    return modules


def _extra_imports(runs: int, root: Path) -> tuple[dict[str, float], float]:
    """Median self time (s) per top-level package imported by imini-mcp but not by the echo server."""
    per_package: dict[str, list[float]] = defaultdict(list)
    totals: list[float] = []
    for _ in range(runs):
        echo = _importtime(ECHO_IMPORTS, root)
        imini = _importtime(IMINI_IMPORTS, root)
        sums: dict[str, float] = defaultdict(float)
        for name, self_us in imini.items():
            if name not in echo:
                # The project's own modules one by one, everything else by top-level package.
                parts = name.split(".")
                key = ".".join(parts[:2]) if parts[0] == "imini_mcp" else parts[0]
                sums[key] += self_us / 1e6
        for package, value in sums.items():
            per_package[package].append(value)
        totals.append(sum(sums.values()))
    return {p: median(v + [0.0] * (runs - len(v))) for p, v in per_package.items()}, median(totals)


# ---------------------------------------------------------------------------------------------------


def run(quick: bool) -> list[Row]:
    rounds = 2 if quick else 20
    rows: list[Row] = []
    with temp_dir("bench-coldstart-") as root:
        variants = _variants(root)
        times: dict[str, list[float]] = defaultdict(list)
        rss: dict[str, list[int]] = defaultdict(list)
        size: dict[str, int] = {}
        count: dict[str, int] = {}
        order = list(variants)
        rng = random.Random(7)
        for round_no in range(rounds + 1):  # round 0 warms the page cache and creates the journals
            rng.shuffle(order)
            for name in order:
                cmd, env = variants[name]
                elapsed, resident, size[name], count[name] = _one_start(cmd, env, root)
                if round_no > 0:
                    times[name].append(elapsed)
                    rss[name].append(resident)
            if round_no:
                progress(f"cold start round {round_no}/{rounds}")

        echo = median(times["echo"])
        for name, label in (("imini", "imini-mcp (dummy key)"), ("simulate", "imini-mcp --simulate")):
            # Same-round ratios cancel slow drift of the machine; their median is a second opinion.
            # The goal is judged on these paired ratios (the ratio of the two medians is in the note).
            paired = median([a / b for a, b in zip(times[name], times["echo"], strict=True)])
            row = ratio_row(
                BENCH,
                f"spawn → tools/list, {label}, median of {rounds}; ratio = median of same-round ratios",
                median(times[name]),
                echo,
                ms,
                note=f"spread {spread(times[name], ms)}, echo {spread(times['echo'], ms)}; "
                f"ratio of the medians {median(times[name]) / echo:.2f}×",
            )
            rows.append(replace(row, ratio=paired, goal=f"≤ {GOAL:g}×", ok=paired <= GOAL))
        rows.append(
            ratio_row(
                BENCH,
                "RSS after first tools/list (dummy key)",
                median(rss["imini"]),
                median(rss["echo"]),
                mib,
            )
        )
        rows.append(
            ratio_row(
                BENCH,
                "tools/list answer size",
                size["imini"],
                size["echo"],
                lambda n: f"{n / 1024:.1f} KiB",
                note=f"{count['imini']} tools with full schemas vs {count['echo']} echo tool",
            )
        )

        progress("phases and import times")
        floor = _interpreter_start(3 if quick else 9)
        rows.append(Row(BENCH, "phase: interpreter start (python -c pass)", ms(floor), note="shared floor"))
        phase_runs = 1 if quick else 5
        imini_phases = _phase_runs("imini", phase_runs, root)
        echo_phases = _phase_runs("echo", phase_runs, root)
        for phase, value in imini_phases.items():
            if phase not in echo_phases:  # a detail of the phase above
                rows.append(Row(BENCH, f"phase: {phase}", ms(value)))
                continue
            base = echo_phases[phase]
            rows.append(
                Row(
                    BENCH,
                    f"phase: {phase}",
                    ms(value),
                    ms(base),
                    value / base if base > 0.0005 else None,
                    note=f"{(value - base) * 1000:+.0f} ms vs echo",
                )
            )
        packages, extra_total = _extra_imports(1 if quick else 5, root)
        top = sorted(packages.items(), key=lambda item: item[1], reverse=True)[:12]
        rows.append(
            Row(
                BENCH,
                "imports only imini-mcp needs (self time, sum)",
                ms(extra_total),
                note="python -X importtime; medians; top packages below",
            )
        )
        rows.extend(Row(BENCH, f"  import {package}", ms(value), note="self time") for package, value in top)
    return rows


if __name__ == "__main__":
    bench_main(run)
