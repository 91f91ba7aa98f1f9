"""Child of bench_download: one download in a fresh process, measured from the inside.

`python benchmarks/download_child.py MODE URL DEST` prints JSON: seconds, bytes, RSS before the
download and peak RSS during it (VmHWM, reset just before the call), and the CPU seconds it used.
MODE `imini` is `imini_mcp.files.downloads.download_file` as the server calls it (the threaded fast path);
`imini-httpx` is download_file given an httpx client (the path proxied URLs take); `bare` is the least
httpx can do (stream the raw chunks into the file on the event loop, then fsync).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import anyio
import httpx2

from imini_mcp.files import download_file
from imini_mcp.files.direct_get import _tls_context


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> None:
    # /proc/<pid>/clear_refs "5" sets VmHWM to the current RSS (Linux >= 4.0): the peak is then the call's.
    Path("/proc/self/clear_refs").write_text("5")


async def _bare(http: httpx2.AsyncClient, url: str, dest: Path) -> int:
    size = 0
    with dest.open("wb") as fh:
        async with http.stream("GET", url) as response:
            async for chunk in response.aiter_raw():
                fh.write(chunk)
                size += len(chunk)
        fh.flush()
        os.fsync(fh.fileno())
    return size


async def main(mode: str, url: str, dest: Path) -> dict[str, float]:
    async with httpx2.AsyncClient() as http:
        # Everything imported, the client and its thread pool warm: only the download itself is left.
        await anyio.to_thread.run_sync(lambda: None)
        _tls_context()  # built on first use by the fast path; an httpx client builds its own up front
        _reset_peak()
        before = _status_kib("VmRSS")
        cpu = os.times()
        started = time.perf_counter()
        if mode == "imini":
            size = (await download_file(None, url, dest, kind="video")).size
        elif mode == "imini-httpx":
            size = (await download_file(http, url, dest, kind="video")).size
        else:
            size = await _bare(http, url, dest)
        seconds = time.perf_counter() - started
        cpu_after = os.times()
    return {
        "seconds": seconds,
        "bytes": size,
        "rss_before": before * 1024,
        "peak_rss": _status_kib("VmHWM") * 1024,
        "cpu": (cpu_after.user - cpu.user) + (cpu_after.system - cpu.system),
    }


if __name__ == "__main__":
    print(json.dumps(anyio.run(main, sys.argv[1], sys.argv[2], Path(sys.argv[3]))))
