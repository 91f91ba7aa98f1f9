"""The database password never shows: in no log line of any process of the fleet, no tool result, error or
progress message a client received (tests/fleet/conftest.py scans those for the whole fleet session), and
not when a replica is given a wrong one. Runs after the other fleet tests (file order), so it also judges
what their faults (a killed replica, a database gone) made the fleet log."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import FAKE_KEY
from tests.fleet.conftest import PASSWORD_SCAN
from tests.fleet.harness import DATABASE, ROLE, Fleet, Replica, imini_command, mcp_client
from tests.processes import free_port
from tests.secret_scan import SecretScan

pytestmark = pytest.mark.anyio


async def test_the_database_password_is_in_no_result_error_or_log(
    fleet: Fleet, secret_scan: SecretScan
) -> None:
    async with mcp_client(fleet.url) as client:
        await client.call_tool("list_tasks", {})
        await client.call_tool("get_task", {"task_id": "task_that_does_not_exist", "wait_seconds": 0})
        await client.call_tool("generate_video", {"prompt": "a dry run", "dry_run": True})
    (scan,) = PASSWORD_SCAN
    assert scan.scanned["tool results"] >= 3
    assert not scan.findings, "\n".join(scan.findings)
    logs = fleet.logs()
    assert len(logs) >= 6
    assert "DEBUG" in logs["replica r1"]  # the replicas log everything, so the check sees everything
    for name, text in logs.items():
        assert fleet.password not in text, f"the database password is in the {name}"
        secret_scan.scan(text, f"fleet {name}", "fleet logs")  # and the imini key, with the suite's scan
    assert FAKE_KEY not in "".join(logs.values())


def test_a_replica_given_a_wrong_password_says_so_without_showing_it(fleet: Fleet) -> None:
    wrong = "wrong-pw-" + "9c" * 10
    replica = Replica("extra-wrong-password", free_port(), fleet.tmp / "extra-wrong-password")
    replica.dir.mkdir()
    env = fleet.replica_env(
        replica, IMINI_DATABASE_URL=f"postgresql://{ROLE}:{wrong}@127.0.0.1:{fleet.pg.port}/{DATABASE}"
    )
    run = subprocess.run(
        imini_command(), env=env, cwd=replica.dir, capture_output=True, text=True, timeout=60
    )
    replica.log.write_text(run.stderr + run.stdout)
    assert run.returncode != 0
    assert "password authentication failed" in run.stderr, run.stderr[-2000:]
    assert f"{ROLE}:***@127.0.0.1" in run.stderr  # the database named, its password hidden
    assert wrong not in run.stderr + run.stdout
    assert fleet.password not in run.stderr + run.stdout
