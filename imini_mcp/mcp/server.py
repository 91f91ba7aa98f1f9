"""`build_server(settings)`: the MCP server — lifespan resources, three tools, one resource, error mapping.

Tools are thin: validate (every problem at once), call `VideoService`, return a result model plus
short text. Every expected failure becomes a `ToolError` with a next step in `tool_errors()`; nothing
else should ever reach the client as a bare "Error executing tool".
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio
import httpx2
from anyio.abc import TaskGroup, TaskStatus
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.types import CallToolResult, ContentBlock, ResourceLink, TextContent
from starlette.requests import Request
from starlette.responses import JSONResponse

from imini_mcp.app.delivery import FileDelivery
from imini_mcp.app.results import (
    GenerateVideoResult,
    TaskList,
    TaskView,
    render_generate,
    render_task,
    render_task_list,
)
from imini_mcp.app.service import Account, VideoService, summarize
from imini_mcp.files.downloads import DownloadPolicy, sweep_partial_downloads
from imini_mcp.files.images import make_resolver
from imini_mcp.imini.client import IminiClient, RetryPolicy
from imini_mcp.imini.errors import ConfigurationError, IminiError
from imini_mcp.imini.polling import Clock, PollSchedule, TaskFollower
from imini_mcp.imini.version import USER_AGENT, __version__
from imini_mcp.mcp.list_models import LIST_MODELS_TOOL
from imini_mcp.mcp.prompts import register_prompts
from imini_mcp.mcp.tasks import OPTION, TaskRunner, TasksExtension, legacy_tasks_middleware
from imini_mcp.mcp.tooling import self_validating_tool
from imini_mcp.request import (
    GenerateVideoArguments,
    GetTaskArguments,
    ImageResolver,
    InvalidArguments,
    ListTasksArguments,
    WaitLimits,
    check_arguments,
    check_generate_arguments,
)
from imini_mcp.settings import Settings
from imini_mcp.store import SqliteTaskStore

log = logging.getLogger(__name__)

INSTRUCTIONS = """\
Generate videos with imini: kling/kling-v3 by default, or another model from list_models (kling-v3-omni,
kling-v3-motion-control, seedance-2.0 / -fast, happyhorse-1.0). Workflow: (1) compose the request with generate_video and
dry_run true: it checks every rule, shows the exact body and the estimated credits, and costs nothing;
(2) submit with dry_run false (this spends credits); (3) follow the task with get_task (wait_seconds to
wait with progress) until status is succeeded, then give the user the video URL. Every submitted task is
kept in a local journal: list_tasks finds them again after a timeout or restart. Never resubmit just
because a call timed out: check get_task / list_tasks first, or pass the same idempotency_key."""


USER_KEY_HEADER = "x-imini-api-key"


@dataclass
class AppState:
    """Process-wide resources, created once in the lifespan."""

    settings: Settings
    service: VideoService
    account: Account  # single-user mode: the configured key, journal owner ""
    http: httpx2.AsyncClient
    base_url: str
    retry: RetryPolicy | None
    resolve_image: ImageResolver
    tasks: TaskRunner


def _app_state(ctx: Context) -> AppState:
    return ctx.request_context.lifespan_context  # type: ignore[no-any-return]


def owner_for_key(api_key: str) -> str:
    """The journal partition of one imini key: a hash, so the key itself is never stored."""
    return "user:" + hashlib.sha256(b"imini-mcp owner\0" + api_key.encode()).hexdigest()[:32]


def _account(ctx: Context) -> Account:
    return account_for_headers(_app_state(ctx), ctx.headers or {})


def account_for_headers(state: AppState, headers: Mapping[str, str]) -> Account:
    """Whose call this is. Per-user HTTP mode: the key in the request header, used for this request only."""
    if not state.settings.per_user_keys:
        return state.account
    api_key = headers.get(USER_KEY_HEADER, "").strip()
    if not api_key:
        raise ConfigurationError(
            "This server runs in per-user mode and the request carried no imini API key",
            next_step="Configure your MCP client to send your key in the X-Imini-Api-Key header.",
        )
    client = IminiClient(state.http, base_url=state.base_url, api_key=api_key, policy=state.retry)
    return Account(owner=owner_for_key(api_key), client=client)


@contextmanager
def tool_errors() -> Iterator[None]:
    """The one place where expected failures become MCP tool errors with their next step."""
    try:
        yield
    except InvalidArguments as exc:
        raise ToolError(str(exc)) from exc
    except IminiError as exc:
        raise ToolError(str(exc)) from exc


def _progress(ctx: Context) -> Any:
    async def report(elapsed: float, message: str) -> None:
        await ctx.report_progress(round(elapsed, 1), None, message)

    return report


def _links(view: TaskView | None) -> list[ContentBlock]:
    """resource_link blocks for the results: imini's URLs, and file URIs of saved copies."""
    if view is None:
        return []
    links: list[ContentBlock] = []
    for n, video in enumerate(view.videos, start=1):
        links.append(
            ResourceLink(
                type="resource_link", uri=video.url, name=f"{view.task_id} video {n}", mime_type="video/mp4"
            )
        )
        if video.cover_url:
            links.append(
                ResourceLink(
                    type="resource_link",
                    uri=video.cover_url,
                    name=f"{view.task_id} cover {n}",
                    mime_type="image/jpeg",
                )
            )
    links.extend(
        ResourceLink(
            type="resource_link",
            uri=Path(file.path).as_uri(),
            name=Path(file.path).name,
            mime_type="video/mp4" if file.kind == "video" else "image/jpeg",
            size=file.size,
        )
        for file in view.files
    )
    return links


def tool_result(model: Any, text: str, view: TaskView | None = None) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text), *_links(view)],
        structured_content=model.model_dump(mode="json"),
    )


# ---------------------------------------------------------------------------------------------------
# Tools


async def generate_video(
    arguments: dict[str, Any], ctx: Context
) -> Annotated[CallToolResult, GenerateVideoResult]:
    """Create a video with imini. Default model kling/kling-v3: text-to-video, image-to-video, first/last frame,
    up to 4 reference images, or a multi-shot storyboard of 1–6 shots. Other models (reference videos, motion
    transfer, cheaper drafts, 1080P): set `model`; list_models shows what each takes, its limits and prices.

    The arguments are imini's request body, field for field. Every rule is checked before anything is sent;
    a rejected call lists every problem with its field and fix and costs nothing. Use dry_run true first to see
    the exact body and the estimated credits. A real call SPENDS CREDITS: it submits once and returns the task
    (waiting up to wait_seconds for it, with progress). A typical video takes 1–3 minutes; if the call returns
    before the video is done, follow it with get_task — never resubmit just because of a timeout.

    Storyboard example: {"duration": 8, "extra_params": {"multi_shot": true, "shot_type": "customize",
    "multi_prompt": [{"prompt": "…", "duration": "2"}, {"prompt": "…", "duration": "3"},
    {"prompt": "…", "duration": "3"}]}} — the shot durations must add up to duration (3–15 s).
    """
    state = _app_state(ctx)
    with tool_errors():
        check = partial(check_generate_arguments, arguments, resolve_image=state.resolve_image)
        # Local images are read and decoded: keep that off the event loop.
        args = await anyio.to_thread.run_sync(check) if arguments.get("reference_images") else check()
        account = None if args.dry_run else _account(ctx)  # a dry run needs no key
        result = await state.service.generate(args, account, progress=_progress(ctx))
    return tool_result(result, render_generate(result), result.task)


async def get_task(arguments: dict[str, Any], ctx: Context) -> Annotated[CallToolResult, TaskView]:
    """Check a video task: its status (queued, processing, succeeded, failed), the video and cover URLs once it
    succeeded, or imini's error once it failed. With wait_seconds it waits (with progress updates) until the
    task finishes or the time is up; either way the answer says what to do next. Costs no credits."""
    state = _app_state(ctx)
    with tool_errors():
        args = check_arguments(GetTaskArguments, arguments)
        view = await state.service.get_task(
            args.task_id,
            _account(ctx),
            wait_seconds=args.wait_seconds,
            progress=_progress(ctx),
            output=args.output,
        )
    return tool_result(view, render_task(view), view)


async def list_tasks(arguments: dict[str, Any], ctx: Context) -> Annotated[CallToolResult, TaskList]:
    """List the video tasks this server has submitted (kept in a local journal, so they survive timeouts and
    restarts), newest first, with status, what was asked for, and result URLs. Use it to find a task id again,
    or to see submits whose outcome is unknown before resubmitting. Costs nothing."""
    state = _app_state(ctx)
    with tool_errors():
        args = check_arguments(ListTasksArguments, arguments)
        listing = await state.service.list_tasks(
            _account(ctx), status=args.status, since=args.since, limit=args.limit
        )  # type: ignore[arg-type]
    return tool_result(listing, render_task_list(listing))


TOOLS = [
    self_validating_tool(
        generate_video,
        arguments_model=GenerateVideoArguments,
        title="Generate a video (imini)",
        read_only=False,
        idempotent=False,
        open_world=True,
    ),
    self_validating_tool(
        get_task,
        arguments_model=GetTaskArguments,
        title="Check a video task",
        read_only=True,
        idempotent=True,
        open_world=True,
    ),
    self_validating_tool(
        list_tasks,
        arguments_model=ListTasksArguments,
        title="List video tasks",
        read_only=True,
        idempotent=True,
        open_world=False,
    ),
    LIST_MODELS_TOOL,
]


# ---------------------------------------------------------------------------------------------------
# Server


class LazyTransport(httpx2.AsyncBaseTransport):
    """Builds the real transport (and parses the CA bundle, ~30 ms) on the first upstream request, not at
    start-up: a client's first tools/list never needs it. ``before_request`` runs before every request
    (the lazily started simulator)."""

    def __init__(self, before_request: Callable[[], Awaitable[None]] | None = None) -> None:
        self._transport: httpx2.AsyncHTTPTransport | None = None
        self._before_request = before_request

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._before_request is not None:
            await self._before_request()
        if self._transport is None:
            self._transport = httpx2.AsyncHTTPTransport()
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()


class Shutdown:
    """Called by the HTTP runner when a stop begins: waiting calls return their task ids at once."""

    def __init__(self) -> None:
        self._hooks: list[Callable[[], None]] = []

    def add(self, hook: Callable[[], None]) -> None:
        self._hooks.append(hook)

    def __call__(self) -> None:
        for hook in self._hooks:
            hook()


def build_server(
    settings: Settings,
    *,
    clock: Clock | None = None,
    schedule: PollSchedule | None = None,
    retry: RetryPolicy | None = None,
    shutdown: Shutdown | None = None,
    downloads: DownloadPolicy | None = None,
) -> MCPServer:
    """The imini-mcp server for `settings`. `clock`, `schedule`, `retry`, `downloads` are for tests/benchmarks."""

    @asynccontextmanager
    async def lifespan(server: MCPServer) -> AsyncIterator[AppState]:
        async with AsyncExitStack() as stack:
            base_url, api_key = settings.base_url, settings.api_key_value()
            simulated: SimulatedImini | None = None
            if settings.simulate:
                simulated = await SimulatedImini.enter(stack, settings, clock)
                base_url, api_key = simulated.base_url, SimulatedImini.KEY
            http = await stack.enter_async_context(
                httpx2.AsyncClient(
                    transport=LazyTransport(simulated.ensure_started if simulated else None),
                    timeout=httpx2.Timeout(settings.read_timeout, connect=settings.connect_timeout),
                    follow_redirects=False,
                    headers={"User-Agent": USER_AGENT},
                )
            )
            journal = SqliteTaskStore(settings.journal_path)
            stack.callback(journal.close)
            _recover_interrupted_submits(journal, settings)
            policy = downloads or DownloadPolicy()
            for stale in sweep_partial_downloads(settings.output_dir, older_than=policy.total_timeout + 300):
                log.info("removed a partial download left by a crash: %s", stale)
            tg = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tg.cancel_scope.cancel)  # poll loops end with the server
            follower = TaskFollower(tg, schedule=schedule, clock=clock)
            if shutdown is not None:
                shutdown.add(follower.release_all)
            delivery = FileDelivery(
                journal,
                settings.output_dir,
                default_mode=settings.output_mode,
                policy=policy,
            )
            service = VideoService(
                journal=journal,
                follower=follower,
                limits=WaitLimits(settings.default_wait_seconds, settings.max_wait_seconds),
                delivery=delivery,
            )
            client = IminiClient(http, base_url=base_url, api_key=api_key, policy=retry)
            log.info(
                "imini-mcp %s ready: %s, journal %s",
                __version__,
                "SIMULATED backend" if settings.simulate else base_url,
                settings.journal_path,
            )
            state = AppState(
                settings=settings,
                service=service,
                account=Account(owner="", client=client),
                http=http,
                base_url=base_url,
                retry=retry,
                resolve_image=make_resolver(
                    local_files=settings.reads_local_files(),
                    allowed_roots=[Path(root) for root in settings.allowed_roots],
                    input_root=settings.input_root,
                ),
                tasks=TaskRunner(tg),
            )
            _resume_mcp_tasks(state)
            yield state

    mcp = MCPServer(
        name="imini-mcp",
        title="imini video",
        version=__version__,
        instructions=INSTRUCTIONS,
        website_url="https://docs.imini.ai",
        tools=TOOLS,
        lifespan=lifespan,
        extensions=[TasksExtension()],
        middleware=[legacy_tasks_middleware],
        log_level=settings.log_level,
    )

    @mcp.resource(
        "imini://tasks/{task_id}",
        name="task",
        title="Journalled video task",
        description="A video task as recorded in the local journal (JSON).",
        mime_type="application/json",
    )
    async def task_resource(task_id: str, ctx: Context) -> str:
        state = _app_state(ctx)
        with tool_errors():
            owner = _account(ctx).owner
        record = await state.service.task_record(owner, task_id)
        if record is None:
            raise ResourceNotFoundError(f"No journalled task {task_id!r}")
        return json.dumps(summarize(record).model_dump(mode="json"), indent=2)

    register_prompts(mcp)

    @mcp.custom_route("/healthz", methods=["GET"])
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__, "simulated": settings.simulate})

    return mcp


class SimulatedImini:
    """``--simulate``: the port is bound at start, so the URL is known at once, and the simulator itself (its
    module, app and uvicorn: ~20 ms) starts on the first request to it, which a first tools/list never makes.
    Connections made before then wait in the listening socket's backlog."""

    KEY = "simulated-key"
    _PATH = "/imini/router"  # imini's API prefix (simulator.API_PREFIX), without importing the simulator

    def __init__(self, settings: Settings, clock: Clock | None, tg: TaskGroup, sock: socket.socket) -> None:
        self._settings = settings
        self._clock = clock
        self._tg = tg
        self._sock = sock
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}{self._PATH}"
        self._lock = anyio.Lock()
        self.started = False

    @classmethod
    async def enter(cls, stack: AsyncExitStack, settings: Settings, clock: Clock | None) -> SimulatedImini:
        sock = socket.create_server(("127.0.0.1", 0))
        stack.callback(sock.close)  # last, after the simulator has stopped
        tg = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(tg.cancel_scope.cancel)
        simulated = cls(settings, clock, tg, sock)
        log.warning(
            "SIMULATED imini at %s: no credits are used and the videos are samples", simulated.base_url
        )
        return simulated

    async def ensure_started(self) -> None:
        if self.started:
            return
        async with self._lock:
            if not self.started:
                await self._tg.start(self._serve)
                self.started = True

    async def _serve(self, *, task_status: TaskStatus[None]) -> None:
        from imini_mcp.simulator import Simulator, SimulatorConfig, serve_simulator

        total = self._settings.simulate_seconds
        sim = Simulator(
            SimulatorConfig(
                # per-user: any key is "valid"
                api_key=None if self._settings.per_user_keys else self.KEY,
                queued_seconds=total * 0.2,
                processing_seconds=total * 0.8,
                clock=self._clock.now if self._clock is not None else time.monotonic,
            )
        )
        logging.getLogger("uvicorn").setLevel(logging.WARNING)  # its start/stop lines would look like ours
        async with serve_simulator(sim, sock=self._sock):
            task_status.started()
            await anyio.sleep_forever()


def _resume_mcp_tasks(state: AppState) -> None:
    """After a restart, keep following the MCP tasks of the local user (per-user HTTP keys are not stored,
    so those resume on the user's next tasks/get)."""
    if state.settings.per_user_keys:
        return
    for record in state.service.journal.unfinished(owner="", with_option=OPTION):
        if not record.options[OPTION].get("cancelled_at") and record.task_id:
            state.tasks.ensure(state, state.account, record.task_id)


def _recover_interrupted_submits(journal: SqliteTaskStore, settings: Settings) -> None:
    """A 'submitting' row left by a crash may have created a task: say so instead of leaving it in limbo.

    Settled at once when its submitter was a process on this host that no longer runs; otherwise (another
    host sharing the journal, or an old row without that record) once it is older than any submit can take.
    """
    horizon = time.time() - (settings.read_timeout * 3 + 60)
    host = socket.gethostname()
    for record in journal.stale_submitting(time.time()):
        submitter = record.options.get("submitter") or {}
        gone = submitter.get("host") == host and not _process_alive(submitter.get("pid"))
        if not gone and record.submitted_at > horizon:
            continue  # may still be in flight in another live process
        journal.mark_outcome_unknown(
            record.journal_id,
            code="INTERRUPTED",
            message="the server stopped while submitting; a task may exist at imini",
        )
        log.warning("journal #%d: submit interrupted by a crash, outcome unknown", record.journal_id)


def _process_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return False  # this process is only starting: the row is from an earlier life with a recycled pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
