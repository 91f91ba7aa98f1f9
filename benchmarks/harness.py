"""Shared pieces of the benchmarks: result rows, statistics, /proc readings, and subprocesses that always die.

Every benchmark module exposes `run(quick: bool) -> list[Row]` and ends with `bench_main(run)`, so
`run.py` can start it as its own process (a crash or leak in one benchmark cannot spoil the others)
and read its rows back as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent  # the venv's bin: imini-mcp lives next to its python
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------------
# Result rows


@dataclass
class Row:
    """One line of the final table. `ratio` is imini-mcp ÷ baseline (or the goal's own direction)."""

    bench: str
    measure: str
    value: str
    baseline: str = ""
    ratio: float | None = None
    goal: str = ""
    ok: bool | None = None  # None: informational, no goal
    note: str = ""


def ratio_row(
    bench: str,
    measure: str,
    value: float,
    baseline: float,
    fmt: Callable[[float], str],
    *,
    goal_max: float | None = None,
    goal_min: float | None = None,
    value_note: str = "",
    baseline_note: str = "",
    note: str = "",
) -> Row:
    """A row whose ratio is value/baseline, checked against an upper (goal_max) or lower (goal_min) bound."""
    ratio = value / baseline if baseline else float("inf")
    goal, ok = "", None
    if goal_max is not None:
        goal, ok = f"≤ {goal_max:g}×", ratio <= goal_max
    elif goal_min is not None:
        goal, ok = f"≥ {goal_min:g}×", ratio >= goal_min
    return Row(
        bench,
        measure,
        fmt(value) + value_note,
        fmt(baseline) + baseline_note,
        ratio,
        goal,
        ok,
        note,
    )


def ms(seconds: float) -> str:
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs"


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.1f} MiB"


# ---------------------------------------------------------------------------------------------------
# Statistics


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile (q in 0..1); robust enough for a few hundred samples."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float], fmt: Callable[[float], str]) -> str:
    return f"{fmt(min(values))}–{fmt(max(values))}"


# ---------------------------------------------------------------------------------------------------
# /proc readings (Linux): peak RSS and CPU time of another process, without psutil


def proc_status_kib(pid: int, field: str) -> int:
    """A `kB` field of /proc/<pid>/status, e.g. VmHWM (peak RSS) or VmRSS."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def peak_rss_bytes(pid: int) -> int:
    return proc_status_kib(pid, "VmHWM") * 1024


def reset_peak_rss(pid: int) -> bool:
    """Make VmHWM start again from the current RSS (Linux ≥ 4.0), so a later peak is this phase's own."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def rss_bytes(pid: int) -> int:
    return proc_status_kib(pid, "VmRSS") * 1024


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process (all its threads), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# ---------------------------------------------------------------------------------------------------
# Subprocesses and places


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for servers under test: none of the caller's IMINI_* settings leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMINI_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    # run.py points TMPDIR at its own folder and removes it at the end, even if this process is killed.
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)


def stop_process(proc: subprocess.Popen[Any], *, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; always reaps it and closes its pipes."""
    try:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=grace)
    finally:
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


@contextlib.contextmanager
def running(
    cmd: Sequence[str], *, log: Path | None = None, grace: float = 5.0, **popen: Any
) -> Iterator[subprocess.Popen[Any]]:
    """A subprocess that is stopped (and reaped) however the block ends. stderr goes to `log`."""
    log_file: IO[bytes] | None = log.open("ab") if log is not None else None
    try:
        proc = subprocess.Popen(list(cmd), stderr=log_file or subprocess.DEVNULL, **popen)
        try:
            yield proc
        except Exception as exc:
            if log is not None and log_file is not None:
                log_file.flush()
                tail = log.read_text(errors="replace").splitlines()[-8:]
                exc.add_note(f"stderr of {Path(cmd[0]).name} (last lines):\n  " + "\n  ".join(tail))
            raise
        finally:
            stop_process(proc, grace=grace)
    finally:
        if log_file is not None:
            log_file.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, *, timeout: float = 30.0, proc: subprocess.Popen[Any] | None = None) -> None:
    """Until `url` answers 2xx (a server's health route); fail early if `proc` died."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if 200 <= response.status < 300:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:g} s")
        time.sleep(0.05)


def http_json(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    """A tiny stdlib HTTP call for control endpoints (no client library in the measurement path)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


@contextlib.contextmanager
def simulator(
    log: Path, *, queued: float, processing: float, video_size: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[Any]]]:
    """`python -m imini_mcp.simulator` on a free loopback port; yields (API base URL, process)."""
    port = free_port()
    cmd = [PYTHON, "-m", "imini_mcp.simulator", "--port", str(port)]
    cmd += ["--queued-seconds", str(queued), "--processing-seconds", str(processing)]
    if video_size is not None:
        cmd += ["--video-size", str(video_size)]
    with running(cmd, log=log, env=bench_env(), cwd=log.parent) as proc:
        origin = f"http://127.0.0.1:{port}"
        wait_http(f"{origin}/_simulator/ledger", proc=proc)
        yield f"{origin}/imini/router", proc


# ---------------------------------------------------------------------------------------------------
# Entry point of one benchmark module


def progress(message: str) -> None:
    """A line on stderr, so a long run shows where it is (stdout stays free)."""
    print(f"  · {message}", file=sys.stderr, flush=True)


def bench_main(run: Callable[[bool], list[Row]]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--out", type=Path, help="write the rows here as JSON (run.py uses this)")
    args = parser.parse_args()
    rows = run(args.quick)
    if args.out is not None:
        args.out.write_text(json.dumps([asdict(r) for r in rows]))
    else:
        for row in rows:
            print(row)
