"""Child of bench_coldstart: times the phases of a server start in a fresh interpreter, prints JSON.

`python benchmarks/phases.py echo|imini`. It imports nothing else from benchmarks/ before measuring,
so the shared modules the SDK needs are charged to "import mcp" for both servers alike.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path


def phases(kind: str) -> dict[str, float]:
    clock = time.perf_counter
    marks: dict[str, float] = {}
    t = clock()
    from mcp import Client
    from mcp.server.mcpserver import MCPServer

    marks["import mcp"] = clock() - t
    if kind == "echo":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        marks["imports of the server's own code"] = 0.0
        t = clock()
        import echo_server

        server: MCPServer = echo_server.mcp
        marks["build the server"] = clock() - t
    else:
        t = clock()
        import imini_mcp.cli
        import imini_mcp.mcp.server
        from imini_mcp.settings import Settings

        marks["imports of the server's own code"] = clock() - t
        t = clock()
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        imini_mcp.cli.configure_logging("WARNING")
        server = imini_mcp.mcp.server.build_server(settings)
        marks["build the server"] = clock() - t

    async def first_list() -> None:
        async with Client(server, mode="legacy") as client:  # type: ignore[arg-type]
            await client.list_tools()

    t = clock()
    asyncio.run(first_list())
    marks["lifespan + first tools/list (in-process)"] = clock() - t
    return marks


if __name__ == "__main__":
    print(json.dumps(phases(sys.argv[1])))
