"""The key vault: keys sealed under IMINI_SECRET_KEY (new secret first, old ones still open them and the key is
sealed again under the new one on its next read), entries named by a keyed hash, used once."""

from __future__ import annotations

from pathlib import Path

import pytest

from imini_mcp.app import KeyVault
from imini_mcp.store import SqliteTaskStore
from tests.conftest import PERSON_KEYS

pytestmark = pytest.mark.anyio
OLD, NEW = "old-secret-" + "o" * 32, "new-secret-" + "n" * 32


async def test_rotating_the_server_secret(tmp_path: Path) -> None:
    store = SqliteTaskStore(tmp_path / "journal.db")
    try:
        await KeyVault(store, [OLD]).save_key("oidc:alice", PERSON_KEYS["alice"])
        sealed_old = store.sealed_key("oidc:alice")
        rotated = KeyVault(store, [NEW, OLD])
        assert await rotated.key_for("oidc:alice") == PERSON_KEYS["alice"]
        sealed_new = store.sealed_key("oidc:alice")
        assert sealed_new != sealed_old  # sealed again under the new secret
        assert await KeyVault(store, [NEW]).key_for("oidc:alice") == PERSON_KEYS["alice"]  # old one retired
        assert await KeyVault(store, ["other-" + "x" * 32]).key_for("oidc:alice") is None
        status = await rotated.status("oidc:alice")
        assert (status.connected, status.last_four) == (True, "1234")
    finally:
        store.close()


async def test_entries_are_single_use_and_survive_a_rotation(tmp_path: Path) -> None:
    store = SqliteTaskStore(tmp_path / "journal.db")
    try:
        old = KeyVault(store, [OLD])
        await old.put_entry("link", "the-link-id", {"owner": "oidc:alice"}, ttl=600)
        rotated = KeyVault(store, [NEW, OLD])
        assert await rotated.entry("link", "the-link-id") == {"owner": "oidc:alice"}
        assert await rotated.use_entry("link", "the-link-id") == {"owner": "oidc:alice"}
        assert await rotated.use_entry("link", "the-link-id") is None
        assert await rotated.entry("link", "another-id") is None
    finally:
        store.close()
