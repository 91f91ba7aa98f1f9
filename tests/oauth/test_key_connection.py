"""Each person's imini key, collected once through URL elicitation and the key page (no shared upstream key):
both protocol eras, the text fallback, the imini_key tool, and the link refused when replayed, expired, tampered
or opened by someone else (nothing stored). The keys are checked by the secret scan (tests/conftest.py)."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx2
import pytest

from imini_mcp.simulator import Fault
from tests.conftest import PERSON_KEYS, SERVER_SECRET
from tests.oauth.conftest import Served, Upstream
from tests.oauth.connector import Connector, open_page, submit_key
from tests.oauth.harness import authorization_server, bound_socket
from tests.tasks_client import TasksClientExtension

pytestmark = pytest.mark.anyio
ALICE, BOB = PERSON_KEYS["alice"], PERSON_KEYS["bob"]
PROMPT = {"prompt": "a paper boat on a pond", "wait_seconds": 0}


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_first_paid_call_asks_for_the_key_once(
    oauth_server: Any, upstream: Upstream, mode: str
) -> None:
    upstream.sim.config.api_key = ALICE  # imini takes Alice's key only: a submit that passes carried it
    async with oauth_server(api_key=None) as served:
        alice = Connector(served, "alice", key=ALICE)
        try:
            async with alice.session(served, mode, elicitation_callback=alice.elicitation) as client:
                dry = await client.call_tool("generate_video", PROMPT | {"dry_run": True})
                first = await client.call_tool("generate_video", PROMPT)
                second = await client.call_tool("generate_video", PROMPT | {"prompt": "another boat"})
                status = await client.call_tool("imini_key", {})
                removed = await client.call_tool("imini_key", {"action": "remove"})
                after = await client.call_tool("imini_key", {"action": "status"})
        finally:
            await alice.aclose()
    assert len(alice.elicited) == 1  # asked once; the dry run needs no key
    assert alice.elicited[0].mode == "url"
    assert "/connect/imini-key?e=" in alice.elicited[0].url
    assert alice.pages[0].status_code == 200
    assert "ending in <strong>1234</strong>" in alice.pages[0].text
    assert not dry.is_error
    assert not first.is_error, first.content
    assert not second.is_error
    assert upstream.sim.ledger.submits_received == 2
    assert status.structured_content["connected"] is True
    assert status.structured_content["last_four"] == "1234"
    assert removed.structured_content["removed"] is True
    assert after.structured_content["connected"] is False


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_without_url_elicitation_the_error_carries_the_link(oauth_server: Any, mode: str) -> None:
    async with oauth_server(api_key=None) as served:
        alice = Connector(served, "alice")
        try:
            async with alice.session(served, mode) as client:  # no elicitation callback: no url mode declared
                refused = await client.call_tool("generate_video", PROMPT)
                text = refused.content[0].text
                url = text[text.index("http") :].split()[0]
                done = await submit_key(alice.browser, await open_page(alice.browser, url), ALICE)
                retried = await client.call_tool("generate_video", PROMPT)
        finally:
            await alice.aclose()
    assert refused.is_error
    assert "/connect/imini-key?e=" in url
    assert done.status_code == 200
    assert not retried.is_error


async def test_declining_submits_nothing(oauth_server: Any, upstream: Upstream) -> None:
    async with oauth_server(api_key=None) as served:
        alice = Connector(served, "alice", key=None)  # declines
        try:
            async with alice.session(served, "auto", elicitation_callback=alice.elicitation) as client:
                declined = await client.call_tool("generate_video", PROMPT)
        finally:
            await alice.aclose()
    assert declined.is_error
    assert "declined" in declined.content[0].text
    assert upstream.sim.ledger.submits_received == 0


async def link_for(client: Any) -> str:
    return str((await client.call_tool("imini_key", {"action": "connect"})).structured_content["connect_url"])


async def test_a_link_is_refused_when_replayed_tampered_expired_or_opened_by_another(
    oauth_server: Any,
) -> None:
    async with oauth_server(api_key=None) as served:
        alice, bob = Connector(served, "alice"), Connector(served, "bob")
        try:
            async with alice.session(served, "auto") as a, bob.session(served, "auto") as b:
                await b.call_tool("imini_key", {})  # Bob is signed in at the authorization server too
                stolen = await open_page(bob.browser, await link_for(a))
                tampered = await open_page(alice.browser, (await link_for(a))[:-2] + "xy")
                expired_url = await link_for(a)
                expire_all_links(served)
                expired = await open_page(alice.browser, expired_url)
                url = await link_for(a)
                form = await open_page(alice.browser, url)
                used = await submit_key(alice.browser, form, ALICE)
                replayed = await open_page(alice.browser, url)
                reposted = await submit_key(alice.browser, form, BOB)
                alice_status = (await a.call_tool("imini_key", {})).structured_content
                bob_status = (await b.call_tool("imini_key", {})).structured_content
        finally:
            await alice.aclose()
            await bob.aclose()
    assert stolen.status_code == 403
    assert "different account" in stolen.text
    assert [tampered.status_code, expired.status_code, replayed.status_code] == [410, 410, 410]
    assert used.status_code == 200
    assert reposted.status_code == 410  # the same form again: the link is used up, Bob's key is not stored
    assert alice_status["last_four"] == "1234"
    assert bob_status["connected"] is False


def expire_all_links(served: Served) -> None:
    with sqlite3.connect(served.settings.journal_path) as db:
        db.execute("UPDATE pending SET expires_at = 0 WHERE kind = 'link'")


async def test_a_key_imini_refuses_is_not_stored(oauth_server: Any, upstream: Upstream) -> None:
    async with oauth_server(api_key=None) as served:
        alice = Connector(served, "alice")
        try:
            async with alice.session(served, "auto") as client:
                url = await link_for(client)
                form = await open_page(alice.browser, url)
                upstream.sim.add_fault(
                    Fault("poll", "status", status=401, code="UNAUTHORIZED", message="bad key")
                )
                refused = await submit_key(alice.browser, form, "sk-wrong-key-0000")
                nothing = (await client.call_tool("imini_key", {})).structured_content
                accepted = await submit_key(alice.browser, refused, ALICE)  # the link still works
        finally:
            await alice.aclose()
    assert refused.status_code == 400
    assert "imini refused this key (HTTP 401)" in refused.text
    assert nothing["connected"] is False
    assert accepted.status_code == 200


async def test_keys_and_links_are_sealed_at_rest(oauth_server: Any) -> None:
    async with oauth_server(api_key=None) as served:
        alice = Connector(served, "alice")
        try:
            async with alice.session(served, "auto") as client:
                url = await link_for(client)
                await submit_key(alice.browser, await open_page(alice.browser, url), ALICE)
        finally:
            await alice.aclose()
    with sqlite3.connect(served.settings.journal_path) as db:
        rows = db.execute("SELECT sealed FROM imini_keys").fetchall()
        refs = [r[0] for r in db.execute("SELECT ref FROM pending").fetchall()]
        dump = "\n".join(db.iterdump())
    assert len(rows) == 1
    link_id = url.split("e=")[1]
    for secret in (ALICE, ALICE[-8:], link_id, SERVER_SECRET, "alice"):
        assert secret not in dump
    assert link_id not in refs


async def test_the_page_without_a_link_or_sign_in(oauth_server: Any) -> None:
    async with oauth_server(api_key=None) as served, httpx2.AsyncClient() as http:
        bare = await http.get(f"{served.base}/connect/imini-key")
        forged = await http.get(f"{served.base}/connect/callback?code=x&state=never-issued")
        posted = await http.post(f"{served.base}/connect/imini-key", data={"e": "x", "api_key": ALICE})
    assert bare.status_code == 410
    assert forged.status_code == 400
    assert posted.status_code == 401
    assert bare.headers["cache-control"] == "no-store"
    assert "form-action 'self'" in bare.headers["content-security-policy"]


async def test_a_task_capable_client_is_asked_for_the_key_too(oauth_server: Any) -> None:
    """2026-07-28 with MCP Tasks: without a key the call runs as a plain one, which asks for it; the client's
    retry (the key now on file) and later calls are MCP tasks."""
    async with oauth_server(api_key=None) as served:
        alice = Connector(served, "alice", key=ALICE)
        tasks = TasksClientExtension()
        try:
            async with alice.session(
                served, "auto", elicitation_callback=alice.elicitation, extensions=[tasks]
            ) as client:
                first = await client.call_tool("generate_video", PROMPT)
                second = await client.call_tool("generate_video", PROMPT | {"prompt": "a second boat"})
        finally:
            await alice.aclose()
    assert len(alice.elicited) == 1
    assert not first.is_error, first.content
    assert not second.is_error
    assert len(tasks.handles) == 2


async def test_after_removing_the_key_a_read_that_needs_imini_says_how_to_connect(oauth_server: Any) -> None:
    async with oauth_server(api_key=None) as served:
        alice = Connector(served, "alice", key=ALICE)
        try:
            async with alice.session(served, "legacy", elicitation_callback=alice.elicitation) as client:
                submitted = await client.call_tool("generate_video", PROMPT)
                await client.call_tool("imini_key", {"action": "remove"})
                task_id = submitted.structured_content["task"]["task_id"]
                read = await client.call_tool("get_task", {"task_id": task_id})
                listed = await client.call_tool("list_tasks", {})  # the journal needs no key
        finally:
            await alice.aclose()
    assert read.is_error
    assert "No imini API key is connected for you yet" in read.content[0].text
    assert "imini_key" in read.content[0].text
    assert "IMINI_API_KEY" not in read.content[0].text
    assert [t["task_id"] for t in listed.structured_content["tasks"]] == [task_id]


async def test_the_key_page_signs_in_with_a_configured_client(oauth_server: Any, tmp_path: Any) -> None:
    """IMINI_OAUTH_CLIENT_ID / _SECRET instead of dynamic registration: the test AS's static client imini-web."""
    sock = bound_socket()
    callback = f"http://127.0.0.1:{sock.getsockname()[1]}/connect/callback"
    with authorization_server(tmp_path, WEB_REDIRECTS=callback, WEB_SECRET="web-secret-for-tests") as issuer:
        settings = {"oauth_client_id": "imini-web", "oauth_client_secret": "web-secret-for-tests"}
        async with oauth_server(issuer=issuer, sock=sock, api_key=None, **settings) as served:
            alice = Connector(served, "alice")
            try:
                async with alice.session(served, "auto") as client:
                    url = await link_for(client)
                    form = await open_page(alice.browser, url)
                    stored = await submit_key(alice.browser, form, ALICE)
                    status = (await client.call_tool("imini_key", {})).structured_content
            finally:
                await alice.aclose()
    assert stored.status_code == 200
    assert status["last_four"] == "1234"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_on_postgresql_as_a_fleet_replica(oauth_server: Any, pg_url: str, mode: str) -> None:
    """The key flow with the store in PostgreSQL (fleet mode): 2026-07-28 elicits; a stateless 2025-11-25
    server cannot push a request to the client, so the link comes in the answer."""
    async with oauth_server(api_key=None, database_url=pg_url) as served:
        alice = Connector(served, "alice", key=ALICE)
        try:
            async with alice.session(served, mode, elicitation_callback=alice.elicitation) as client:
                first = await client.call_tool("generate_video", PROMPT)
                if mode == "legacy":
                    text = first.content[0].text
                    url = text[text.index("http") :].split()[0]
                    await submit_key(alice.browser, await open_page(alice.browser, url), ALICE)
                    first = await client.call_tool("generate_video", PROMPT)
                status = (await client.call_tool("imini_key", {})).structured_content
        finally:
            await alice.aclose()
    assert served.settings.fleet_mode()
    assert not first.is_error, first.content
    assert status["last_four"] == "1234"
    assert len(alice.elicited) == (1 if mode == "auto" else 0)
