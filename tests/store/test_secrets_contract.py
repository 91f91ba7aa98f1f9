"""The SecretStore contract (store/secrets.py), on every TaskStore implementation of test_store_contract.py:
sealed keys per owner, and single-use, expiring entries that exactly one of racing users gets."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from imini_mcp.store import TaskStore
from tests.store.conftest import FakeClock
from tests.store.test_store_contract import factory, open_store, store

__all__ = ["factory", "open_store", "store"]  # the fixtures, per implementation


def test_keys_are_per_owner_replaced_and_removed(store: TaskStore) -> None:
    assert store.sealed_key("oidc:alice") is None
    store.put_sealed_key("oidc:alice", "sealed-1")
    store.put_sealed_key("oidc:bob", "sealed-b")
    store.put_sealed_key("oidc:alice", "sealed-2")
    assert store.sealed_key("oidc:alice") == "sealed-2"
    assert store.sealed_key("oidc:bob") == "sealed-b"
    assert store.delete_sealed_key("oidc:alice") is True
    assert store.delete_sealed_key("oidc:alice") is False
    assert store.sealed_key("oidc:alice") is None
    assert store.sealed_key("oidc:bob") == "sealed-b"


def test_keys_survive_a_reopen(open_store: Callable[[], TaskStore]) -> None:
    open_store().put_sealed_key("oidc:alice", "sealed")
    assert open_store().sealed_key("oidc:alice") == "sealed"


def test_an_entry_is_used_once_and_expires(store: TaskStore, clock: FakeClock) -> None:
    store.put_pending("link", "r1", "v1", ttl=600)
    store.put_pending("login", "r1", "other kind", ttl=600)
    assert store.pending("link", "r1") == "v1"
    assert store.pending("link", "r1") == "v1"  # reading does not use it
    assert store.use_pending("link", "r1") == "v1"
    assert store.use_pending("link", "r1") is None
    assert store.pending("link", "r1") is None
    assert store.pending("login", "r1") == "other kind"  # kinds are apart
    store.put_pending("link", "r2", "v2", ttl=600)
    clock.advance(600)
    assert store.pending("link", "r2") is None
    assert store.use_pending("link", "r2") is None
    assert store.use_pending("link", "never stored") is None


def test_putting_again_replaces_and_purge_keeps_only_live_entries(store: TaskStore, clock: FakeClock) -> None:
    store.put_pending("session", "s", "first", ttl=60)
    store.put_pending("session", "s", "second", ttl=60)
    assert store.pending("session", "s") == "second"
    store.put_pending("link", "used", "u", ttl=60)
    store.use_pending("link", "used")
    store.put_pending("link", "expired", "e", ttl=1)
    clock.advance(2)
    assert store.purge_pending() == 2
    assert store.pending("session", "s") == "second"


def test_of_racing_users_exactly_one_gets_the_entry(open_store: Callable[[], TaskStore]) -> None:
    store = open_store()
    store.put_pending("link", "race", "value", ttl=600)
    others = [open_store() for _ in range(4)]  # like other processes
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda s: s.use_pending("link", "race"), [*others, *others]))
    assert sorted(r for r in results if r is not None) == ["value"]
