"""``python -m imini_mcp.simulator``: a standalone simulated imini on a real port."""

from __future__ import annotations

import argparse
import signal
import sys

import anyio

from imini_mcp.simulator.app import Simulator
from imini_mcp.simulator.config import SimulatorConfig
from imini_mcp.simulator.serve import serve_simulator


def main(argv: list[str] | None = None) -> int:
    """``python -m imini_mcp.simulator``: serve until SIGINT/SIGTERM; prints the base URL to stderr."""
    parser = argparse.ArgumentParser(prog="python -m imini_mcp.simulator", description="Simulated imini API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--queued-seconds", type=float, default=2.0)
    parser.add_argument("--processing-seconds", type=float, default=8.0)
    parser.add_argument("--video-size", type=int, default=None, help="serve a synthetic MP4 of N bytes")
    parser.add_argument("--api-key", default=None, help="require this Bearer token (default: accept any)")
    args = parser.parse_args(argv)
    sim = Simulator(
        SimulatorConfig(
            api_key=args.api_key,
            queued_seconds=args.queued_seconds,
            processing_seconds=args.processing_seconds,
            video_size=args.video_size,
        )
    )

    async def run() -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with serve_simulator(sim, args.host, args.port) as base_url:
                print(base_url, file=sys.stderr, flush=True)
                async for _ in signals:
                    break

    anyio.run(run)
    return 0
