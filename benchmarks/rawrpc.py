"""A minimal JSON-RPC client over a subprocess's stdio pipes: no MCP SDK on the client side.

The client does as little as possible between the clock and the pipe (one `json.dumps`, one
`readline`, one `json.loads`), so what is timed is the server, not a client library.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from harness import running

PROTOCOL = "2025-11-25"  # the initialize handshake: what most stdio clients still do


class RpcError(RuntimeError):
    pass


class RawStdio:
    """One server process spoken to line by line (MCP's stdio framing is newline-delimited JSON)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None
        assert proc.stdout is not None
        self.proc = proc
        self._in = proc.stdin
        self._out = proc.stdout
        self._next_id = 0
        self.last_size = 0  # bytes of the last answer line

    def send(self, message: dict[str, Any]) -> None:
        self._in.write(json.dumps(message).encode() + b"\n")
        self._in.flush()

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one request and return its result; notifications in between are skipped."""
        self._next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        while True:
            line = self._out.readline()
            if not line:
                raise RpcError(
                    f"server closed stdout (exit code {self.proc.poll()}) while answering {method}"
                )
            answer = json.loads(line)
            if answer.get("id") != self._next_id:
                continue  # a notification (progress, log) or something unrelated
            self.last_size = len(line)
            if "error" in answer:
                raise RpcError(f"{method}: {answer['error']}")
            result: dict[str, Any] = answer["result"]
            return result

    def handshake(self) -> dict[str, Any]:
        result = self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL,
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "1"},
            },
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return result

    def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = self.request("tools/call", {"name": name, "arguments": arguments})
        if result.get("isError"):
            raise RpcError(f"{name} answered isError: {json.dumps(result)[:300]}")
        return result


@contextlib.contextmanager
def stdio_server(cmd: Sequence[str], *, env: dict[str, str], cwd: Path, log: Path) -> Iterator[RawStdio]:
    """Start `cmd`, yield a client; on exit close stdin (a clean stdio shutdown), then make sure it is gone."""
    with running(cmd, log=log, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as proc:
        client = RawStdio(proc)
        try:
            yield client
        finally:
            with contextlib.suppress(OSError):
                client._in.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=3)  # `running` sends SIGTERM/SIGKILL if it is still there
