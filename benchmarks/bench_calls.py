"""2a. One tool call over stdio: `generate_video` with dry_run vs the echo server's echo call.

Both servers run side by side and the calls are interleaved one by one (echo, doc example, worst case,
echo, …), so a noisy moment on this 2-core machine costs every series alike. Each call is timed from
the write of the request line to the read of its answer line, by a raw JSON-RPC client.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from harness import (
    BENCH_DIR,
    BIN,
    PYTHON,
    Row,
    bench_env,
    bench_main,
    median,
    ms,
    progress,
    quantile,
    ratio_row,
    temp_dir,
)
from payloads import DOC_EXAMPLE, WORST_CASE, dry_run
from rawrpc import RawStdio, stdio_server

BENCH = "2 tool call"
GOAL = 1.5


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def run(quick: bool) -> list[Row]:
    calls = 100 if quick else 600
    warmup = 20 if quick else 60
    with temp_dir("bench-calls-") as root:
        log = root / "servers.log"
        imini_env = bench_env(
            IMINI_API_KEY="bench-dummy-key", IMINI_JOURNAL_PATH=str(root / "journal.sqlite3")
        )
        with (
            stdio_server(
                [PYTHON, str(BENCH_DIR / "echo_server.py")], env=bench_env(), cwd=root, log=log
            ) as echo,
            stdio_server([str(BIN / "imini-mcp")], env=imini_env, cwd=root, log=log) as imini,
        ):
            for client in (echo, imini):
                client.handshake()
                client.request("tools/list")
            doc, worst = dry_run(DOC_EXAMPLE), dry_run(WORST_CASE)

            def echo_call(c: RawStdio = echo) -> Any:
                return c.call_tool("echo", {"text": "hello"})

            def doc_call(c: RawStdio = imini) -> Any:
                return c.call_tool("generate_video", doc)

            def worst_call(c: RawStdio = imini) -> Any:
                return c.call_tool("generate_video", worst)

            series: dict[str, list[float]] = {"echo": [], "doc": [], "worst": []}
            plan = (("echo", echo_call), ("doc", doc_call), ("worst", worst_call))
            answer = doc_call()
            assert answer["structuredContent"]["submitted"] is False, "a dry run must not submit"
            for i in range(warmup + calls):
                for name, call in plan:
                    elapsed = _timed(call)
                    if i >= warmup:
                        series[name].append(elapsed)
                if i and i % 200 == 0:
                    progress(f"{i}/{warmup + calls} rounds of calls")

    base = median(series["echo"])
    base_p95 = quantile(series["echo"], 0.95)
    rows = [
        Row(
            BENCH,
            f"echo call over stdio (baseline), {calls} calls",
            f"median {ms(base)}",
            note=f"p95 {ms(base_p95)}",
        )
    ]
    for name, label, goal in (
        ("doc", "generate_video dry run, doc example", GOAL),
        ("worst", "generate_video dry run, worst case", None),
    ):
        values = series[name]
        p95 = quantile(values, 0.95)
        rows.append(
            ratio_row(
                BENCH,
                f"{label}: median",
                median(values),
                base,
                ms,
                goal_max=goal,
                note=f"p95 {ms(p95)} vs {ms(base_p95)} = {p95 / base_p95:.2f}×",
            )
        )
    return rows


if __name__ == "__main__":
    bench_main(run)
