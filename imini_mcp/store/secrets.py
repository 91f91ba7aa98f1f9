"""What the key page and OAuth mode keep between requests, in the task store: each person's imini key, and
short-lived single-use entries (a key-connection link, a pending sign-in, a signed-in page session).

The store keeps every value opaque: the app seals it first (encrypted with IMINI_SECRET_KEY) and names
entries by a keyed hash of their id, so the database alone holds neither a usable key nor a usable link.
`TaskStore` (base.py) includes `SecretStore`, and tests/store/test_secrets_contract.py checks it on each store.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["SecretStore"]


@runtime_checkable
class SecretStore(Protocol):
    """Sealed values by owner (keys) or by kind and reference (single-use entries); several processes may
    share them, and every guarantee below holds across them. Times come from the store's clock."""

    def put_sealed_key(self, owner: str, sealed: str) -> None:
        """Store (or replace) the owner's sealed key."""

    def sealed_key(self, owner: str) -> str | None:
        """The owner's sealed key, or None; never another owner's."""

    def delete_sealed_key(self, owner: str) -> bool:
        """Remove the owner's key; True if there was one."""

    def put_pending(self, kind: str, ref: str, sealed: str, ttl: float) -> None:
        """Store a single-use entry that expires ``ttl`` seconds from now; a ``(kind, ref)`` already stored is
        replaced (unused again)."""

    def pending(self, kind: str, ref: str) -> str | None:
        """The entry's value while it is unexpired and unused, else None (it stays unused)."""

    def use_pending(self, kind: str, ref: str) -> str | None:
        """Use the entry up, atomically: its value the first time it is used while unexpired; None for every
        other call, however many processes race for it."""

    def purge_pending(self) -> int:
        """Delete the expired and the used entries; how many."""
