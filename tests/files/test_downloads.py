"""Result downloads (imini-api.md §5.1, §8): a complete, verified file at dest, or nothing at all.

Most tests download from the simulated CDN on loopback (`serve_simulator`); a few that need a server
misbehaving in ways the simulator does not script use `httpx2.MockTransport`.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2
import pytest

from imini_mcp.files import DownloadFailed, DownloadPolicy, download_file
from imini_mcp.imini.errors import IminiError
from imini_mcp.simulator import Fault, ManualClock, Simulator, SimulatorConfig, serve_simulator
from tests.conftest import DOC_EXAMPLE, FAKE_KEY

FAST = DownloadPolicy(retry_wait=0.01, retry_wait_max=0.02, read_timeout=10, total_timeout=30)
MP4_HEAD = b"\x00\x00\x00\x1cftypisom"


@dataclass
class Cdn:
    """A simulated imini whose finished tasks' files are served on loopback."""

    sim: Simulator
    clock: ManualClock
    api: str
    http: httpx2.AsyncClient
    via: httpx2.AsyncClient | None  # download_file's first argument: None is the fast path

    async def finished_task(self) -> str:
        """Submit the documented example and move the clock past completion; returns the task id."""
        response = await self.http.post(
            f"{self.api}/v1/videos/generate",
            json=DOC_EXAMPLE,
            headers={"Authorization": f"Bearer {FAKE_KEY}"},
        )
        assert response.status_code == 200, response.text
        self.clock.advance(3600)
        task_id: str = response.json()["task_id"]
        return task_id

    def file_url(self, task_id: str, ext: str = "mp4") -> str:
        return f"{self.sim.config.public_base_url}/files/{task_id}.{ext}"

    def downloads(self) -> int:
        return self.sim.ledger.count("download")

    async def downloads_once_recorded(self, expected: int) -> int:
        """The download count once it reaches ``expected`` (or after 2 s): the simulator records a request
        when its answer is fully sent, which can be after a client that hung up early has moved on."""
        with anyio.move_on_after(2):
            while self.downloads() < expected:
                await anyio.sleep(0.01)
        return self.downloads()


@asynccontextmanager
async def running_cdn(engine: str, video_size: int | None = None) -> AsyncIterator[Cdn]:
    clock = ManualClock()
    sim = Simulator(SimulatorConfig(api_key=FAKE_KEY, clock=clock, video_size=video_size))
    async with serve_simulator(sim) as api, httpx2.AsyncClient() as http:
        yield Cdn(sim, clock, api, http, via=None if engine == "direct" else http)


@pytest.fixture(params=["direct", "httpx"])
def engine(request: pytest.FixtureRequest) -> str:
    """Every behaviour holds on both download paths: the threaded fast path and a given httpx client."""
    return str(request.param)


@pytest.fixture
async def cdn(engine: str) -> AsyncIterator[Cdn]:
    async with running_cdn(engine) as running:
        yield running


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def leftovers(folder: Path) -> list[str]:
    """Temporary part files left in ``folder``."""
    return [p.name for p in folder.iterdir() if ".part-" in p.name] if folder.exists() else []


def mock_client(handler: Callable[[httpx2.Request], httpx2.Response], **kwargs: object) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.MockTransport(handler), **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------
# Normal downloads
# ------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_video_is_saved_byte_for_byte(cdn: Cdn, tmp_path: Path) -> None:
    url = cdn.file_url(await cdn.finished_task())
    saved = await download_file(cdn.via, url, tmp_path / "v.mp4", kind="video", policy=FAST)
    served = (await cdn.http.get(url)).content
    assert (tmp_path / "v.mp4").read_bytes() == served
    assert saved.size == len(served)
    assert saved.path == tmp_path / "v.mp4"
    assert saved.kind == "video"
    assert saved.reused is False


@pytest.mark.anyio
async def test_the_cover_is_saved_byte_for_byte(cdn: Cdn, tmp_path: Path) -> None:
    url = cdn.file_url(await cdn.finished_task(), "jpg")
    saved = await download_file(cdn.via, url, tmp_path / "c.jpg", kind="cover", policy=FAST)
    assert (tmp_path / "c.jpg").read_bytes() == (await cdn.http.get(url)).content
    assert saved.kind == "cover"


@pytest.mark.anyio
async def test_the_destination_folder_is_created(cdn: Cdn, tmp_path: Path) -> None:
    dest = tmp_path / "a" / "b" / "v.mp4"
    await download_file(cdn.via, cdn.file_url(await cdn.finished_task()), dest, kind="video", policy=FAST)
    assert dest.is_file()


@pytest.mark.anyio
async def test_a_large_video_streams_in_constant_memory(engine: str, tmp_path: Path) -> None:
    size = 200 * 1024 * 1024
    async with running_cdn(engine, video_size=size) as big:
        url = big.file_url(await big.finished_task())
        dest = tmp_path / "big.mp4"
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            saved = await download_file(big.via, url, dest, kind="video", policy=FAST)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    try:
        assert saved.size == size
        assert dest.stat().st_size == size
        assert peak - before < 32 * 1024 * 1024
    finally:
        dest.unlink()  # 200 MB is too much to leave in pytest's kept tmp folders


# ------------------------------------------------------------------------------------------------
# Reuse
# ------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_verified_file_is_reused_without_any_request(cdn: Cdn, tmp_path: Path) -> None:
    url = cdn.file_url(await cdn.finished_task())
    first = await download_file(cdn.via, url, tmp_path / "v.mp4", kind="video", policy=FAST)
    before = cdn.downloads()
    again = await download_file(cdn.via, url, tmp_path / "v.mp4", kind="video", policy=FAST)
    assert again.reused is True
    assert again.size == first.size
    assert cdn.downloads() == before


@pytest.mark.anyio
async def test_a_reused_file_needs_no_server_at_all(tmp_path: Path) -> None:
    dest = tmp_path / "v.mp4"
    dest.write_bytes(MP4_HEAD + bytes(100))
    async with mock_client(lambda request: pytest.fail("no request expected")) as http:
        saved = await download_file(http, "https://cdn.example/v.mp4", dest, kind="video")
    assert saved.reused is True
    assert saved.size == 112


@pytest.mark.anyio
@pytest.mark.parametrize("content", [b"", b"<html>502</html>", b"\xff\xd8\xff\xe0 a jpeg"])
async def test_an_unverified_file_is_replaced(cdn: Cdn, tmp_path: Path, content: bytes) -> None:
    dest = tmp_path / "v.mp4"
    dest.write_bytes(content)
    saved = await download_file(
        cdn.via, cdn.file_url(await cdn.finished_task()), dest, kind="video", policy=FAST
    )
    assert saved.reused is False
    assert dest.read_bytes()[4:8] == b"ftyp"


@pytest.mark.anyio
async def test_a_symlink_at_dest_is_replaced_not_written_through(cdn: Cdn, tmp_path: Path) -> None:
    victim = tmp_path / "victim.mp4"
    victim.write_bytes(b"keep me")
    dest = tmp_path / "out" / "v.mp4"
    dest.parent.mkdir()
    dest.symlink_to(victim)
    await download_file(cdn.via, cdn.file_url(await cdn.finished_task()), dest, kind="video", policy=FAST)
    assert victim.read_bytes() == b"keep me"
    assert not dest.is_symlink()


# ------------------------------------------------------------------------------------------------
# Transient failures: retried
# ------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_dropped_connection_is_retried(cdn: Cdn, tmp_path: Path) -> None:
    task_id = await cdn.finished_task()
    cdn.sim.add_fault(Fault(target="download", kind="reset", task_id=task_id))
    saved = await download_file(cdn.via, cdn.file_url(task_id), tmp_path / "v.mp4", kind="video", policy=FAST)
    assert saved.size == (tmp_path / "v.mp4").stat().st_size
    assert cdn.downloads() == 2
    assert leftovers(tmp_path) == []


@pytest.mark.anyio
async def test_a_dropped_connection_with_one_attempt_leaves_nothing(cdn: Cdn, tmp_path: Path) -> None:
    task_id = await cdn.finished_task()
    cdn.sim.add_fault(Fault(target="download", kind="reset", task_id=task_id))
    url = cdn.file_url(task_id)
    with pytest.raises(DownloadFailed) as caught:
        await download_file(cdn.via, url, tmp_path / "v.mp4", kind="video", policy=DownloadPolicy(attempts=1))
    assert "truncated" in caught.value.message
    assert url in caught.value.message
    assert not (tmp_path / "v.mp4").exists()
    assert leftovers(tmp_path) == []


@pytest.mark.anyio
@pytest.mark.parametrize("status", [429, 500, 503])
async def test_a_transient_status_is_retried(cdn: Cdn, tmp_path: Path, status: int) -> None:
    task_id = await cdn.finished_task()
    cdn.sim.add_fault(Fault(target="download", kind="status", status=status, task_id=task_id))
    saved = await download_file(cdn.via, cdn.file_url(task_id), tmp_path / "v.mp4", kind="video", policy=FAST)
    assert saved.reused is False
    assert cdn.downloads() == 2


@pytest.mark.anyio
async def test_a_proxy_error_page_is_retried(cdn: Cdn, tmp_path: Path) -> None:
    task_id = await cdn.finished_task()
    cdn.sim.add_fault(Fault(target="download", kind="html", task_id=task_id))
    await download_file(cdn.via, cdn.file_url(task_id), tmp_path / "v.mp4", kind="video", policy=FAST)
    assert (tmp_path / "v.mp4").read_bytes()[4:8] == b"ftyp"


@pytest.mark.anyio
async def test_retries_stop_after_the_last_attempt(cdn: Cdn, tmp_path: Path) -> None:
    task_id = await cdn.finished_task()
    cdn.sim.add_fault(Fault(target="download", kind="html", task_id=task_id, times=3))
    with pytest.raises(DownloadFailed) as caught:
        await download_file(cdn.via, cdn.file_url(task_id), tmp_path / "v.mp4", kind="video", policy=FAST)
    assert caught.value.status == 502
    assert "(after 3 attempts)" in caught.value.message
    assert cdn.downloads() == 3
    assert not (tmp_path / "v.mp4").exists()


@pytest.mark.anyio
async def test_a_body_shorter_than_its_content_length_is_refused(tmp_path: Path) -> None:
    calls = 0

    def short_body(request: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        calls += 1
        return httpx2.Response(200, headers={"Content-Length": "5000"}, content=MP4_HEAD + bytes(100))

    async with mock_client(short_body) as http:
        with pytest.raises(DownloadFailed, match=r"truncated \(112 of 5,000 bytes arrived\)"):
            await download_file(
                http, "https://cdn.example/v.mp4", tmp_path / "v.mp4", kind="video", policy=FAST
            )
    assert calls == 3
    assert entries(tmp_path) == []


# ------------------------------------------------------------------------------------------------
# Permanent failures: at once, one request
# ------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_missing_file_fails_at_once(cdn: Cdn, tmp_path: Path) -> None:
    url = cdn.file_url("task_0000000000000000000")
    with pytest.raises(DownloadFailed) as caught:
        await download_file(cdn.via, url, tmp_path / "v.mp4", kind="video", policy=FAST)
    assert caught.value.status == 404
    assert cdn.downloads() == 1
    assert entries(tmp_path) == []


@pytest.mark.anyio
async def test_a_failure_says_what_to_do_next(cdn: Cdn, tmp_path: Path) -> None:
    url = cdn.file_url("task_0000000000000000000")
    with pytest.raises(DownloadFailed) as caught:
        await download_file(cdn.via, url, tmp_path / "v.mp4", kind="video", policy=FAST)
    assert isinstance(caught.value, IminiError)
    assert url in caught.value.message
    assert "get_task" in caught.value.next_step
    assert "still usable" in caught.value.next_step


@pytest.mark.anyio
async def test_forbidden_fails_at_once(cdn: Cdn, tmp_path: Path) -> None:
    task_id = await cdn.finished_task()
    cdn.sim.add_fault(Fault(target="download", kind="status", status=403, task_id=task_id))
    with pytest.raises(DownloadFailed, match="HTTP 403"):
        await download_file(cdn.via, cdn.file_url(task_id), tmp_path / "v.mp4", kind="video", policy=FAST)
    assert cdn.downloads() == 1


@pytest.mark.anyio
async def test_an_image_is_not_accepted_as_the_video(cdn: Cdn, tmp_path: Path) -> None:
    url = cdn.file_url(await cdn.finished_task(), "jpg")
    with pytest.raises(DownloadFailed, match="data that is not an MP4 video instead of the video"):
        await download_file(cdn.via, url, tmp_path / "v.mp4", kind="video", policy=FAST)
    # Refused after its first 12 bytes: the server may still be sending (and not yet have counted it).
    assert await cdn.downloads_once_recorded(1) == 1
    assert entries(tmp_path) == []


@pytest.mark.anyio
async def test_a_video_is_not_accepted_as_the_cover(cdn: Cdn, tmp_path: Path) -> None:
    url = cdn.file_url(await cdn.finished_task())
    with pytest.raises(DownloadFailed, match="not a JPEG or PNG image"):
        await download_file(cdn.via, url, tmp_path / "c.jpg", kind="cover", policy=FAST)
    assert entries(tmp_path) == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "said"), [(b"<!doctype html><p>Expired</p>", "an HTML/XML page"), (b'{"error": "gone"}', "JSON")]
)
async def test_an_error_page_served_with_200_is_refused(tmp_path: Path, body: bytes, said: str) -> None:
    calls = 0

    def page(request: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        calls += 1
        return httpx2.Response(200, content=body)

    async with mock_client(page) as http:
        with pytest.raises(DownloadFailed, match=f"sent {said} instead of the video"):
            await download_file(
                http, "https://cdn.example/v.mp4", tmp_path / "v.mp4", kind="video", policy=FAST
            )
    assert calls == 1
    assert entries(tmp_path) == []


@pytest.mark.anyio
async def test_an_announced_size_over_the_limit_fails_before_reading(tmp_path: Path) -> None:
    def big(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"Content-Length": str(10**12)}, content=MP4_HEAD)

    async with mock_client(big) as http:
        with pytest.raises(DownloadFailed, match="over the 2,147,483,648-byte limit"):
            await download_file(http, "https://cdn.example/v.mp4", tmp_path / "v.mp4", kind="video")
    assert entries(tmp_path) == []


@pytest.mark.anyio
async def test_a_body_over_the_limit_without_a_length_is_cut_off(tmp_path: Path) -> None:
    async def endless() -> AsyncIterator[bytes]:
        yield MP4_HEAD
        while True:
            yield bytes(1000)

    def stream(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=endless())

    async with mock_client(stream) as http:
        with pytest.raises(DownloadFailed, match="over the 50,000-byte limit"):
            await download_file(
                http,
                "https://cdn.example/v.mp4",
                tmp_path / "v.mp4",
                kind="video",
                policy=DownloadPolicy(max_bytes=50_000, chunk_size=4096),
            )
    assert entries(tmp_path) == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "url",
    ["ftp://cdn.example/v.mp4", "file:///etc/passwd", "javascript:alert(1)", "/files/v.mp4", "https://"],
)
async def test_only_http_urls_are_fetched(tmp_path: Path, url: str) -> None:
    async with mock_client(lambda request: pytest.fail("no request expected")) as http:
        with pytest.raises(DownloadFailed, match="Cannot download"):
            await download_file(http, url, tmp_path / "v.mp4", kind="video")
    assert entries(tmp_path) == []


@pytest.mark.anyio
async def test_the_api_key_is_not_sent_to_the_file_host(tmp_path: Path) -> None:
    seen: list[httpx2.Headers] = []

    def record(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers)
        return httpx2.Response(200, content=MP4_HEAD + bytes(100))

    async with mock_client(record, headers={"Authorization": f"Bearer {FAKE_KEY}"}) as http:
        await download_file(http, "https://cdn.example/v.mp4", tmp_path / "v.mp4", kind="video")
    assert "authorization" not in seen[0]


@pytest.mark.anyio
async def test_an_unwritable_destination_is_reported_as_such(cdn: Cdn, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(DownloadFailed) as caught:
        await download_file(
            cdn.via, cdn.file_url(await cdn.finished_task()), tmp_path / "file" / "v.mp4", kind="video"
        )
    assert "Could not save" in caught.value.message
    assert "writable" in caught.value.next_step


# ------------------------------------------------------------------------------------------------
# Time limits and cancellation
# ------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_silent_server_times_out(cdn: Cdn, tmp_path: Path) -> None:
    task_id = await cdn.finished_task()
    cdn.sim.add_fault(Fault(target="download", kind="delay", seconds=1.0, task_id=task_id))
    policy = DownloadPolicy(read_timeout=0.2, attempts=1)
    with pytest.raises(DownloadFailed, match=r"no data arrived for 0\.2 s"):
        await download_file(cdn.via, cdn.file_url(task_id), tmp_path / "v.mp4", kind="video", policy=policy)
    assert entries(tmp_path) == []


@pytest.mark.anyio
async def test_the_total_time_is_bounded(cdn: Cdn, tmp_path: Path) -> None:
    task_id = await cdn.finished_task()
    cdn.sim.add_fault(Fault(target="download", kind="delay", seconds=1.0, task_id=task_id))
    policy = DownloadPolicy(total_timeout=0.3)
    with pytest.raises(DownloadFailed, match=r"took longer than 0\.3 s"):
        await download_file(cdn.via, cdn.file_url(task_id), tmp_path / "v.mp4", kind="video", policy=policy)
    assert entries(tmp_path) == []


@pytest.mark.anyio
async def test_cancelling_while_the_server_delays_leaves_nothing(cdn: Cdn, tmp_path: Path) -> None:
    task_id = await cdn.finished_task()
    cdn.sim.add_fault(Fault(target="download", kind="delay", seconds=1.0, task_id=task_id))
    with anyio.move_on_after(0.3) as scope:
        await download_file(cdn.via, cdn.file_url(task_id), tmp_path / "v.mp4", kind="video", policy=FAST)
    assert scope.cancelled_caught
    assert entries(tmp_path) == []


@pytest.mark.anyio
async def test_cancelling_mid_body_removes_the_part_file(tmp_path: Path) -> None:
    halfway = anyio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        yield MP4_HEAD + bytes(1000)
        halfway.set()
        await anyio.sleep_forever()
        yield b""  # pragma: no cover

    def stream(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"Content-Length": "100000"}, content=stalls())

    part_files_seen: list[str] = []
    async with mock_client(stream) as http, anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: download_file(
                http,
                "https://cdn.example/v.mp4",
                tmp_path / "v.mp4",
                kind="video",
                policy=DownloadPolicy(chunk_size=64),
            )
        )
        await halfway.wait()
        await anyio.sleep(0.05)  # let the first chunk reach the disk
        part_files_seen = leftovers(tmp_path)
        tg.cancel_scope.cancel()
    assert len(part_files_seen) == 1
    assert entries(tmp_path) == []
