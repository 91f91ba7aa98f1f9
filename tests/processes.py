"""Running imini-mcp as a real process in tests: free loopback ports and an HTTP server subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2


def free_port() -> int:
    """A loopback port nobody listens on (also good as a 'connection refused' target)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    base: str  # http://127.0.0.1:PORT

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"


@contextmanager
def http_server_process(
    tmp: Path, *args: str, env: dict[str, str] | None = None, stderr: Path | None = None
) -> Iterator[ServerProcess]:
    """`imini-mcp --simulate --transport streamable-http` on a free port, up (healthz) before it is yielded;
    its stderr goes to the file `stderr`, if given."""
    port = free_port()
    environment = (
        os.environ
        | {"IMINI_JOURNAL_PATH": str(tmp / "journal.sqlite3"), "IMINI_LOG_LEVEL": "WARNING", "HOME": str(tmp)}
        | (env or {})
    )
    command = [
        sys.executable,
        "-m",
        "imini_mcp",
        "--simulate",
        "--transport",
        "streamable-http",
        "--port",
        str(port),
        *args,
    ]
    with stderr.open("wb") if stderr is not None else open(os.devnull, "wb") as log:
        yield from _serving(subprocess.Popen(command, env=environment, stderr=log), port)


def _serving(process: subprocess.Popen[bytes], port: int) -> Iterator[ServerProcess]:
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx2.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx2.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"imini-mcp did not come up on {base}") from None
                time.sleep(0.05)
        yield ServerProcess(process, base)
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)
