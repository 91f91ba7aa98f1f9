"""Fixtures of the fleet tests: nginx (failed on CI when missing, skipped elsewhere), a PostgreSQL server of
their own, and one running fleet for the session (harness.py), brought back to full strength around each test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fleet.harness import Fleet, running_fleet
from tests.fleet.nginx import nginx_binary
from tests.postgres import LocalPostgres, _missing, server_bin_dir
from tests.secret_scan import SecretScan, scanning

# Whatever the fleet's clients receive (results, errors, progress) is scanned for the database password;
# tests/fleet/test_secrets.py looks at the findings and at every log, after the other fleet tests ran.
PASSWORD_SCAN: list[SecretScan] = []


@pytest.fixture(scope="session")
def nginx_bin() -> str:
    found = nginx_binary()
    if found is None:
        _missing("nginx is not installed (apt-get install -y nginx)")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def fleet_pg() -> Iterator[LocalPostgres]:
    """A PostgreSQL server for the fleet alone: tests stop and restart it."""
    bin_dir = server_bin_dir()
    assert bin_dir is not None
    server = LocalPostgres(bin_dir, max_connections=100)
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="session")
def fleet_session(
    fleet_pg: LocalPostgres, nginx_bin: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fleet]:
    from mcp import Client

    with running_fleet(tmp_path_factory.mktemp("fleet"), fleet_pg, nginx_bin) as fleet:
        scan = SecretScan(fleet.password)
        PASSWORD_SCAN.append(scan)
        original = Client.__dict__["call_tool"]
        Client.call_tool = scanning(scan, original, "tool results")  # type: ignore[method-assign]
        try:
            yield fleet
        finally:
            Client.call_tool = original  # type: ignore[method-assign]


@pytest.fixture
def fleet(fleet_session: Fleet, request: pytest.FixtureRequest) -> Iterator[Fleet]:
    """The session's fleet, every part up; the password scan names this test."""
    fleet_session.heal()
    for scan in PASSWORD_SCAN:
        scan.test = request.node.nodeid
    yield fleet_session
    fleet_session.heal()
