"""Verified, streamed downloads of imini's result files (the MP4 video and its cover image).

Contract: :func:`download_file` either leaves a complete, verified file at ``dest`` (written to a
temporary file in the same folder, checked, fsynced, then atomically renamed) or raises
:class:`DownloadFailed` / propagates cancellation with no partial file anywhere. Memory use is
constant whatever the file size; only transient failures are retried, with the one backoff of ``imini.retry``.

Two ways to fetch, with the same checks: by default a blocking read in a worker thread
(:mod:`imini_mcp.files.direct_get`, as fast as curl); through httpx for proxies and compressed bodies,
or when the caller passes a client (whose ``Authorization`` header is never sent to the file host).
The part file is :mod:`imini_mcp.files.part_files`'s; what counts as the right content is
:mod:`imini_mcp.files.content`'s.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import anyio
import anyio.to_thread
import httpx2
from anyio.lowlevel import RunVar

from imini_mcp.files.content import Receiver, judge_answer, verified_size
from imini_mcp.files.direct_get import DirectGet, GetFailed, NeedsHttpx, Timeouts
from imini_mcp.files.local_copy import copy_local_file
from imini_mcp.files.part_files import PartFile
from imini_mcp.imini import USER_AGENT, IminiError, backoff_delay
from imini_mcp.request import FileKind as Kind

__all__ = ["DownloadFailed", "DownloadPolicy", "SavedFile", "download_file"]

_HEADERS = {"User-Agent": USER_AGENT}
_MAX_THREADED_DOWNLOADS = 8
_DOWNLOAD_THREADS: RunVar[anyio.CapacityLimiter] = RunVar("imini_mcp_download_threads")
_ABORT_GRACE = 2.0  # seconds a cancelled download thread gets to remove its part file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DownloadPolicy:
    """Timeouts, retries and limits of one :func:`download_file` call."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0  # longest wait for the next bytes
    total_timeout: float = 900.0  # the whole call, retries and waits included
    attempts: int = 3  # retries only transient failures; a GET is safe to repeat
    max_bytes: int = 2 * 1024**3
    chunk_size: int = 1024 * 1024  # read and written at a time
    retry_wait: float = 0.5  # first wait between attempts, doubled each time...
    retry_wait_max: float = 8.0  # ...up to this
    # Folders whose files file:// URLs may name (the simulated imini's results), copied with the same checks;
    # empty: only http(s) URLs, so an answer naming a local file never makes this server copy it.
    local_sources: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.chunk_size < 1 or self.max_bytes < 1:
            raise ValueError("chunk_size and max_bytes must be positive")


class DownloadFailed(IminiError):
    """A result file could not be downloaded; the URL itself is untouched and may still work."""

    default_next_step: ClassVar[str] = (
        "The result URL is still usable: open or download it directly, or call get_task again later to "
        "retry the download. imini does not say how long result URLs stay valid, so do it soon."
    )

    def __init__(
        self, message: str, *, url: str, status: int | None = None, next_step: str | None = None
    ) -> None:
        self.url = url
        super().__init__(message, status=status, next_step=next_step)


@dataclass(frozen=True)
class SavedFile:
    """A verified file on disk."""

    url: str
    path: Path
    size: int
    kind: Kind
    reused: bool  # True: a verified file was already at path and nothing was downloaded


async def download_file(
    http: httpx2.AsyncClient | None,
    url: str,
    dest: Path,
    *,
    kind: Kind,
    policy: DownloadPolicy = DownloadPolicy(),
) -> SavedFile:
    """Download ``url`` to ``dest`` (see the module docstring); reuse a verified file already there.

    ``http=None`` takes the fast path: a blocking read in a worker thread (:mod:`imini_mcp.files.direct_get`),
    or an own httpx client for what only httpx does (proxies, compressed bodies). A given client is used
    as it is, transport and all.
    """
    local = bool(policy.local_sources) and url[:5].lower() == "file:"
    if not local:
        _check_url(url)
    dest = Path(dest)
    existing = await anyio.to_thread.run_sync(verified_size, dest, kind)
    if existing is not None:
        return SavedFile(url=url, path=dest, size=existing, kind=kind, reused=True)
    try:
        await anyio.to_thread.run_sync(lambda: dest.parent.mkdir(parents=True, exist_ok=True))
    except OSError as exc:
        raise _disk_error(url, dest, exc) from exc
    if local:
        return SavedFile(
            url=url, path=dest, size=await _copy(url, dest, kind, policy), kind=kind, reused=False
        )

    try:
        with anyio.fail_after(policy.total_timeout):
            size = await _with_retries(http, url, dest, kind, policy)
    except TimeoutError as exc:
        raise DownloadFailed(
            f"Downloading the {kind} from {url} took longer than {policy.total_timeout:g} s and was stopped",
            url=url,
        ) from exc
    return SavedFile(url=url, path=dest, size=size, kind=kind, reused=False)


# --------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------


async def _with_retries(
    http: httpx2.AsyncClient | None, url: str, dest: Path, kind: Kind, policy: DownloadPolicy
) -> int:
    for attempt in range(1, policy.attempts + 1):
        try:
            return await _attempt(http, url, dest, kind, policy)
        except GetFailed as exc:
            if not exc.transient or attempt == policy.attempts:
                tries = f" (after {attempt} attempts)" if attempt > 1 else ""
                raise DownloadFailed(
                    f"Could not download the {kind} from {url}: {exc.cause}{tries}",
                    url=url,
                    status=exc.status,
                ) from exc
        except OSError as exc:  # our side: the folder is not writable, the disk is full...
            raise _disk_error(url, dest, exc) from exc
        await anyio.sleep(backoff_delay(attempt, policy.retry_wait, policy.retry_wait_max))
    raise AssertionError("unreachable")  # pragma: no cover


async def _copy(url: str, dest: Path, kind: Kind, policy: DownloadPolicy) -> int:
    """A file:// result from one of ``policy.local_sources``: copied and checked like a download."""
    try:
        return await anyio.to_thread.run_sync(
            copy_local_file, url, dest, kind, policy.local_sources, policy.max_bytes, policy.chunk_size
        )
    except GetFailed as exc:
        raise DownloadFailed(f"Could not copy the {kind} from {url}: {exc.cause}", url=url) from exc
    except OSError as exc:
        raise _disk_error(url, dest, exc) from exc


async def _attempt(
    http: httpx2.AsyncClient | None, url: str, dest: Path, kind: Kind, policy: DownloadPolicy
) -> int:
    """The caller's client if given; else the fast path, or an own httpx client when the URL needs what
    only httpx does."""
    if http is not None:
        return await _attempt_httpx(http, url, dest, kind, policy)
    try:
        return await _attempt_direct(url, dest, kind, policy)
    except NeedsHttpx as exc:
        log.debug("downloading the %s through httpx: %s", kind, exc)
    async with httpx2.AsyncClient(headers=_HEADERS) as own:  # trust_env: proxies from *_PROXY
        return await _attempt_httpx(own, url, dest, kind, policy)


async def _attempt_direct(url: str, dest: Path, kind: Kind, policy: DownloadPolicy) -> int:
    """One GET read and written by one worker thread, into a reused buffer: no copies, no event-loop hops."""
    get = DirectGet(url, timeouts=Timeouts(policy.connect_timeout, policy.read_timeout), headers=_HEADERS)

    def work() -> int:
        with get:
            get.open()
            judge_answer(get.status, get.content_length, policy.max_bytes)
            part = PartFile.create(dest)
            try:
                receiver = Receiver(kind, policy.max_bytes)
                buffer = memoryview(bytearray(policy.chunk_size))
                while count := get.readinto(buffer):
                    receiver.take(buffer[:count])
                    part.write(buffer[:count])
                receiver.finish(get.content_length, receiver.received)
                part.commit()
            except BaseException:
                part.discard()
                raise
            return receiver.received

    return await _run_abortable(work, get.abort)


async def _run_abortable(work: Callable[[], int], abort: Callable[[], None]) -> int:
    """``work()`` in a download thread. Cancelled (or timed out), the thread is told to stop and given a
    moment to clean up, so no part file outlives the cancellation."""
    started, done = threading.Event(), threading.Event()

    def run() -> int:
        started.set()
        try:
            return work()
        finally:
            done.set()

    try:
        return await anyio.to_thread.run_sync(run, abandon_on_cancel=True, limiter=_download_threads())
    except anyio.get_cancelled_exc_class():
        abort()
        if started.is_set():
            with anyio.CancelScope(shield=True), anyio.move_on_after(_ABORT_GRACE):
                await anyio.to_thread.run_sync(done.wait, _ABORT_GRACE)
        raise


def _download_threads() -> anyio.CapacityLimiter:
    """A download holds its thread for the whole transfer: its own limiter keeps many downloads from
    taking every thread of anyio's default pool (the journal needs those)."""
    try:
        return _DOWNLOAD_THREADS.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(_MAX_THREADED_DOWNLOADS)
        _DOWNLOAD_THREADS.set(limiter)
        return limiter


async def _attempt_httpx(
    http: httpx2.AsyncClient, url: str, dest: Path, kind: Kind, policy: DownloadPolicy
) -> int:
    """One GET through httpx, streamed into a part file; returns the size once it is verified and in place."""
    request = http.build_request(
        "GET",
        url,
        # identity: the bytes counted are the bytes stored, so Content-Length can be checked exactly.
        headers={"Accept-Encoding": "identity"},
        timeout=httpx2.Timeout(policy.read_timeout, connect=policy.connect_timeout),
    )
    # The client may be the one that talks to imini's API: never hand its key to a file host.
    request.headers.pop("Authorization", None)
    part: PartFile | None = None
    try:
        response = await http.send(request, stream=True, auth=None, follow_redirects=True)
        try:
            expected = _content_length(response)
            judge_answer(response.status_code, expected, policy.max_bytes)
            # Created synchronously (a quick O_EXCL open): no await between creating it and owning it,
            # so a cancellation cannot leave it behind unnoticed.
            part = PartFile.create(dest)
            receiver = Receiver(kind, policy.max_bytes)
            # Chunks as they arrive (no re-chunking copies), written in batches of ~chunk_size per
            # thread hop: constant memory, and far fewer hops than one per network read.
            batch: list[bytes] = []
            batched = 0
            async for chunk in response.aiter_bytes():
                receiver.take(chunk)
                batch.append(chunk)
                batched += len(chunk)
                if batched >= policy.chunk_size:
                    await anyio.to_thread.run_sync(part.write_all, batch)
                    batch, batched = [], 0
            if batch:
                await anyio.to_thread.run_sync(part.write_all, batch)
            # Content-Length counts the bytes on the wire: the decoded count only if nothing was encoded.
            encoded = response.headers.get("content-encoding", "identity").lower() not in ("", "identity")
            receiver.finish(expected, response.num_bytes_downloaded if encoded else receiver.received)
            await anyio.to_thread.run_sync(part.commit)
            part = None  # it is dest now: nothing to clean up
            return receiver.received
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                await response.aclose()
    except httpx2.HTTPError as exc:
        raise GetFailed(_describe(exc, policy), transient=_is_transient(exc)) from exc
    finally:
        if part is not None:
            part.discard()  # synchronous on purpose: it must happen even while being cancelled


def _check_url(url: str) -> None:
    try:
        parsed = httpx2.URL(url)
    except (httpx2.InvalidURL, TypeError) as exc:
        raise DownloadFailed(f"Cannot download {url!r}: it is not a valid URL", url=str(url)) from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise DownloadFailed(
            f"Cannot download {url!r}: only http:// and https:// URLs are downloaded",
            url=url,
            next_step="Check the URL; result files from imini are always https:// URLs.",
        )


def _content_length(response: httpx2.Response) -> int | None:
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() else None  # absent or unparsable: nothing to compare


def _is_transient(exc: httpx2.HTTPError) -> bool:
    if isinstance(exc, httpx2.UnsupportedProtocol | httpx2.LocalProtocolError | httpx2.TooManyRedirects):
        return False
    return isinstance(exc, httpx2.TransportError | httpx2.DecodingError)


def _describe(exc: httpx2.HTTPError, policy: DownloadPolicy) -> str:
    # Plain words, and never str(request) or headers: those could carry credentials.
    if isinstance(exc, httpx2.ConnectTimeout):
        return f"could not connect within {policy.connect_timeout:g} s"
    if isinstance(exc, httpx2.ReadTimeout):
        return f"no data arrived for {policy.read_timeout:g} s"
    if isinstance(exc, httpx2.TimeoutException):
        return "the connection timed out"
    if isinstance(exc, httpx2.ConnectError):
        return "could not connect to the server"
    if isinstance(exc, httpx2.RemoteProtocolError | httpx2.ReadError):
        return "the connection was closed before the whole file arrived (truncated)"
    if isinstance(exc, httpx2.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx2.UnsupportedProtocol):
        return "it redirected to a URL that is not http(s)"
    return f"{type(exc).__name__}"


def _disk_error(url: str, dest: Path, exc: OSError) -> DownloadFailed:
    return DownloadFailed(
        f"Could not save the file from {url} to {dest}: {exc.strerror or exc}",
        url=url,
        next_step=(
            "Check that the download folder exists, is writable and has free space, then try again; "
            "the result URL itself is still usable."
        ),
    )
