"""The server's lifespan: open every process resource once (HTTP client, task store, poll leases and the
store's watcher, poll loop, service, background jobs), settle what a crash left behind, resume the background
jobs no other live server follows, and close it all at the end (releasing this server's poll leases)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import anyio
import httpx2
from anyio.abc import TaskGroup
from mcp.server.mcpserver import MCPServer

from imini_mcp.app import (
    Account,
    BackgroundJobs,
    FileDelivery,
    KeyVault,
    StoreLeases,
    VideoService,
    recover_interrupted_submits,
)
from imini_mcp.files import DownloadPolicy, make_resolver, sweep_partial_downloads
from imini_mcp.imini import (
    USER_AGENT,
    Clock,
    IminiClient,
    LazyTransport,
    PollSchedule,
    RetryPolicy,
    TaskFollower,
    __version__,
)
from imini_mcp.mcp.oauth import ResourceServer
from imini_mcp.mcp.simulated import SimulatedImini
from imini_mcp.mcp.state import AppState
from imini_mcp.request import WaitLimits
from imini_mcp.settings import Settings
from imini_mcp.store import TaskStore, open_store, store_location

log = logging.getLogger(__name__)

Lifespan = Callable[[MCPServer], AbstractAsyncContextManager[AppState]]


class Shutdown:
    """Called by the HTTP runner when a stop begins: waiting calls return their task ids at once."""

    def __init__(self) -> None:
        self._hooks: list[Callable[[], None]] = []

    def add(self, hook: Callable[[], None]) -> None:
        self._hooks.append(hook)

    def __call__(self) -> None:
        for hook in self._hooks:
            hook()


@dataclass(frozen=True)
class Overrides:
    """For tests and benchmarks: a faster clock, a fixed poll schedule, quicker retries and downloads, a
    poller name to tell servers in one process apart."""

    clock: Clock | None = None
    schedule: PollSchedule | None = None
    retry: RetryPolicy | None = None
    shutdown: Shutdown | None = None
    downloads: DownloadPolicy | None = None
    poller: str | None = None


class Health:
    """What /healthz reports on: the store this process opened (None before the lifespan, and after); and
    what the key page reaches (OAuth mode), the running server's state."""

    def __init__(self) -> None:
        self.store: TaskStore | None = None
        self.app: AppState | None = None


def make_lifespan(
    settings: Settings, overrides: Overrides, health: Health | None = None, rs: ResourceServer | None = None
) -> Lifespan:
    @asynccontextmanager
    async def lifespan(server: MCPServer) -> AsyncIterator[AppState]:
        async with AsyncExitStack() as stack:
            http, base_url, api_key = await _open_upstream(stack, settings, overrides.clock, rs)
            downloads = overrides.downloads or DownloadPolicy()
            if settings.simulate:  # its results are file:// URLs of files kept there (simulated.py)
                downloads = replace(downloads, local_sources=(SimulatedImini.media_dir(settings),))
            store = _open_store(stack, settings, downloads)
            if health is not None:
                health.store = store
                stack.callback(setattr, health, "store", None)
            tg, follower, leases = await _follow_tasks(stack, settings, overrides, store)
            service = VideoService(
                store=store,
                follower=follower,
                limits=WaitLimits(settings.default_wait_seconds, settings.max_wait_seconds),
                delivery=FileDelivery(
                    store,
                    settings.output_dir,
                    default_mode=settings.output_mode,
                    policy=downloads,
                    refusal=file_output_refusal(settings),
                ),
            )
            client = IminiClient(http, base_url=base_url, api_key=api_key, policy=overrides.retry)
            state = AppState(
                settings=settings,
                service=service,
                jobs=BackgroundJobs(service, tg, leases),
                account=Account(owner="", client=client),
                oauth=rs,
                vault=KeyVault(store, settings.secret_keys()) if rs and settings.secret_keys() else None,
                http=http,
                base_url=base_url,
                retry=overrides.retry,
                resolve_image=make_resolver(
                    local_files=settings.reads_local_files(),
                    allowed_roots=[Path(root) for root in settings.allowed_roots],
                    input_root=settings.input_root,
                ),
            )
            resumed = 0
            if not (settings.per_user_keys or settings.oauth_mode()):  # others resume on their next tasks/get
                resumed = state.jobs.resume(state.account)
            _log_ready(settings, base_url, leases, resumed)
            if health is not None:  # the key page reaches the state through it (OAuth mode)
                health.app = state
                stack.callback(setattr, health, "app", None)
            yield state

    return lifespan


def _log_ready(settings: Settings, base_url: str, leases: StoreLeases, resumed: int) -> None:
    log.info(
        "imini-mcp %s ready: %s, tasks in %s (%s; %d background job(s) resumed)",
        __version__,
        "SIMULATED backend" if settings.simulate else base_url,
        store_location(journal_path=settings.journal_path, database_url=settings.database_url_value()),
        f"poller {leases.poller}, leases of {leases.ttl:g} s",
        resumed,
    )


def file_output_refusal(settings: Settings) -> str | None:
    """Why this server may not save files, or None: a fleet whose output folder is not declared shared."""
    if settings.fleet_mode() and not settings.shared_output_dir:
        return (
            "this server is one replica of a fleet (IMINI_DATABASE_URL over streamable HTTP) and its "
            "output folder is not declared shared (IMINI_SHARED_OUTPUT_DIR), so a saved file would exist "
            "on one replica only"
        )
    return None


async def _follow_tasks(
    stack: AsyncExitStack, settings: Settings, overrides: Overrides, store: TaskStore
) -> tuple[TaskGroup, TaskFollower, StoreLeases]:
    """The task group for poll loops and background jobs, the poll loop with this process's leases (their
    heartbeat and the store's watcher run in the group); at the end the group stops, then the leases go."""
    leases = StoreLeases(store, ttl=settings.poll_lease_seconds, poller=overrides.poller)
    stack.callback(leases.release_all)  # after the task group ended, before the store closes
    tg = await stack.enter_async_context(anyio.create_task_group())
    stack.callback(tg.cancel_scope.cancel)  # poll loops and background jobs end with the server
    tg.start_soon(leases.run)
    follower = TaskFollower(tg, schedule=overrides.schedule, clock=overrides.clock, leases=leases)
    if overrides.shutdown is not None:
        overrides.shutdown.add(follower.release_all)
    return tg, follower, leases


async def _open_upstream(
    stack: AsyncExitStack, settings: Settings, clock: Clock | None, rs: ResourceServer | None
) -> tuple[httpx2.AsyncClient, str, str | None]:
    """The HTTP client to imini (or to the simulated imini), its base URL and the configured key; in OAuth
    mode, the authorization server's client (opened on first use) is closed with them."""
    if rs is not None:
        stack.push_async_callback(rs.issuer.aclose)
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
    return http, base_url, api_key


def _open_store(stack: AsyncExitStack, settings: Settings, downloads: DownloadPolicy) -> TaskStore:
    """The task store, with what a crash left behind settled: submits in flight, partial downloads."""
    store = open_store(journal_path=settings.journal_path, database_url=settings.database_url_value())
    stack.callback(store.close)
    recover_interrupted_submits(store, longest_submit_seconds=settings.read_timeout * 3 + 60)
    for stale in sweep_partial_downloads(settings.output_dir, older_than=downloads.total_timeout + 300):
        log.info("removed a partial download left by a crash: %s", stale)
    return store
