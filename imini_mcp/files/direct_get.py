"""A plain HTTP GET read with blocking calls: the fast path for result downloads, run in a worker thread.

Why not httpx: it reads 64 KiB at a time on the event loop and parses through h11 in pure Python, which
tops out near 300 MiB/s on loopback. Here the standard library's ``http.client`` reads the body straight
into the caller's reused buffer, in the thread that also writes it out: faster than ``curl`` on the
same URL (benchmarks/README.md). URLs are normalised and redirects resolved exactly as httpx does
(``httpx2.URL``), and TLS uses httpx's certificate settings (``httpx2.create_ssl_context``).

What it deliberately does not do, raising :class:`NeedsHttpx` so the caller takes the httpx path instead:
proxies (a URL, or a redirect, that the ``*_PROXY`` variables route through one), credentials in the URL,
and a compressed body (asked ``identity``, a server may still answer ``gzip``).

Every failure of the exchange is a :class:`GetFailed` with plain words and whether a retry may help;
an ``OSError`` escaping from here is never the network's (the caller counts those as disk errors).
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import socket
import ssl
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx2

__all__ = ["DirectGet", "GetFailed", "NeedsHttpx"]

MAX_REDIRECTS = 20  # httpx's default
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# How urllib itself reads NO_PROXY; undocumented, so typeshed lacks it (proxy_bypass() would also consult
# the system settings on macOS and Windows, which httpx does not).
_bypass_proxy: Callable[[str, dict[str, str]], bool] = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]


class GetFailed(Exception):
    """One attempt failed; ``transient`` says whether another attempt may succeed."""

    def __init__(self, cause: str, *, transient: bool, status: int | None = None) -> None:
        super().__init__(cause)
        self.cause = cause
        self.transient = transient
        self.status = status


class NeedsHttpx(Exception):
    """This URL needs something only the httpx path implements (a proxy, URL credentials, decoding)."""


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float  # longest wait for the next bytes


class DirectGet:
    """One GET: :meth:`open` follows redirects to the final answer, :meth:`readinto` reads its body.

    :meth:`abort` may be called from any thread: a blocked read returns at once and every later call
    raises :class:`GetFailed`. Use as a context manager so the connection is always closed.
    """

    def __init__(self, url: str, *, timeouts: Timeouts, headers: dict[str, str]) -> None:
        self.url = url
        self.timeouts = timeouts
        self.headers = {**headers, "Accept-Encoding": "identity"}  # bytes counted are bytes stored
        self.status = 0
        self.content_length: int | None = None
        self._conn: http.client.HTTPConnection | None = None
        self._response: http.client.HTTPResponse | None = None
        self._aborted = threading.Event()

    def __enter__(self) -> DirectGet:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()

    def open(self) -> None:
        """Send the GET and follow redirects; afterwards ``status`` and ``content_length`` are the final
        answer's (any status: judging it is the caller's job)."""
        url = httpx2.URL(self.url)
        for _ in range(MAX_REDIRECTS + 1):
            self._exchange(url)
            assert self._response is not None
            location = self._response.getheader("Location")
            if self.status not in _REDIRECTS or not location:
                break
            self._close()
            try:
                url = url.join(location)
            except httpx2.InvalidURL as exc:
                raise GetFailed("it redirected to an invalid URL", transient=False) from exc
            if url.scheme not in ("http", "https"):
                raise GetFailed("it redirected to a URL that is not http(s)", transient=False)
        else:
            raise GetFailed("too many redirects", transient=False)
        encoding = (self._response.getheader("Content-Encoding") or "identity").strip().lower()
        if encoding != "identity":
            raise NeedsHttpx(f"the body is encoded ({encoding})")
        length = self._response.getheader("Content-Length") or ""
        self.content_length = int(length) if length.isdigit() else None

    def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer`` with the next body bytes; 0 at the end. A body that ends early also reads as
        0 here: the caller compares what arrived with ``content_length`` and says how much arrived."""
        assert self._response is not None, "open() first"
        self._check_aborted()
        with self._waiting("the connection was closed before the whole file arrived (truncated)"):
            try:
                return self._response.readinto(buffer)
            except http.client.IncompleteRead:
                return 0

    def abort(self) -> None:
        self._aborted.set()
        conn = self._conn
        sock = conn.sock if conn is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv in the other thread

    # ----------------------------------------------------------------------------------------------

    def _exchange(self, url: httpx2.URL) -> None:
        if url.username or url.password:
            raise NeedsHttpx("the URL carries credentials")
        if _proxied(url):
            raise NeedsHttpx("a proxy applies to this URL")
        self._check_aborted()
        host = url.raw_host.decode("ascii")
        if url.scheme == "https":
            self._conn = http.client.HTTPSConnection(
                host, url.port, timeout=self.timeouts.connect, context=_tls_context()
            )
        else:
            self._conn = http.client.HTTPConnection(host, url.port, timeout=self.timeouts.connect)
        try:
            self._conn.connect()
        except TimeoutError as exc:
            raise GetFailed(f"could not connect within {self.timeouts.connect:g} s", transient=True) from exc
        except ssl.SSLCertVerificationError as exc:
            raise GetFailed(
                f"the server's TLS certificate could not be verified ({exc.verify_message})", transient=False
            ) from exc
        except OSError as exc:
            raise GetFailed("could not connect to the server", transient=True) from exc
        self._check_aborted()
        assert self._conn.sock is not None
        self._conn.sock.settimeout(self.timeouts.read)
        with self._waiting("the server closed the connection without a valid answer"):
            self._conn.request("GET", url.raw_path.decode("ascii"), headers=self.headers)
            self._response = self._conn.getresponse()
        self.status = self._response.status

    @contextlib.contextmanager
    def _waiting(self, broken: str) -> Iterator[None]:
        """Failures while waiting for the server, in plain words; ``broken`` says what a dropped connection
        means at this point."""
        try:
            yield
        except TimeoutError as exc:
            raise GetFailed(f"no data arrived for {self.timeouts.read:g} s", transient=True) from exc
        except (OSError, http.client.HTTPException) as exc:
            self._check_aborted()
            raise GetFailed(broken, transient=True) from exc

    def _check_aborted(self) -> None:
        if self._aborted.is_set():
            raise GetFailed("the download was stopped", transient=False)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()  # also closes the response
        self._conn = self._response = None


def _proxied(url: httpx2.URL) -> bool:
    """Whether the ``*_PROXY`` / ``NO_PROXY`` variables route ``url`` through a proxy (urllib's reading;
    httpx reads the same variables, so a proxied URL never leaves without its proxy)."""
    proxies = urllib.request.getproxies()
    if url.scheme not in proxies and "all" not in proxies:
        return False
    host = url.host if url.port is None else f"{url.host}:{url.port}"
    return not _bypass_proxy(host, proxies)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Built once (parsing the CA bundle takes ~30 ms); the same trust store and SSL_CERT_* handling as httpx.
    return httpx2.create_ssl_context()
