"""5. A large result download: `imini_mcp.files.downloads.download_file` vs `curl -o`, same loopback URL.

The simulator serves a synthetic MP4 of exactly 200 MiB. Runs alternate curl / download_file, each
into a fresh file that is deleted afterwards. download_file runs in its own process
(download_child.py), which reports its peak RSS growth during the call. download_file fsyncs the file
before renaming it into place and curl does not, so "curl + fsync" is shown as a second baseline. The
httpx path (what a proxied URL takes) is measured too, against a bare httpx stream (+ fsync): the floor
for any httpx-based download.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from harness import (
    BENCH_DIR,
    PYTHON,
    Row,
    bench_env,
    bench_main,
    http_json,
    median,
    mib,
    progress,
    ratio_row,
    simulator,
    temp_dir,
)

BENCH = "5 download"
THROUGHPUT_GOAL = 0.8
RSS_GOAL = 32 * 2**20


def _video_url(sim_url: str) -> str:
    receipt = http_json(
        "POST",
        f"{sim_url}/v1/videos/generate",
        {"model": "kling/kling-v3", "prompt": "a large file"},
        {"Authorization": "Bearer bench"},
    )
    task = http_json(
        "GET", f"{sim_url}/v1/videos/tasks/{receipt['task_id']}", headers={"Authorization": "Bearer bench"}
    )
    assert task["status"] == "succeeded", task
    return str(task["videos"][0]["url"])


def _curl(url: str, dest: Path) -> tuple[float, float, int]:
    """Seconds for curl, seconds for a following fsync, and curl's peak RSS (bytes)."""
    started = time.perf_counter()
    # --max-time: wait4 has no timeout of its own, so curl must not be able to hang.
    proc = subprocess.Popen(["curl", "-sS", "--fail", "--max-time", "120", "-o", str(dest), url])
    try:
        _, status, usage = os.wait4(proc.pid, 0)  # wait4: the child's own peak RSS comes with it
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"curl exited with {proc.returncode}")
    started = time.perf_counter()
    fd = os.open(dest, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return elapsed, time.perf_counter() - started, usage.ru_maxrss * 1024


def _python(mode: str, url: str, dest: Path, cwd: Path) -> dict[str, float]:
    out = subprocess.run(
        [PYTHON, str(BENCH_DIR / "download_child.py"), mode, url, str(dest)],
        env=bench_env(),
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def run(quick: bool) -> list[Row]:
    size = (64 if quick else 200) * 2**20
    runs = 1 if quick else 5
    curl_s: list[float] = []
    fsync_s: list[float] = []
    curl_rss: list[int] = []
    py: list[dict[str, float]] = []
    via_httpx: list[dict[str, float]] = []
    bare: list[dict[str, float]] = []
    with (
        temp_dir("bench-download-") as root,
        simulator(root / "simulator.log", queued=0, processing=0, video_size=size) as (sim_url, _),
    ):
        url = _video_url(sim_url)
        for i in range(runs + 1):  # the first pair only warms up
            dest = root / "curl.mp4"
            seconds, fsync, peak = _curl(url, dest)
            assert dest.stat().st_size == size
            dest.unlink()
            result = _python("imini", url, root / "python.mp4", root)
            assert result["bytes"] == size
            (root / "python.mp4").unlink()
            proxied = _python("imini-httpx", url, root / "httpx.mp4", root)
            assert proxied["bytes"] == size
            (root / "httpx.mp4").unlink()
            floor = _python("bare", url, root / "bare.mp4", root)
            assert floor["bytes"] == size
            (root / "bare.mp4").unlink()
            if i:
                curl_s.append(seconds)
                fsync_s.append(fsync)
                curl_rss.append(peak)
                py.append(result)
                via_httpx.append(proxied)
                bare.append(floor)
                progress(
                    f"download {i}/{runs}: curl {seconds:.2f} s, download_file {result['seconds']:.2f} s"
                )

    def rate(seconds: float) -> str:
        return f"{size / seconds / 2**20:.0f} MiB/s"

    py_s = median([r["seconds"] for r in py])
    curl_med = median(curl_s)
    synced = median([c + f for c, f in zip(curl_s, fsync_s, strict=True)])
    growth = max(r["peak_rss"] - r["rss_before"] for r in py)
    label = f"{size // 2**20} MiB"
    return [
        ratio_row(
            BENCH,
            f"{label} throughput, download_file vs curl -o",
            1 / py_s,
            1 / curl_med,
            lambda inv: rate(1 / inv),
            goal_min=THROUGHPUT_GOAL,
            note=f"median of {runs}; {median([r['cpu'] for r in py]):.2f} CPU s in download_file",
        ),
        ratio_row(
            BENCH,
            f"{label} throughput, download_file vs curl -o + fsync",
            1 / py_s,
            1 / synced,
            lambda inv: rate(1 / inv),
            note=f"fsync of the curl file took {median(fsync_s) * 1000:.0f} ms",
        ),
        ratio_row(
            BENCH,
            f"{label} throughput, download_file given an httpx client (proxied URLs) vs bare httpx + fsync",
            1 / median([r["seconds"] for r in via_httpx]),
            1 / median([r["seconds"] for r in bare]),
            lambda inv: rate(1 / inv),
            note="what download_file adds to httpx (bare: aiter_raw → file on the event loop)",
        ),
        Row(
            BENCH,
            f"{label}: peak RSS growth of the downloading process",
            mib(growth),
            f"curl peak RSS {mib(max(curl_rss))}",
            None,
            f"≤ {mib(RSS_GOAL)}",
            growth <= RSS_GOAL,
            "VmHWM reset just before download_file, worst of the runs",
        ),
    ]


if __name__ == "__main__":
    bench_main(run)
