"""Each person's imini key, and the key page's short-lived entries, kept in the task store: sealed with
IMINI_SECRET_KEY (Fernet: AES-128-CBC + HMAC-SHA256), named by a keyed hash of their id.

IMINI_SECRET_KEY lists one or more secrets, the newest first: the newest seals, any unseals, and a key found
sealed under an older secret is sealed again under the newest when it is next read (rotation without a
migration step). An entry's id (a link's, a sign-in's, a session's) is random and single-use; the store holds
only its HMAC, so a copy of the database opens no link and no session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Final

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from imini_mcp.app.store_calls import stored
from imini_mcp.imini import IminiClient, TaskNotFound
from imini_mcp.store import TaskStore

__all__ = ["KeyStatus", "KeyVault", "check_key"]

PROBE_TASK: Final = "task_0"  # an id no task has: imini answers 404 to a valid key, 401 to a wrong one


def _derived(secret: str, purpose: bytes) -> bytes:
    return hashlib.sha256(b"imini-mcp " + purpose + b"\0" + secret.encode()).digest()


@dataclass(frozen=True)
class KeyStatus:
    """Whether a person has a key on file: only its last four characters are ever shown."""

    connected: bool
    last_four: str | None = None
    connected_at: float | None = None


class KeyVault:
    """Sealed keys by owner, sealed single-use entries by kind and id (see the module docstring)."""

    def __init__(self, store: TaskStore, server_secrets: list[str]) -> None:
        if not server_secrets:
            raise ValueError("the key vault needs IMINI_SECRET_KEY")
        fernets = [Fernet(base64.urlsafe_b64encode(_derived(s, b"seal"))) for s in server_secrets]
        self._store = store
        self._newest = fernets[0]
        self._any = MultiFernet(fernets)
        self._ref_keys = [_derived(s, b"ref") for s in server_secrets]

    # -- keys -----------------------------------------------------------------------------------------

    async def key_for(self, owner: str) -> str | None:
        found = await self._unseal_key(owner)
        return None if found is None else str(found["key"])

    async def status(self, owner: str) -> KeyStatus:
        found = await self._unseal_key(owner)
        if found is None:
            return KeyStatus(connected=False)
        return KeyStatus(connected=True, last_four=str(found["key"])[-4:], connected_at=found.get("at"))

    async def save_key(self, owner: str, key: str) -> None:
        sealed = self._seal({"key": key, "at": time.time()})
        await stored(self._store.put_sealed_key, owner, sealed)

    async def remove_key(self, owner: str) -> bool:
        return await stored(self._store.delete_sealed_key, owner)

    async def _unseal_key(self, owner: str) -> dict[str, Any] | None:
        sealed = await stored(self._store.sealed_key, owner)
        if sealed is None:
            return None
        try:
            value = self._newest.decrypt(sealed.encode())
        except InvalidToken:
            try:
                value = self._any.decrypt(sealed.encode())
            except InvalidToken:  # sealed under a secret no longer listed: as good as no key
                return None
            await stored(self._store.put_sealed_key, owner, self._newest.encrypt(value).decode())
        found: dict[str, Any] = json.loads(value)
        return found

    # -- single-use entries ---------------------------------------------------------------------------

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(32)

    async def put_entry(self, kind: str, entry_id: str, data: dict[str, Any], ttl: float) -> None:
        await stored(self._store.put_pending, kind, self._ref(entry_id, 0), self._seal(data), ttl)

    async def entry(self, kind: str, entry_id: str) -> dict[str, Any] | None:
        """The entry while unexpired and unused (reading does not use it)."""
        for n in range(len(self._ref_keys)):
            sealed = await stored(self._store.pending, kind, self._ref(entry_id, n))
            if sealed is not None:
                return self._unseal(sealed)
        return None

    async def use_entry(self, kind: str, entry_id: str) -> dict[str, Any] | None:
        """The entry, used up: of several racing calls (any process), one gets it."""
        for n in range(len(self._ref_keys)):
            sealed = await stored(self._store.use_pending, kind, self._ref(entry_id, n))
            if sealed is not None:
                return self._unseal(sealed)
        return None

    async def purge(self) -> int:
        """Forget the used and expired entries; how many."""
        return await stored(self._store.purge_pending)

    def _ref(self, entry_id: str, n: int) -> str:
        return hmac.new(self._ref_keys[n], entry_id.encode(), hashlib.sha256).hexdigest()

    def _seal(self, data: dict[str, Any]) -> str:
        return self._newest.encrypt(json.dumps(data).encode()).decode()

    def _unseal(self, sealed: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = json.loads(self._any.decrypt(sealed.encode()))
        except InvalidToken:
            return None
        return found


async def check_key(client: IminiClient) -> None:
    """One free read at imini with the key: returns when imini accepts the key (it does not know the probe id),
    raises imini's error otherwise (AuthenticationFailed for a 401)."""
    try:
        await client.get_task(PROBE_TASK)
    except TaskNotFound:
        return
