"""A fleet on loopback: PostgreSQL, one simulated imini, three imini-mcp replicas and nginx in front.

Everything is a real process, started as a user would start it:

* PostgreSQL: a throwaway server of its own (tests/postgres.py's ``LocalPostgres``), so a test may stop and
  restart it without disturbing the rest of the suite. The replicas log in as a role with a password
  (scram-sha-256 over TCP), so the secret checks have a password to look for.
* imini: ``python -m imini_mcp.simulator --port N`` once, shared by every replica; its ledger counts the
  submits and polls of the whole fleet.
* replicas: ``imini-mcp --transport streamable-http`` with only ``IMINI_*`` variables (no flags), logging at
  DEBUG to a file each.
* nginx: ``deploy/nginx.conf`` itself, with only its addresses and file paths swapped (``render_nginx_conf``),
  checked with ``nginx -t`` and run in the foreground.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import FAKE_KEY
from tests.fleet.nginx import NGINX_CONF, nginx_test, prepare_nginx_prefix, render_nginx_conf
from tests.postgres import LocalPostgres, admin, with_database
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"

QUEUED_SECONDS = 1.0  # a simulated task: 1 s queued + 3 s processing; the default schedule sees it at ~5 s
PROCESSING_SECONDS = 3.0
PUBLIC_HOST = "mcp.fleet.test"  # in IMINI_ALLOWED_HOSTS: reaches a replica only if nginx passes Host through
ROLE = "imini_fleet"
DATABASE = "imini_fleet"
LEASE_SECONDS = 4.0
SECRET_KEY = "fleet-request-state-key-" + "5e" * 16  # IMINI_SECRET_KEY: the same on every replica


# ---------------------------------------------------------------------------------------------------
# Processes


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], what: str, log: Path, timeout: float = 40
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer {url} within {timeout:g} s:\n{tail(log)}")
        time.sleep(0.05)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(process: subprocess.Popen[bytes] | None, grace: float = 20) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def imini_command() -> list[str]:
    script = Path(sys.executable).parent / "imini-mcp"
    return [str(script)] if script.exists() else [sys.executable, "-m", "imini_mcp"]


@dataclass
class Replica:
    name: str  # r1, r2, r3: nginx's imini-1, imini-2, imini-3
    port: int
    dir: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"

    @property
    def log(self) -> Path:
        return self.dir / "stderr.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Fleet:
    """The running fleet; see the module docstring. ``heal()`` brings it back to full strength."""

    tmp: Path
    pg: LocalPostgres
    db_url: str  # the replicas' URL, with the role's password
    password: str
    sim_port: int
    replicas: list[Replica]
    nginx_port: int
    nginx_prefix: Path
    nginx: str
    sim: subprocess.Popen[bytes] | None = None
    nginx_process: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    # -- addresses ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The MCP endpoint behind nginx."""
        return f"http://127.0.0.1:{self.nginx_port}/mcp"

    @property
    def sim_base(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    @property
    def admin_url(self) -> str:
        """The superuser on the fleet's database (trust auth), for looking at rows and connections."""
        return with_database(self.pg.url, DATABASE)

    # -- starting and stopping ---------------------------------------------------------------------

    def replica_env(self, replica: Replica, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("IMINI_")}
        env |= {
            "HOME": str(replica.dir),
            "PYTHONUNBUFFERED": "1",
            "IMINI_TRANSPORT": "streamable-http",
            "IMINI_HOST": "127.0.0.1",
            "IMINI_PORT": str(replica.port),
            "IMINI_DATABASE_URL": self.db_url,
            "IMINI_SECRET_KEY": SECRET_KEY,
            "IMINI_BASE_URL": f"{self.sim_base}/imini/router",
            "IMINI_API_KEY": FAKE_KEY,
            "IMINI_ALLOWED_HOSTS": PUBLIC_HOST,
            "IMINI_OUTPUT_MODE": "url",
            "IMINI_LOG_LEVEL": "DEBUG",
            "IMINI_JOURNAL_PATH": str(replica.dir / "unused.sqlite3"),
            "IMINI_OUTPUT_DIR": str(replica.dir / "videos"),
            "IMINI_READ_TIMEOUT": "10",
            # a dead poller's tasks are taken over after about this long (10 s by default): shorter here
            "IMINI_POLL_LEASE_SECONDS": str(LEASE_SECONDS),
        }
        return env | self.extra_env | overrides

    def spawn_replica(self, replica: Replica) -> None:
        replica.dir.mkdir(parents=True, exist_ok=True)
        with replica.log.open("ab") as log:
            log.write(f"--- start {replica.starts + 1} ---\n".encode())
            log.flush()
            replica.process = subprocess.Popen(
                imini_command(), env=self.replica_env(replica), cwd=replica.dir, stderr=log, stdout=log
            )
        replica.starts += 1

    def start_replicas(self, *replicas: Replica) -> None:
        """Start them together (a cold start costs ~1 s of CPU each), then wait for every /healthz."""
        for replica in replicas:
            self.spawn_replica(replica)
        for replica in replicas:
            assert replica.process is not None
            wait_until_up(f"{replica.base}/healthz", replica.process, f"replica {replica.name}", replica.log)

    def start_simulator(self) -> None:
        log = self.tmp / "simulator.log"
        command = [sys.executable, "-m", "imini_mcp.simulator", "--port", str(self.sim_port)]
        command += ["--queued-seconds", str(QUEUED_SECONDS), "--processing-seconds", str(PROCESSING_SECONDS)]
        command += ["--api-key", FAKE_KEY]
        with log.open("ab") as out:
            self.sim = subprocess.Popen(command, stderr=out, stdout=out, cwd=self.tmp)
        wait_until_up(f"{self.sim_base}/_simulator/ledger", self.sim, "the simulator", log)

    def start_nginx(self) -> None:
        prepare_nginx_prefix(self.nginx_prefix)
        conf = self.nginx_prefix / "nginx.conf"
        conf.write_text(
            render_nginx_conf(
                NGINX_CONF.read_text(),
                replicas=[r.port for r in self.replicas],
                listen=self.nginx_port,
                prefix=self.nginx_prefix,
            )
        )
        checked = nginx_test(self.nginx, conf, self.nginx_prefix)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{checked.stderr}")
        out = (self.nginx_prefix / "stderr.log").open("ab")
        with out:
            self.nginx_process = subprocess.Popen(
                [self.nginx, "-p", str(self.nginx_prefix), "-c", str(conf), "-g", "daemon off;"],
                stdout=out,
                stderr=out,
            )
        wait_until_up(
            f"http://127.0.0.1:{self.nginx_port}/healthz",
            self.nginx_process,
            "nginx",
            self.nginx_prefix / "error.log",
        )

    def heal(self) -> None:
        """After a test that killed something: the database up, every replica up."""
        if not self.database_up():
            self.pg.start()
        dead = [r for r in self.replicas if not r.alive()]
        if dead:
            self.start_replicas(*dead)

    def close(self) -> None:
        stop(self.nginx_process, grace=5)
        for replica in self.replicas:
            stop(replica.process)
        stop(self.sim, grace=5)

    # -- looking at things -------------------------------------------------------------------------

    def ledger(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.sim_base}/_simulator/ledger", timeout=10) as answer:
            return dict(json.loads(answer.read()))

    def polls(self, task_id: str) -> int:
        return sum(1 for e in self.ledger()["entries"] if e["kind"] == "poll" and e["task_id"] == task_id)

    def submits(self) -> int:
        return int(self.ledger()["submits_received"])

    def add_fault(self, **fault: Any) -> None:
        request = urllib.request.Request(
            f"{self.sim_base}/_simulator/faults",
            data=json.dumps(fault).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10):
            pass

    def database_up(self) -> bool:
        try:
            with admin(self.pg.url) as conn:
                conn.execute("SELECT 1")
        except Exception:
            return False
        return True

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with admin(self.admin_url) as conn:
            return list(conn.execute(sql, params).fetchall())

    def replica_by_poller(self, poller: str) -> Replica | None:
        """The replica whose poll loop a lease names (pollers carry their process id)."""
        for replica in self.replicas:
            if replica.alive() and re.search(rf"(^|\D){replica.pid}(\D|$)", poller):
                return replica
        return None

    def lease_holder(self, task_id: str) -> tuple[str, Replica | None] | None:
        rows = self.query(
            "SELECT poller FROM tasks WHERE task_id = %s AND poller IS NOT NULL AND lease_until >= now()",
            task_id,
        )
        if not rows:
            return None
        poller = str(rows[0][0])
        return poller, self.replica_by_poller(poller)

    def logs(self) -> dict[str, str]:
        """Every log this fleet wrote, by name."""
        found = {f"replica {r.name}": r.log for r in self.replicas}
        found |= {
            "simulator": self.tmp / "simulator.log",
            "nginx error log": self.nginx_prefix / "error.log",
            "nginx access log": self.nginx_prefix / "access.log",
            "nginx stderr": self.nginx_prefix / "stderr.log",
            "postgres log": self.pg.log,
        }
        found |= {f"extra {p.parent.name}": p for p in self.tmp.glob("extra-*/stderr.log")}
        return {name: path.read_text(errors="replace") for name, path in found.items() if path.exists()}

    def upstreams_seen(self, since: int = 0) -> list[str]:
        """The replica addresses nginx sent MCP requests to, one per request (access log lines from ``since``)."""
        lines = (self.nginx_prefix / "access.log").read_text().splitlines()[since:]
        # "up=A, B" when A refused the connection and B served: the last one served
        served = (re.search(r" up=(.+?) rt=", line) for line in lines if "/mcp" in line)
        return [m.group(1).split(", ")[-1] for m in served if m]

    def access_log_lines(self) -> int:
        path = self.nginx_prefix / "access.log"
        return len(path.read_text().splitlines()) if path.exists() else 0


@contextlib.contextmanager
def running_fleet(tmp: Path, pg: LocalPostgres, nginx: str) -> Iterator[Fleet]:
    """Start the whole fleet (about 3 s on this 2-core machine) and stop it at the end."""
    password = "pg-pw-" + secrets.token_hex(12)  # recognisable, and long enough never to match by chance
    with admin(pg.url) as conn:
        conn.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{password}'")
        conn.execute(f"CREATE DATABASE {DATABASE} OWNER {ROLE}")
    pg.require_password(ROLE)
    db_url = f"postgresql://{ROLE}:{password}@127.0.0.1:{pg.port}/{DATABASE}"
    fleet = Fleet(
        tmp=tmp,
        pg=pg,
        db_url=db_url,
        password=password,
        sim_port=free_port(),
        replicas=[Replica(f"r{i}", free_port(), tmp / f"r{i}") for i in (1, 2, 3)],
        nginx_port=free_port(),
        nginx_prefix=tmp / "nginx",
        nginx=nginx,
    )
    try:
        fleet.start_simulator()
        fleet.start_replicas(*fleet.replicas)
        fleet.start_nginx()
        yield fleet
    finally:
        fleet.close()


# ---------------------------------------------------------------------------------------------------
# Clients


@asynccontextmanager
async def mcp_client(url: str, *, legacy: bool = False, host: str | None = None) -> AsyncIterator[Client]:
    """An SDK client: 2026-07-28 (the default, ``Client(url)``'s) or a 2025-11-25 one (``legacy``).

    ``host``: the Host header to send (a public name, as a client behind DNS would).
    """
    headers = {"Host": host} if host else None
    http = httpx2.AsyncClient(timeout=httpx2.Timeout(30.0, read=300.0), headers=headers)
    transport = streamable_http_client(url, http_client=http)
    async with http, Client(transport, mode="legacy" if legacy else "auto") as client:  # type: ignore[arg-type]
        yield client


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text if result.content else result
    return dict(result.structured_content or {})


def kill(replica: Replica, sig: int = signal.SIGKILL) -> None:
    assert replica.process is not None
    replica.process.send_signal(sig)
    replica.process.wait(timeout=30)
