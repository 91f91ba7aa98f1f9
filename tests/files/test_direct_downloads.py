"""The fast download path (`download_file(None, ...)`, imini_mcp/direct_get.py) against a raw loopback server.

test_downloads.py runs every simulator-backed behaviour on both paths; these are the answers the simulator
does not script, byte for byte on the wire: short bodies, endless bodies, redirects, compressed bodies,
proxies, TLS, cancellation mid-body, and how many downloads hold a thread at once.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.streams.tls
import pytest
import trustme
from anyio.abc import SocketStream

from imini_mcp.files import DownloadFailed, DownloadPolicy, download_file

FAST = DownloadPolicy(retry_wait=0.01, retry_wait_max=0.02, read_timeout=5, total_timeout=30)
MP4 = b"\x00\x00\x00\x1cftypisom" + bytes(range(256)) * 40  # 10 252 bytes

Reply = Callable[[bytes, SocketStream], Awaitable[None]]


@dataclass
class RawServer:
    """A loopback HTTP server whose every answer is written by hand; it records each request head."""

    url: str
    requests: list[bytes] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [head.split(b" ")[1].decode() for head in self.requests]


@asynccontextmanager
async def raw_server(reply: Reply, *, tls: ssl.SSLContext | None = None) -> AsyncIterator[RawServer]:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    server = RawServer(f"{'https' if tls else 'http'}://127.0.0.1:{port}")

    async def handle(stream: SocketStream) -> None:
        try:
            if tls is not None:
                # standard_compatible=False: no TLS close_notify dance with a client that already hung up
                stream = await anyio.streams.tls.TLSStream.wrap(  # type: ignore[assignment]
                    stream, ssl_context=tls, server_side=True, standard_compatible=False
                )
            head = b""
            while b"\r\n\r\n" not in head:
                head += await stream.receive()
            server.requests.append(head)
            await reply(head, stream)
        except (anyio.EndOfStream, anyio.BrokenResourceError, ssl.SSLError, OSError):
            pass
        finally:
            with contextlib.suppress(anyio.BrokenResourceError, OSError):
                await stream.aclose()

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle)
        yield server
        tg.cancel_scope.cancel()


def answer(status: str, body: bytes = b"", **headers: str) -> Reply:
    """Always the same answer; Content-Length is the body's unless given (an empty string drops it)."""
    headers.setdefault("Content_Length", str(len(body)))

    async def reply(head: bytes, stream: SocketStream) -> None:
        lines = [f"HTTP/1.1 {status}", "Connection: close"]
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items() if value != ""]
        await stream.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    return reply


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture(autouse=True)
def no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


# ------------------------------------------------------------------------------------------------
# What arrives is checked as on the httpx path
# ------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_plain_answer_is_saved_with_no_api_key_and_identity_asked(tmp_path: Path) -> None:
    async with raw_server(answer("200 OK", MP4)) as server:
        saved = await download_file(
            None, f"{server.url}/files/v.mp4?sig=a%20b", tmp_path / "v.mp4", kind="video"
        )
    assert (tmp_path / "v.mp4").read_bytes() == MP4
    assert saved.size == len(MP4)
    head = server.requests[0].lower()
    assert head.startswith(b"get /files/v.mp4?sig=a%20b http/1.1\r\n")
    assert b"accept-encoding: identity" in head
    assert b"user-agent: imini-mcp/" in head
    assert b"authorization" not in head


@pytest.mark.anyio
async def test_a_body_shorter_than_its_content_length_is_retried_then_refused(tmp_path: Path) -> None:
    async with raw_server(answer("200 OK", MP4[:112], Content_Length="5000")) as server:
        with pytest.raises(
            DownloadFailed, match=r"truncated \(112 of 5,000 bytes arrived\) \(after 3 attempts\)"
        ):
            await download_file(None, f"{server.url}/v.mp4", tmp_path / "v.mp4", kind="video", policy=FAST)
    assert len(server.requests) == 3
    assert entries(tmp_path) == []


@pytest.mark.anyio
async def test_a_body_without_a_length_ends_with_the_connection(tmp_path: Path) -> None:
    async with raw_server(answer("200 OK", MP4, Content_Length="")) as server:
        saved = await download_file(None, f"{server.url}/v.mp4", tmp_path / "v.mp4", kind="video")
    assert saved.size == len(MP4)


@pytest.mark.anyio
async def test_a_chunked_body_is_reassembled(tmp_path: Path) -> None:
    chunks = [MP4[:12], MP4[12:5000], MP4[5000:]]
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    async with raw_server(answer("200 OK", body, Content_Length="", Transfer_Encoding="chunked")) as server:
        await download_file(None, f"{server.url}/v.mp4", tmp_path / "v.mp4", kind="video")
    assert (tmp_path / "v.mp4").read_bytes() == MP4


@pytest.mark.anyio
async def test_an_error_page_served_with_200_is_refused_at_once(tmp_path: Path) -> None:
    async with raw_server(answer("200 OK", b"<!doctype html><p>Expired</p>")) as server:
        with pytest.raises(DownloadFailed, match="sent an HTML/XML page instead of the video"):
            await download_file(None, f"{server.url}/v.mp4", tmp_path / "v.mp4", kind="video", policy=FAST)
    assert len(server.requests) == 1
    assert entries(tmp_path) == []


@pytest.mark.anyio
async def test_an_announced_size_over_the_limit_fails_before_a_file_is_made(tmp_path: Path) -> None:
    async with raw_server(answer("200 OK", MP4, Content_Length=str(10**12))) as server:
        with pytest.raises(
            DownloadFailed, match="1,000,000,000,000 bytes, over the 2,147,483,648-byte limit"
        ):
            await download_file(None, f"{server.url}/v.mp4", tmp_path / "v.mp4", kind="video")
    assert entries(tmp_path) == []


@pytest.mark.anyio
async def test_an_endless_body_is_cut_off_at_the_limit(tmp_path: Path) -> None:
    async def endless(head: bytes, stream: SocketStream) -> None:
        await stream.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + MP4)
        while True:
            await stream.send(bytes(65536))

    async with raw_server(endless) as server:
        with pytest.raises(DownloadFailed, match="over the 500,000-byte limit"):
            await download_file(
                None,
                f"{server.url}/v.mp4",
                tmp_path / "v.mp4",
                kind="video",
                policy=DownloadPolicy(max_bytes=500_000, chunk_size=4096),
            )
    assert entries(tmp_path) == []


# ------------------------------------------------------------------------------------------------
# Redirects
# ------------------------------------------------------------------------------------------------


def redirecting(routes: dict[str, Reply]) -> Reply:
    async def reply(head: bytes, stream: SocketStream) -> None:
        path = head.split(b" ")[1].decode()
        await routes[path](head, stream)

    return reply


@pytest.mark.anyio
@pytest.mark.parametrize(
    "status", ["301 Moved Permanently", "302 Found", "303 See Other", "307 Temporary Redirect"]
)
async def test_a_redirect_is_followed(tmp_path: Path, status: str) -> None:
    routes = {"/a/v.mp4": answer(status, Location="../b/v.mp4?x=1"), "/b/v.mp4?x=1": answer("200 OK", MP4)}
    async with raw_server(redirecting(routes)) as server:
        await download_file(None, f"{server.url}/a/v.mp4", tmp_path / "v.mp4", kind="video")
    assert server.paths() == ["/a/v.mp4", "/b/v.mp4?x=1"]
    assert (tmp_path / "v.mp4").read_bytes() == MP4


@pytest.mark.anyio
@pytest.mark.parametrize("location", ["ftp://127.0.0.1/v.mp4", "file:///etc/passwd"])
async def test_a_redirect_away_from_http_is_refused(tmp_path: Path, location: str) -> None:
    async with raw_server(answer("302 Found", Location=location)) as server:
        with pytest.raises(DownloadFailed, match=r"redirected to a URL that is not http\(s\)"):
            await download_file(None, f"{server.url}/v.mp4", tmp_path / "v.mp4", kind="video", policy=FAST)
    assert len(server.requests) == 1


@pytest.mark.anyio
async def test_a_redirect_loop_stops(tmp_path: Path) -> None:
    async with raw_server(answer("302 Found", Location="/v.mp4")) as server:
        with pytest.raises(DownloadFailed, match="too many redirects"):
            await download_file(None, f"{server.url}/v.mp4", tmp_path / "v.mp4", kind="video", policy=FAST)
    assert len(server.requests) == 21  # the request and httpx's 20 redirects, no retry


# ------------------------------------------------------------------------------------------------
# What only httpx does: compressed bodies and proxies
# ------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_compressed_answer_is_fetched_again_through_httpx_and_decoded(tmp_path: Path) -> None:
    async with raw_server(answer("200 OK", gzip.compress(MP4), Content_Encoding="gzip")) as server:
        saved = await download_file(None, f"{server.url}/v.mp4", tmp_path / "v.mp4", kind="video")
    assert (tmp_path / "v.mp4").read_bytes() == MP4
    assert saved.size == len(MP4)
    assert len(server.requests) == 2  # the fast path's, then httpx's


@pytest.mark.anyio
async def test_a_proxied_url_goes_through_the_proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with raw_server(answer("200 OK", MP4)) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        await download_file(None, "http://cdn.example/files/v.mp4", tmp_path / "v.mp4", kind="video")
    assert proxy.requests[0].startswith(b"GET http://cdn.example/files/v.mp4 HTTP/1.1\r\n")
    assert (tmp_path / "v.mp4").read_bytes() == MP4


@pytest.mark.anyio
async def test_a_host_in_no_proxy_is_fetched_directly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    async with raw_server(answer("200 OK", MP4)) as server:
        await download_file(None, f"{server.url}/v.mp4", tmp_path / "v.mp4", kind="video")
    assert server.paths() == ["/v.mp4"]


# ------------------------------------------------------------------------------------------------
# Connections and TLS
# ------------------------------------------------------------------------------------------------


def a_closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.anyio
async def test_a_refused_connection_is_retried_then_reported(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{a_closed_port()}/v.mp4"
    with pytest.raises(DownloadFailed, match=r"could not connect to the server \(after 3 attempts\)"):
        await download_file(None, url, tmp_path / "v.mp4", kind="video", policy=FAST)
    assert entries(tmp_path) == []


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


def tls_server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.mark.anyio
async def test_https_is_verified_against_the_trusted_certificates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, certificate_authority: trustme.CA
) -> None:
    bundle = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # as httpx honours it
    from imini_mcp.files import direct_get

    direct_get._tls_context.cache_clear()
    try:
        async with raw_server(answer("200 OK", MP4), tls=tls_server_context(certificate_authority)) as server:
            await download_file(None, f"{server.url}/v.mp4", tmp_path / "out" / "v.mp4", kind="video")
    finally:
        direct_get._tls_context.cache_clear()
    assert (tmp_path / "out" / "v.mp4").read_bytes() == MP4


@pytest.mark.anyio
async def test_an_untrusted_certificate_fails_at_once(
    tmp_path: Path, certificate_authority: trustme.CA
) -> None:
    async with raw_server(answer("200 OK", MP4), tls=tls_server_context(certificate_authority)) as server:
        with pytest.raises(DownloadFailed, match="TLS certificate could not be verified") as caught:
            await download_file(None, f"{server.url}/v.mp4", tmp_path / "v.mp4", kind="video", policy=FAST)
    assert "after" not in caught.value.message  # not worth a retry
    assert entries(tmp_path) == []


# ------------------------------------------------------------------------------------------------
# Cancellation and threads
# ------------------------------------------------------------------------------------------------


def stalls_after(first: bytes, length: int) -> Reply:
    async def reply(head: bytes, stream: SocketStream) -> None:
        await stream.send(f"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n".encode() + first)
        await anyio.sleep_forever()

    return reply


@pytest.mark.anyio
async def test_cancelling_mid_body_stops_the_thread_and_removes_the_part_file(tmp_path: Path) -> None:
    async with raw_server(stalls_after(MP4, 10**6)) as server:
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                lambda: download_file(None, f"{server.url}/v.mp4", tmp_path / "v.mp4", kind="video")
            )
            with anyio.fail_after(5):
                while not any(".part-" in name for name in entries(tmp_path)):
                    await anyio.sleep(0.01)
            started = time.monotonic()
            tg.cancel_scope.cancel()
        took = time.monotonic() - started
        assert entries(tmp_path) == []
    assert took < 5  # the blocked read was woken, not left to its 60 s read timeout


@pytest.mark.anyio
async def test_the_total_time_limit_also_stops_a_blocked_read(tmp_path: Path) -> None:
    async with raw_server(stalls_after(MP4, 10**6)) as server:
        with pytest.raises(DownloadFailed, match=r"took longer than 0\.5 s"):
            await download_file(
                None,
                f"{server.url}/v.mp4",
                tmp_path / "v.mp4",
                kind="video",
                policy=DownloadPolicy(total_timeout=0.5),
            )
        assert entries(tmp_path) == []  # while the server still holds the connection open


@pytest.mark.anyio
async def test_at_most_eight_downloads_hold_a_thread_and_the_rest_wait(tmp_path: Path) -> None:
    async with raw_server(stalls_after(MP4, 10**6)) as server, anyio.create_task_group() as tg:
        for n in range(10):
            tg.start_soon(
                lambda n=n: download_file(None, f"{server.url}/{n}.mp4", tmp_path / f"{n}.mp4", kind="video")
            )
        with anyio.fail_after(5):
            while len(server.requests) < 8:
                await anyio.sleep(0.01)
        await anyio.sleep(0.2)
        assert len(server.requests) == 8
        assert await anyio.to_thread.run_sync(lambda: "the default thread pool is free") == (
            "the default thread pool is free"
        )
        tg.cancel_scope.cancel()
    assert entries(tmp_path) == []


@pytest.mark.anyio
@pytest.mark.parametrize("chunk_size", [256 * 1024, 1000])
async def test_a_large_random_body_arrives_byte_for_byte(tmp_path: Path, chunk_size: int) -> None:
    # Over the 8 MiB flush-behind step, and random, so a reused buffer or a dropped page would show.
    body = MP4[:12] + os.urandom(24 * 1024 * 1024 + 12345)
    async with raw_server(answer("200 OK", body)) as server:
        saved = await download_file(
            None,
            f"{server.url}/v.mp4",
            tmp_path / "v.mp4",
            kind="video",
            policy=DownloadPolicy(chunk_size=chunk_size),
        )
    assert saved.size == len(body)
    assert hashlib.sha256((tmp_path / "v.mp4").read_bytes()).digest() == hashlib.sha256(body).digest()
