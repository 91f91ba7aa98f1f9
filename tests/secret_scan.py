"""pytest plugin: the imini API key never appears in anything the server answers or logs, anywhere in the suite.

For the whole session it watches, for the recognisable fake key of ``tests/conftest.py`` and the other secrets
listed there (each person's imini key of the OAuth tests, the server secret IMINI_SECRET_KEY):

* every log record of every logger, at DEBUG and up (a root handler; the root level is lowered to DEBUG for
  the session), including formatted tracebacks;
* every ``mcp.Client.call_tool`` and ``mcp.Client.read_resource`` result, every error they raise, and every
  progress message a call receives;
* every result of ``ClientSession.send_request`` (tool calls made on the session directly, MCP Tasks requests);
* whatever a test hands to the ``secret_scan`` fixture (e.g. a server subprocess's stderr).

If the key turns up anywhere, the session fails at the end, naming the test and where it was seen. The
terminal summary says how much was scanned, so a scan that silently saw nothing would show. Registered by
``pytest_plugins`` in ``tests/conftest.py``.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import pytest

__all__ = ["LogScanner", "SecretScan", "scanning", "secret_scan"]

_EXCERPT = 60  # characters shown either side of a finding (with the key itself masked)


class SecretScan:
    """Looks for secrets in texts; remembers where one was found and how much was scanned."""

    def __init__(self, *secrets: str) -> None:
        if not secrets or any(len(secret) < 8 for secret in secrets):
            raise ValueError("a secret this short would match by accident")
        self.secrets = secrets
        self.findings: list[str] = []
        self.scanned: Counter[str] = Counter()
        self.test = "(outside any test)"

    def scan(self, text: object, where: str, kind: str = "other") -> bool:
        """Scan ``text``; returns True (and records a finding) if a secret is in it."""
        self.scanned[kind] += 1
        text = text if isinstance(text, str) else repr(text)
        found = False
        for secret in self.secrets:
            at = text.find(secret)
            if at < 0:
                continue
            start, end = max(0, at - _EXCERPT), at + len(secret) + _EXCERPT
            excerpt = text[start:end].replace(secret, "<THE KEY>").replace("\n", "\\n")
            self.findings.append(f"{self.test}: {where}: …{excerpt}…")
            found = True
        return found

    def summary(self) -> str:
        seen = ", ".join(f"{n} {kind}" for kind, n in sorted(self.scanned.items())) or "nothing"
        verdict = (
            f"the API key was found {len(self.findings)} time(s)" if self.findings else "no API key found"
        )
        return f"secret scan: scanned {seen}; {verdict}"


class LogScanner(logging.Handler):
    """Root handler: every record, message and traceback, is scanned."""

    def __init__(self, scanner: SecretScan) -> None:
        super().__init__(logging.DEBUG)
        self.scanner = scanner
        self._formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string: scan its parts instead
            text = f"{record.msg!r} {record.args!r}"
        if record.exc_info:
            text += "\n" + self._formatter.formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + record.stack_info
        self.scanner.scan(text, f"log record of {record.name!r} at {record.levelname}", "log records")


def _label(request: Any) -> str:
    """A short name for what was asked: the tool name or URI, or the request's method (never its payload)."""
    return (
        repr(request) if isinstance(request, str) else str(getattr(request, "method", type(request).__name__))
    )


def _dump(result: Any) -> str:
    dump = getattr(result, "model_dump_json", None)
    return dump() if callable(dump) else repr(result)


def scanning(scanner: SecretScan, method: Callable[..., Awaitable[Any]], kind: str) -> Callable[..., Any]:
    """Wrap an async client method: scan its result, its error, and the progress messages it receives."""

    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        what = f"{method.__qualname__}({_label(args[0]) if args else ''})"
        callback = kwargs.get("progress_callback")
        if callback is not None:

            async def progress(progress: float, total: float | None, message: str | None) -> None:
                scanner.scan(message or "", f"progress message of {what}", "progress messages")
                await callback(progress, total, message)

            kwargs["progress_callback"] = progress
        try:
            result = await method(self, *args, **kwargs)
        except Exception as exc:
            scanner.scan(f"{exc!r} {exc}", f"error raised by {what}", f"{kind} errors")
            raise
        scanner.scan(_dump(result), f"result of {what}", kind)
        return result

    wrapper.__secret_scan_original__ = method  # type: ignore[attr-defined]
    return wrapper


class _Plugin:
    """The session-wide scan: installs itself on configure, reports and fails at the end."""

    def __init__(self, scanner: SecretScan) -> None:
        self.scanner = scanner
        self.handler = LogScanner(scanner)
        self._root_level: int | None = None
        self._patched: list[tuple[Any, str, Any]] = []

    def install(self) -> None:
        from mcp import Client
        from mcp.client.session import ClientSession

        root = logging.getLogger()
        self._root_level = root.level
        root.setLevel(logging.DEBUG)
        root.addHandler(self.handler)
        for owner, name, kind in (
            (Client, "call_tool", "tool results"),
            (Client, "read_resource", "resource reads"),
            (ClientSession, "send_request", "session results"),
        ):
            original = owner.__dict__[name]
            self._patched.append((owner, name, original))
            setattr(owner, name, scanning(self.scanner, original, kind))

    def uninstall(self) -> None:
        for owner, name, original in reversed(self._patched):
            setattr(owner, name, original)
        self._patched.clear()
        root = logging.getLogger()
        root.removeHandler(self.handler)
        if self._root_level is not None:
            root.setLevel(self._root_level)

    def _ensure_handler(self) -> None:
        # logging.basicConfig(force=True) (the CLI's setup, if a test runs it in-process) drops root handlers.
        root = logging.getLogger()
        if self.handler not in root.handlers:
            root.addHandler(self.handler)
        if root.level > logging.DEBUG:
            root.setLevel(logging.DEBUG)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        self.scanner.test = item.nodeid
        self._ensure_handler()
        try:
            return (yield)
        finally:
            self.scanner.test = "(between tests)"

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.scanner.findings:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.scanner.findings:
            terminalreporter.section("secret scan: the API key leaked", sep="=", red=True, bold=True)
            for finding in self.scanner.findings[:50]:
                terminalreporter.line(finding, red=True)
            if len(self.scanner.findings) > 50:
                terminalreporter.line(f"… and {len(self.scanner.findings) - 50} more", red=True)
        terminalreporter.write_line(self.scanner.summary())

    def pytest_unconfigure(self) -> None:
        self.uninstall()


_PLUGIN_NAME = "imini-secret-scan"


def pytest_configure(config: pytest.Config) -> None:
    from tests.conftest import FAKE_KEY, PERSON_KEYS, SERVER_SECRET

    if config.pluginmanager.has_plugin(_PLUGIN_NAME):
        return
    plugin = _Plugin(SecretScan(FAKE_KEY, *PERSON_KEYS.values(), SERVER_SECRET))
    plugin.install()
    config.pluginmanager.register(plugin, _PLUGIN_NAME)


@pytest.fixture
def secret_scan(pytestconfig: pytest.Config) -> SecretScan:
    """The session's scanner: ``secret_scan.scan(text, where)`` adds any text to the scan."""
    plugin = pytestconfig.pluginmanager.get_plugin(_PLUGIN_NAME)
    assert isinstance(plugin, _Plugin)
    return plugin.scanner
