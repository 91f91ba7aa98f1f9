"""deploy/nginx.conf on loopback: the same file with only its addresses and file paths swapped, and nginx
itself. No test machinery here: benchmarks/bench_fleet.py uses it too."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"


class RenderError(AssertionError):
    """deploy/nginx.conf no longer has a line the tests swap: update render_nginx_conf with it."""


def render_nginx_conf(text: str, *, replicas: list[int], listen: int, prefix: Path) -> str:
    """deploy/nginx.conf for loopback: replica ``imini-N:8000`` → ``127.0.0.1:replicas[N-1]``, ``listen 80``
    → ``127.0.0.1:listen``, pid/log/temp files under ``prefix``. Nothing else changes."""

    def swap(pattern: str, replacement: Any, count: int = 1) -> None:
        nonlocal text
        text, made = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        if made != count:
            raise RenderError(f"deploy/nginx.conf: expected {count} match(es) of {pattern!r}, found {made}")

    swap(r"^pid /tmp/nginx\.pid;", f"pid {prefix}/nginx.pid;")
    swap(r"^error_log /dev/stderr notice;", f"error_log {prefix}/error.log notice;")
    swap(r"^(\s*)access_log /dev/stdout mcp;", rf"\g<1>access_log {prefix}/access.log mcp;")
    swap(r"^(\s*)client_body_temp_path /tmp/nginx-body;", rf"\g<1>client_body_temp_path {prefix}/body;")
    swap(r"^(\s*)proxy_temp_path /tmp/nginx-proxy;", rf"\g<1>proxy_temp_path {prefix}/proxy;")
    swap(r"^(\s*)listen 80;", rf"\g<1>listen 127.0.0.1:{listen};")

    def replica(match: re.Match[str]) -> str:
        return f"{match.group(1)}server 127.0.0.1:{replicas[int(match.group(2)) - 1]} "

    swap(r"^(\s*)server imini-(\d+):8000 ", replica, count=len(replicas))
    return text


def nginx_binary() -> str | None:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    return found


def nginx_test(nginx: str, conf: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on a rendered configuration."""
    return subprocess.run(
        [nginx, "-t", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True, timeout=30
    )


def prepare_nginx_prefix(prefix: Path) -> None:
    """A prefix nginx's workers (user nobody) can use: temp dirs for bodies and proxied answers."""
    prefix.mkdir(parents=True, exist_ok=True)
    prefix.chmod(0o755)
    for name in ("body", "proxy"):
        (prefix / name).mkdir(exist_ok=True)
        (prefix / name).chmod(0o777)
