"""deploy/: the compose file agrees with the settings and the nginx configuration, and nginx accepts that
configuration (the same file the fleet tests run, with only its addresses and paths swapped).

No container engine here: the compose file is read as YAML and checked for what would break a deployment
silently (a misspelt IMINI_ variable is ignored by the settings, an upstream name nobody serves, a healthcheck
on the wrong port).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from imini_mcp.request import MAX_WAIT_SECONDS
from imini_mcp.settings import Settings
from tests.fleet.harness import COMPOSE, ROOT
from tests.fleet.nginx import NGINX_CONF, RenderError, nginx_test, prepare_nginx_prefix, render_nginx_conf

yaml = pytest.importorskip("yaml")
REPLICAS = ("imini-1", "imini-2", "imini-3")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the "NAME=value" list form
        env = dict(item.split("=", 1) for item in env)
    return {name: str(value) for name, value in env.items()}


def test_compose_has_postgresql_three_replicas_and_nginx(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", *REPLICAS, "nginx"}
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:15")
    (volume,) = postgres["volumes"]
    name, _, target = volume.partition(":")
    assert target == "/var/lib/postgresql/data"
    assert name in compose["volumes"], "the database lives in a named volume"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    nginx = services["nginx"]
    assert any(v.split(":")[:2] == ["./nginx.conf", "/etc/nginx/nginx.conf"] for v in nginx["volumes"])
    assert all(nginx["depends_on"][r]["condition"] == "service_healthy" for r in REPLICAS)


def test_every_replica_is_built_from_the_dockerfile_with_the_fleet_settings(compose: dict[str, Any]) -> None:
    settings = set(Settings.model_fields)
    dockerfile = (ROOT / "Dockerfile").read_text()
    postgres_env = env_of(compose["services"]["postgres"])
    for name in REPLICAS:
        replica = compose["services"][name]
        build = replica["build"]
        assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == ROOT / "Dockerfile"
        assert build["args"]["EXTRAS"] == "postgres"  # psycopg in the image
        assert "ARG EXTRAS" in dockerfile
        assert "${EXTRAS:+[$EXTRAS]}" in dockerfile
        env = env_of(replica)
        unknown = {
            v for v in env if v.startswith("IMINI_") and v.removeprefix("IMINI_").lower() not in settings
        }
        assert not unknown, f"{name}: settings that imini-mcp does not read (misspelt?): {sorted(unknown)}"
        assert env["IMINI_TRANSPORT"] == "streamable-http"
        assert env["IMINI_HOST"] == "0.0.0.0"
        for required in (
            "IMINI_DATABASE_URL",
            "IMINI_SECRET_KEY",
            "IMINI_ALLOWED_HOSTS",
            "IMINI_MCP_AUTH_TOKEN",
        ):
            assert env.get(required), f"{name} needs {required}"
        assert env["IMINI_OUTPUT_MODE"] == "url"  # a downloaded file would be on one replica's disk only
        # the database URL names the postgres service, its user and database, and the same password variable
        url = urlsplit(re.sub(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}", "PW", env["IMINI_DATABASE_URL"]))
        assert url.scheme == "postgresql"
        assert url.hostname == "postgres"
        assert url.port == 5432
        assert url.username == postgres_env["POSTGRES_USER"]
        assert url.path == "/" + postgres_env["POSTGRES_DB"]
        assert "${POSTGRES_PASSWORD" in env["IMINI_DATABASE_URL"]
        assert postgres_env["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD")
        # the healthcheck asks this replica's port for /healthz
        check = " ".join(replica["healthcheck"]["test"])
        assert f"127.0.0.1:{env['IMINI_PORT']}/healthz" in check
        assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_replica_has_the_same_settings(compose: dict[str, Any]) -> None:
    """Any replica may answer any request: one server name, one secret key, one database."""
    envs = [env_of(compose["services"][name]) for name in REPLICAS]
    assert envs[0] == envs[1] == envs[2]


def test_nginx_sends_to_exactly_the_replicas_of_the_compose_file(compose: dict[str, Any]) -> None:
    conf = NGINX_CONF.read_text()
    servers = re.findall(r"^\s*server (\S+?):(\d+) ", conf, re.MULTILINE)
    ports = {env_of(compose["services"][name])["IMINI_PORT"] for name in REPLICAS}
    assert sorted(host for host, _ in servers) == sorted(REPLICAS)
    assert {port for _, port in servers} == ports
    published = compose["services"]["nginx"]["ports"]
    assert any(p.endswith(":80") for p in published)
    assert re.search(r"^\s*listen 80;", conf, re.MULTILINE)


def directives(conf: str) -> dict[str, list[str]]:
    """Every simple directive of the file (comments dropped), by name: 'proxy_read_timeout' → ['600s']."""
    found: dict[str, list[str]] = {}
    for raw in conf.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.endswith(";"):
            name, _, value = line[:-1].partition(" ")
            found.setdefault(name, []).append(value.strip())
    return found


def seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h)?", value).groups()  # type: ignore[union-attr]
    return float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[unit]


def size_bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG])?", value).groups()  # type: ignore[union-attr]
    return int(number) * {"k": 1024, "m": 1024**2, "g": 1024**3, None: 1}[unit.lower() if unit else None]


def test_nginx_conf_streams_passes_host_and_outlasts_the_longest_wait() -> None:
    conf = NGINX_CONF.read_text()
    found = directives(conf)
    assert not {"hash", "ip_hash", "sticky"} & set(found), "round robin: any replica serves any request"
    assert found["proxy_buffering"] == ["off"]
    assert "Host $http_host" in found["proxy_set_header"]  # without it the replicas answer 421
    assert found["proxy_http_version"] == ["1.1"]
    assert 'Connection ""' in found["proxy_set_header"]
    longest_wait = Settings.model_fields["max_wait_seconds"].default
    assert longest_wait == MAX_WAIT_SECONDS
    assert seconds(found["proxy_read_timeout"][0]) > longest_wait + 15  # + one SSE ping interval
    assert seconds(found["proxy_send_timeout"][0]) > longest_wait
    assert size_bytes(found["client_max_body_size"][0]) >= Settings.model_fields["max_body_bytes"].default
    assert found["proxy_next_upstream"] == [
        "error timeout"
    ]  # never non_idempotent: a paid POST is not resent
    assert re.search(r"location = /healthz \{\s*proxy_pass http://imini_mcp;", conf)
    assert "fsync" not in conf


def test_nginx_accepts_the_rendered_configuration(nginx_bin: str, tmp_path: Path) -> None:
    prefix = tmp_path / "nginx"
    prepare_nginx_prefix(prefix)
    conf = prefix / "nginx.conf"
    conf.write_text(
        render_nginx_conf(NGINX_CONF.read_text(), replicas=[18101, 18102, 18103], listen=18080, prefix=prefix)
    )
    checked = nginx_test(nginx_bin, conf, prefix)
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr
    rendered = conf.read_text()
    assert "imini-1" not in rendered
    assert "server 127.0.0.1:18102 max_fails=1" in rendered
    # only addresses and paths differ: the same directives, in the same order
    original, swapped = directives(NGINX_CONF.read_text()), directives(rendered)
    assert list(original) == list(swapped)
    for name in ("proxy_buffering", "proxy_set_header", "proxy_read_timeout", "proxy_next_upstream"):
        assert original[name] == swapped[name]


def test_a_changed_nginx_conf_fails_the_renderer_loudly() -> None:
    with pytest.raises(RenderError, match="listen 80"):
        render_nginx_conf(
            NGINX_CONF.read_text().replace("listen 80;", "listen 8081;"),
            replicas=[1, 2, 3],
            listen=9,
            prefix=Path("/x"),
        )


def test_the_env_example_names_every_variable_the_compose_file_requires() -> None:
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    example = (COMPOSE.parent / "env.example").read_text()
    named = set(re.findall(r"^(\w+)=", example, re.MULTILINE))
    assert required <= named, f"deploy/env.example lacks {sorted(required - named)}"
    assert not re.search(
        r"^\w+=\S", example.replace("IMINI_ALLOWED_HOSTS=localhost,localhost:8080", ""), re.MULTILINE
    ), "env.example must not carry secrets"
