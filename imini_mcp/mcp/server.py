"""`build_server(settings)`: the MCP server — its tools, MCP Tasks, the MCP Apps view, the task resources,
prompts and /healthz.

Tools are thin (mcp/tools/): validate (every problem at once), call the app's `VideoService`, return a
result model plus short text. Process resources live in the lifespan (lifespan.py); expected failures
become MCP errors in one place (errors.py).
"""

from __future__ import annotations

import json

from mcp.server.mcpserver import Context, MCPServer, RequestStateSecurity
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from starlette.requests import Request
from starlette.responses import JSONResponse

from imini_mcp.app import store_problem, summarize
from imini_mcp.files import DownloadPolicy
from imini_mcp.imini import Clock, PollSchedule, RetryPolicy, __version__
from imini_mcp.mcp.apps import register_media, viewer
from imini_mcp.mcp.context import account_of, state_of
from imini_mcp.mcp.errors import tool_errors
from imini_mcp.mcp.lifespan import Health, Overrides, Shutdown, make_lifespan
from imini_mcp.mcp.oauth import resource_server
from imini_mcp.mcp.oauth.key_tool import register_key_tool
from imini_mcp.mcp.oauth.keypage import KeyPage, routes
from imini_mcp.mcp.prompts import register_prompts
from imini_mcp.mcp.tasks import TasksExtension, legacy_tasks_middleware
from imini_mcp.mcp.tools import TOOLS
from imini_mcp.settings import Settings

SERVER_NAME = "imini-mcp"
INSTRUCTIONS = """\
Generate videos with imini: kling/kling-v3 by default, or another model from list_models (kling-v3-omni,
kling-v3-motion-control, seedance-2.0 / -fast, happyhorse-1.0). Workflow: (1) compose the request with generate_video and
dry_run true: it checks every rule, shows the exact body and the estimated credits, and costs nothing;
(2) submit with dry_run false (this spends credits); (3) follow the task with get_task (wait_seconds to
wait with progress) until status is succeeded, then give the user the video URL. Every submitted task is
kept in a local journal: list_tasks finds them again after a timeout or restart. Never resubmit just
because a call timed out: check get_task / list_tasks first, or pass the same idempotency_key."""


def build_server(
    settings: Settings,
    *,
    clock: Clock | None = None,
    schedule: PollSchedule | None = None,
    retry: RetryPolicy | None = None,
    shutdown: Shutdown | None = None,
    downloads: DownloadPolicy | None = None,
    poller: str | None = None,
) -> MCPServer:
    """The imini-mcp server for `settings`. `clock`, `schedule`, `retry`, `downloads` and `poller` (this
    server's name on poll leases, default host:pid:random) are for tests and benchmarks."""
    health = Health()
    rs = resource_server(settings)  # OAuth mode: each request's access token says whose call it is
    server = MCPServer(
        name=SERVER_NAME,  # constant: sealed request state names it, and every replica must accept it
        title="imini video",
        version=__version__,
        instructions=INSTRUCTIONS,
        website_url="https://docs.imini.ai",
        tools=TOOLS,
        lifespan=make_lifespan(
            settings, Overrides(clock, schedule, retry, shutdown, downloads, poller), health, rs
        ),
        extensions=[TasksExtension(), viewer(settings)],
        middleware=[legacy_tasks_middleware],
        log_level=settings.log_level,  # type: ignore[arg-type]  # validated by Settings
        request_state_security=request_state_security(settings),
        token_verifier=rs.verifier if rs else None,
        auth=rs.auth if rs else None,
    )
    server.resource(
        "imini://tasks/{task_id}",
        name="task",
        title="Journalled video task",
        description="A video task as recorded in the local journal, with the request that was sent (JSON).",
        mime_type="application/json",
    )(task_resource)
    register_media(server)
    register_prompts(server)
    if rs is not None:  # OAuth mode: each person connects their own imini key
        register_key_tool(server)
        for path, methods, handler in routes(KeyPage(lambda: health.app)):
            server.custom_route(path, methods=methods)(handler)

    async def healthz(request: Request) -> JSONResponse:
        """200 while this server can serve: its task store answers (503 when it does not)."""
        problem = await store_problem(health.store)
        body = {
            "status": "ok" if problem is None else "unavailable",
            "version": __version__,
            "simulated": settings.simulate,
            "store": problem or "reachable",
        }
        return JSONResponse(body, status_code=200 if problem is None else 503)

    server.custom_route("/healthz", methods=["GET"])(healthz)
    return server


def request_state_security(settings: Settings) -> RequestStateSecurity | None:
    """A key every replica shares (IMINI_SECRET_KEY) seals the SDK's request state; None: a key of this
    process alone (the SDK's default), which another replica would reject."""
    keys = settings.secret_keys()
    return RequestStateSecurity(keys=keys) if keys else None


async def task_resource(task_id: str, ctx: Context) -> str:
    with tool_errors():
        owner = (await account_of(ctx)).owner
    record = await state_of(ctx).service.task_record(owner, task_id)
    if record is None:
        raise ResourceNotFoundError(f"No journalled task {task_id!r}")
    # The request too: the view draws the storyboard a task came from (inline images are shortened in it).
    return json.dumps({**summarize(record).model_dump(mode="json"), "request": record.body}, indent=2)
