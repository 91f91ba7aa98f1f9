"""The task store contract: `TaskStore`, the `TaskRecord` it stores, and the errors it raises.

Every implementation (SQLite, PostgreSQL) keeps this contract, and tests/store/test_store_contract.py checks it.
"""

from __future__ import annotations

from typing import Any, Final, Literal, Protocol, get_args, runtime_checkable

from pydantic import BaseModel, ConfigDict

from imini_mcp.imini import TERMINAL_STATUSES
from imini_mcp.store.coordination import Coordination
from imini_mcp.store.secrets import SecretStore

__all__ = ["TASK_STATES", "IdempotencyConflict", "TaskRecord", "TaskState", "TaskStore"]

# submitting → accepted (imini issued a task id) → expired (imini later answered 404 for it);
# submitting → outcome_unknown (no id came back) or rejected (imini refused the submit).
TaskState = Literal["submitting", "accepted", "outcome_unknown", "rejected", "expired"]
TASK_STATES: Final[frozenset[str]] = frozenset(get_args(TaskState))


class TaskRecord(BaseModel):
    """One journalled submit, as stored. Immutable snapshot; read again for fresh data."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # built on first use: a faster start

    journal_id: int
    owner: str
    state: TaskState
    task_id: str | None
    model: str
    body: dict[str, Any]
    request_hash: str
    idempotency_key: str | None
    request_id: str | None
    status: str | None
    created_at: str | None
    completed_at: str | None
    videos: list[dict[str, Any]]
    error: dict[str, Any] | None
    files: list[str]
    submitted_at: float
    updated_at: float
    last_polled_at: float | None
    options: dict[str, Any] = {}  # per-task choices made at submit (output mode, file name)

    @property
    def is_terminal(self) -> bool:
        """True when nothing more will happen upstream: succeeded, failed, refused at submit, or expired."""
        return self.status in TERMINAL_STATUSES or self.state in ("rejected", "expired")


class IdempotencyConflict(Exception):
    """The idempotency key was already used by this owner for a different request body."""

    def __init__(self, existing: TaskRecord) -> None:
        super().__init__(
            f"idempotency key {existing.idempotency_key!r} was already used for a different request "
            f"(journal_id {existing.journal_id}, task_id {existing.task_id}); "
            "use a new key, or resend the same body"
        )
        self.existing = existing


@runtime_checkable
class TaskStore(Coordination, SecretStore, Protocol):
    """The durable record of every submitted task: what each implementation must guarantee.

    - Synchronous and thread-safe (the async app calls it from worker threads); several processes may
      share one store, and every guarantee below holds across them.
    - Every write is atomic and durable when the method returns: the paid submit is sent only after
      ``begin_submit`` returned, so a crash right after it loses nothing.
    - Partitioned per owner ("" in single-user mode): a method given ``owner`` never reads, lists,
      counts or changes another owner's rows. Only ``get_by_journal_id``, ``unfinished(None)``,
      ``stale_submitting`` and ``count(None)`` cross owners, for the server's own bookkeeping.
    - ``journal_id`` is assigned by the store, unique across owners and never reused; a later
      ``begin_submit`` gets a larger one than an earlier one that returned.
    - Times (submitted_at, updated_at, last_polled_at) are unix seconds from the store's clock.
    - Records are returned as fresh immutable snapshots; ``body`` and ``options`` read back equal to
      what was written, dict key order included (``body`` is exactly what was sent upstream).
    - One poller per task across processes, and waking waiters on changes: `Coordination` (coordination.py).
    - Sealed keys and single-use entries for OAuth mode: `SecretStore` (secrets.py).
    """

    def begin_submit(
        self,
        *,
        owner: str,
        model: str,
        body: dict[str, Any],
        request_hash: str,
        idempotency_key: str | None,
        options: dict[str, Any] | None = None,
    ) -> tuple[TaskRecord, bool]:
        """Write the intent to submit, durably, before the paid HTTP call.

        A new row has state 'submitting', no task id or status, no videos, files or error,
        submitted_at = updated_at = now, and ``options`` (or {}).

        The idempotency key is unique per owner: when this owner already used it, nothing is written
        and the existing row comes back, whatever its state. Checking and inserting is one atomic
        step: of concurrent calls with one key (threads or processes), exactly one creates the row.
        Without a key every call writes a new row.

        Returns:
            ``(record, True)`` for a new 'submitting' row; ``(existing, False)`` when this owner already
            used ``idempotency_key`` for the same ``request_hash`` (the caller must not submit again).

        Raises:
            IdempotencyConflict: the key was used for a different request_hash; nothing is written.
        """

    def mark_accepted(
        self,
        journal_id: int,
        *,
        task_id: str,
        request_id: str | None,
        created_at: str | None,
        model: str | None = None,
    ) -> TaskRecord:
        """Record the task id imini returned: state 'accepted', status 'queued', error cleared.

        Wins over 'outcome_unknown' / 'rejected' (a task id is hard evidence). ``request_id`` and
        ``model`` given as None keep the stored value. Repeating it with the same task id changes
        nothing and returns the row as it is (polls included). A task id is unique per owner.

        Raises:
            KeyError: unknown journal_id.
            ValueError: the row already holds another task id, or this owner already journalled
                task_id; nothing is changed.
        """

    def mark_outcome_unknown(self, journal_id: int, *, code: str, message: str) -> TaskRecord:
        """The submit may have reached imini but no task id came back; never retried automatically.

        State becomes 'outcome_unknown' with ``error`` = {"code", "message"}; not terminal. Only a
        'submitting' row changes: a settled row is never downgraded (a late timeout handler must not
        hide an accepted task id) and is returned as is.

        Raises:
            KeyError: unknown journal_id.
        """

    def mark_rejected(
        self,
        journal_id: int,
        *,
        code: str,
        message: str,
        status: int | None = None,
        request_id: str | None = None,
    ) -> TaskRecord:
        """imini definitely refused the submit (4xx): nothing was created or billed; terminal.

        State becomes 'rejected'. ``error`` is {"code", "message"} plus "status" (the HTTP status) and
        "request_id" when given (imini's error envelope); the task ``status`` stays None; a given
        ``request_id`` is also stored. Only a 'submitting' row changes: a settled row is never
        downgraded and is returned as is.

        Raises:
            KeyError: unknown journal_id.
        """

    def update_status(
        self,
        owner: str,
        task_id: str,
        *,
        status: str,
        completed_at: str | None = None,
        videos: list[dict[str, Any]] | None = None,
        error: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> TaskRecord | None:
        """Record one poll result; last_polled_at and updated_at become now.

        A terminal status (imini's TERMINAL_STATUSES) is final: after it, a stale poll ('processing'
        after 'succeeded') or a different terminal status only updates last_polled_at; the same
        terminal status again may refresh the results (e.g. fresh video URLs). Fields given as None
        keep their stored value. ``request_id`` only fills a missing one, so the submit's request id
        (the one support asks for) is kept. Any status string is stored; unknown ones are not terminal.
        A poll result for an 'expired' row is evidence that imini knows the task after all: the row is
        'accepted' again, and its error is the poll's (None clears the 404).

        Returns:
            The updated record; None, and nothing changed, if this owner has no such task.
        """

    def mark_expired(
        self,
        owner: str,
        task_id: str,
        *,
        code: str,
        message: str,
        status: int | None = None,
        request_id: str | None = None,
    ) -> TaskRecord | None:
        """imini answered that it does not know this accepted task (404): state 'expired', terminal.

        ``error`` becomes {"code", "message"} plus "status" and "request_id" when given (imini's error
        envelope); the last status seen, videos, files, options and the submit's request id are kept and
        updated_at becomes now. Only an 'accepted' row whose status is not terminal changes: a finished
        task keeps its result, and any other row (already expired included) is returned as it is. When a
        404 is final is the caller's decision (right after a submit it may only be a delay at imini).

        Returns:
            The record; None, and nothing changed, if this owner has no such task.
        """

    def add_files(self, owner: str, task_id: str, paths: list[str]) -> TaskRecord | None:
        """Add downloaded file paths: an ordered union, first-seen order kept, no duplicates.

        Returns:
            The updated record; None, and nothing changed, if this owner has no such task.
        """

    def merge_options(self, owner: str, task_id: str, key: str, changes: dict[str, Any]) -> TaskRecord | None:
        """Merge ``changes`` into the dict ``options[key]`` (created if missing); other keys are kept.

        Returns:
            The updated record; None, and nothing changed, if this owner has no such task.
        """

    def get(self, owner: str, task_id: str) -> TaskRecord | None:
        """The owner's record for an imini task id; None if this owner has none (even if another has)."""

    def get_by_journal_id(self, journal_id: int) -> TaskRecord | None:
        """Any owner's record by journal id, or None (internal use: the caller holds the id from begin_submit)."""

    def find_idempotent(self, owner: str, idempotency_key: str) -> TaskRecord | None:
        """The owner's record submitted under this idempotency key, or None."""

    def recent_same_request(self, owner: str, request_hash: str, *, since: float) -> list[TaskRecord]:
        """The owner's 'accepted'/'outcome_unknown' rows with this hash submitted at or after ``since``.

        Newest first, in the order of ``list_tasks``. 'submitting' and 'rejected' rows never appear.
        """

    def list_tasks(
        self,
        owner: str,
        *,
        status: str | None = None,
        since: float | None = None,
        limit: int = 20,
        before_journal_id: int | None = None,
        with_option: str | None = None,
    ) -> list[TaskRecord]:
        """One page of the owner's tasks, newest first: submitted_at descending, then journal_id descending.

        The order is total, so ties and a wall clock stepping back cannot reorder or repeat rows.

        Args:
            status: a state name ('submitting', 'accepted', 'outcome_unknown', 'rejected',
                'expired') matches the state, anything else the imini status ('queued', 'succeeded',
                ...); a value no row has gives []; None = all.
            since: only tasks submitted at or after this unix time.
            limit: page size; 0 or less gives [].
            before_journal_id: paging cursor, the journal_id of the last record of the previous page;
                the page continues strictly after it in the order, so chained pages (with the same
                filters) give every row exactly once. A cursor that is not one of this owner's rows
                reveals nothing about other owners: the page is this owner's rows with a smaller
                journal_id.
            with_option: only tasks whose options hold a (non-null) value under this key.
        """

    def unfinished(self, owner: str | None = None, *, with_option: str | None = None) -> list[TaskRecord]:
        """Accepted tasks whose status is not terminal, oldest first: what to follow again after a restart.

        Oldest first is submitted_at, then journal_id, ascending. No status yet, 'queued', 'processing'
        and statuses imini never documented count as not terminal; 'submitting', 'outcome_unknown' and
        'rejected' rows never appear (there is no task id to poll), nor do 'expired' ones (imini said 404). ``owner`` None means every owner;
        ``with_option``: only those whose options hold a (non-null) value under this key.
        """

    def stale_submitting(self, older_than: float) -> list[TaskRecord]:
        """Every owner's 'submitting' rows submitted before ``older_than`` (exclusive), oldest first.

        Those are intents whose process died mid-submit; oldest first as in ``unfinished``.
        """

    def count(self, owner: str | None = None) -> int:
        """Number of journalled submits, in any state, for one owner or (None) for all."""

    def close(self) -> None:
        """Release the store's resources. Idempotent; any other call afterwards raises."""
