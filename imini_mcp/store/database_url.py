"""A database URL in messages: its password never shows, in a log line, an error or a repr.

No psycopg here: the settings, the CLI and the lifespan use it without loading the driver.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

__all__ = ["DatabaseUnavailable", "redact_url", "scrub"]


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or used; the message names it with its password hidden."""


_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The database URL with its password (in the user part or a password parameter) replaced by ***."""
    if "://" not in url:  # libpq's "host=… password=…" form
        return _KEYWORD_PASSWORD.sub(r"\1***", url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<a database URL that cannot be parsed>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, hosts = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{hosts}"
    query = [(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(parts.query, True)]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="*")))


def _passwords(url: str) -> list[str]:
    found = [m.group(2).strip("'") for m in _KEYWORD_PASSWORD.finditer(url)]
    try:
        parts = urlsplit(url)
        found.append(parts.password or "")
        found += [v for k, v in parse_qsl(parts.query, True) if k.lower() == "password"]
    except ValueError:
        pass
    secrets = {p for raw in found if raw for p in (raw, unquote(raw), quote(raw, safe=""))}
    return sorted(secrets, key=len, reverse=True)


def scrub(text: object, url: str) -> str:
    """``text`` (say, a driver's error message) with the URL's password, in any spelling, replaced by ***."""
    shown = str(text)
    for secret in _passwords(url):
        shown = shown.replace(secret, "***")
    return shown
