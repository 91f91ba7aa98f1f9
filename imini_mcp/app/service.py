"""The flow behind the tools, with no MCP in it: dry run | record intent → submit → record id → wait → result.

Invariants: nothing is sent for an invalid request or a dry run; the intent is stored before the submit
and the task id right after it (shielded from cancellation, so an accepted task is never lost); a submit
is never repeated for the same idempotency key; every status any poll sees is stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import anyio

import imini_mcp.app.not_found as not_found
from imini_mcp.app.account import Account, Progress
from imini_mcp.app.delivery import FileDelivery
from imini_mcp.app.expiry import Expiry
from imini_mcp.app.recovery import submitter
from imini_mcp.app.results import GenerateVideoResult, TaskList, TaskView
from imini_mcp.app.store_calls import StoreUnavailable, stored
from imini_mcp.app.views import dry_run_result, progress_message, record_view, snapshot_view, task_list
from imini_mcp.files import shorten_data_uris
from imini_mcp.imini import (
    IminiError,
    RequestRejected,
    SubmitOutcomeUnknown,
    SubmitReceipt,
    TaskFollower,
    TaskNotFound,
    TaskSnapshot,
    WaitState,
)
from imini_mcp.request import (
    MAX_WAIT_SECONDS,
    CostEstimate,
    GenerateVideoArguments,
    WaitLimits,
    estimate_cost,
    request_notes,
)
from imini_mcp.store import IdempotencyConflict, TaskRecord, TaskStore

log = logging.getLogger(__name__)
T = TypeVar("T")

DUPLICATE_WINDOW = 600.0  # seconds: an identical body submitted within this window is pointed out
ACCEPT_RETRIES = (0.5, 1.0, 2.0, 4.0)  # seconds between tries to record an accepted task id


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class VideoService:
    """The use cases: generate (dry run or submit), get a task (waiting if asked), list tasks, follow to the end."""

    def __init__(
        self,
        *,
        store: TaskStore,
        follower: TaskFollower,
        limits: WaitLimits | None = None,
        delivery: FileDelivery | None = None,
        not_found_grace: float = not_found.NOT_FOUND_GRACE,
    ) -> None:
        self.store = store
        self.follower = follower
        self.limits = limits or WaitLimits()
        self.delivery = delivery
        self.expiry = Expiry(store, self.limits, not_found_grace)

    async def stored(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one store call off the event loop (store calls block); an outage is `StoreUnavailable`."""
        return await stored(fn, *args, **kwargs)

    async def _finish(self, view: TaskView, owner: str, output: str | None) -> TaskView:
        """A succeeded task in output mode file/both: save its files (once, verified)."""
        if self.delivery is None or view.status != "succeeded":
            return view
        record = await self.stored(self.store.get, owner, view.task_id)
        options = record.options if record else {}
        mode = self.delivery.mode(output, options.get("output"))
        return await self.delivery.deliver(view, owner=owner, mode=mode, name=options.get("output_name"))

    # -- generate_video ---------------------------------------------------------------------------

    async def generate(
        self, args: GenerateVideoArguments, account: Account | None, *, progress: Progress | None = None
    ) -> GenerateVideoResult:
        """Dry run (needs no account) or submit once, recorded, then wait as asked."""
        body = args.to_body()
        shown = shorten_data_uris(body)  # inline images would swamp the answer and the store
        cost = estimate_cost(args)
        notes = request_notes(args)
        if args.dry_run:
            return dry_run_result(shown, cost, notes)
        assert account is not None, "only a dry run needs no account"
        account.client.require_key()
        if self.delivery is not None:
            self.delivery.check_mode(self.delivery.mode(args.output, None))
        if note := self.limits.cap_note(args.wait_seconds):
            notes.append(note)
        digest = request_hash(body)
        try:
            earlier = await self.stored(
                self.store.recent_same_request, account.owner, digest, since=time.time() - DUPLICATE_WINDOW
            )
            record, fresh = await self._record_intent(args, account, shown, digest)
        except StoreUnavailable as exc:  # no recorded intent, no paid submit
            exc.message = "The request cannot be recorded before submitting it: the task store is unreachable"
            exc.next_step = "Nothing was sent or billed. Call generate_video again in a little while."
            raise
        if not fresh:
            return await self._replay(record, args, account, cost, notes, progress)
        if earlier:
            ids = ", ".join(r.task_id or f"journal #{r.journal_id}" for r in earlier[:3])
            notes.append(
                f"An identical request was submitted in the last {DUPLICATE_WINDOW / 60:g} minutes ({ids}); "
                "this is a new, separately billed video. Pass idempotency_key to make resubmits safe."
            )
        record = await self._submit(record, body, account)
        view = record_view(record)
        wait = self.limits.clamp(args.wait_seconds)
        if wait > 0:
            view = await self._finish(await self._wait(record, account, wait, progress), account.owner, None)
        return GenerateVideoResult(
            submitted=True,
            request_body=shown,
            estimated_cost=cost,
            notes=notes,
            task=view,
            next_step=view.next_step,
        )

    async def _record_intent(
        self, args: GenerateVideoArguments, account: Account, shown: dict[str, Any], digest: str
    ) -> tuple[TaskRecord, bool]:
        """Store the intent before the paid submit; `(record, False)` when the idempotency key was used already."""
        chosen = {k: v for k, v in (("output", args.output), ("output_name", args.output_name)) if v}
        try:
            return await self.stored(
                self.store.begin_submit,
                owner=account.owner,
                model=args.model,
                body=shown,
                request_hash=digest,
                idempotency_key=args.idempotency_key,
                options={**chosen, "submitter": submitter()},
            )
        except IdempotencyConflict as exc:
            raise RequestRejected(
                f"idempotency_key {args.idempotency_key!r} was already used for a different request "
                f"(task {exc.existing.task_id or 'with unknown outcome'})",
                next_step="Use a new idempotency_key for a new video, or resend exactly the earlier arguments.",
            ) from exc

    async def _submit(self, record: TaskRecord, body: dict[str, Any], account: Account) -> TaskRecord:
        # Shielded: once the POST may be on its way, a cancelled call must still record the outcome.
        with anyio.CancelScope(shield=True):
            try:
                receipt = await account.client.submit(body)
            except SubmitOutcomeUnknown as exc:
                await self.stored(
                    self.store.mark_outcome_unknown,
                    record.journal_id,
                    code=exc.code or "OUTCOME_UNKNOWN",
                    message=exc.message,
                )
                exc.next_step += f" It is recorded as journal entry #{record.journal_id}; see list_tasks."
                raise
            except IminiError as exc:
                await self.stored(
                    self.store.mark_rejected,
                    record.journal_id,
                    code=exc.code or type(exc).__name__,
                    message=exc.message,
                    status=exc.status,
                    request_id=exc.request_id,
                )
                raise
            except BaseException:
                await self.stored(
                    self.store.mark_outcome_unknown,
                    record.journal_id,
                    code="INTERRUPTED",
                    message="the server stopped during the submit",
                )
                raise
            accepted = await self._record_accepted(record, receipt)
        return accepted

    async def _record_accepted(self, record: TaskRecord, receipt: SubmitReceipt) -> TaskRecord:
        """Store the task id imini returned, retrying a store outage for a while: the task is paid for."""
        for delay in (*ACCEPT_RETRIES, None):
            try:
                return await self.stored(
                    self.store.mark_accepted,
                    record.journal_id,
                    task_id=receipt.task_id,
                    request_id=receipt.request_id,
                    created_at=receipt.created_at,
                    model=receipt.model,
                )
            except StoreUnavailable as exc:
                if delay is None:
                    exc.message = (
                        f"imini accepted task {receipt.task_id}, but the task store could not record it "
                        f"(journal #{record.journal_id} stays without it)"
                    )
                    exc.next_step = (
                        f'Do NOT resubmit: the video is being made. Call get_task with {{"task_id": '
                        f'"{receipt.task_id}"}} to follow it.'
                    )
                    raise
                await anyio.sleep(delay)
        raise AssertionError("unreachable")

    async def _replay(
        self,
        record: TaskRecord,
        args: GenerateVideoArguments,
        account: Account,
        cost: CostEstimate,
        notes: list[str],
        progress: Progress | None,
    ) -> GenerateVideoResult:
        """Same idempotency key, same body: report the first submit instead of submitting again."""
        if record.task_id is None:
            raise SubmitOutcomeUnknown(
                f"A submit with idempotency_key {args.idempotency_key!r} is {record.state.replace('_', ' ')} "
                f"(journal #{record.journal_id}); nothing was submitted again",
                next_step="Wait and check list_tasks; use a new idempotency_key only if you accept a possible "
                "second charge.",
            )
        view = record_view(record)
        wait = self.limits.clamp(args.wait_seconds)
        if wait > 0 and not view.is_terminal:
            view = await self._wait(record, account, wait, progress)
        view = await self._finish(view, account.owner, None)
        return GenerateVideoResult(
            submitted=False,  # by this call: the result says it is a replay, in its fields and its text
            replayed=True,
            request_body=record.body,
            estimated_cost=cost,
            notes=notes,
            task=view,
            next_step=view.next_step,
        )

    # -- get_task ---------------------------------------------------------------------------------

    async def get_task(
        self,
        task_id: str,
        account: Account,
        *,
        wait_seconds: float | None = None,
        progress: Progress | None = None,
        output: str | None = None,
    ) -> TaskView:
        if output is not None and self.delivery is not None:
            self.delivery.check_mode(output)
        record = await self.stored(self.store.get, account.owner, task_id)
        if record is None and account.journal_only:
            raise not_found.not_among_own(task_id)
        if record is not None and record.is_terminal:
            view = record_view(record)  # final: the store has everything, even after imini forgets the task
        elif record is not None and (wait := self.limits.clamp(wait_seconds)) > 0:
            view = await self._wait(record, account, wait, progress)
            if not view.is_terminal and (note := self.limits.cap_note(wait_seconds)):
                view.next_step = f"{note} {view.next_step}"
        elif (
            record is not None
            and await self.stored(self.store.poll_lease, account.owner, task_id) is not None
        ):
            view = record_view(record)  # a server polls it right now: the store is as fresh as a GET
        else:
            view = await self._read_once(task_id, record, account)
        return await self._finish(view, account.owner, output)

    async def _read_once(self, task_id: str, record: TaskRecord | None, account: Account) -> TaskView:
        """Ask imini once and record the answer; a 404 is answered by what the journal knows, if anything."""
        try:
            snapshot = await account.client.get_task(task_id)
        except TaskNotFound as exc:
            if record is None:
                raise not_found.unknown_task(exc) from None
            return await self.expiry.answer(record, account.owner, exc)
        updated = await self._record_snapshot(account.owner, snapshot)
        return record_view(updated) if updated else snapshot_view(snapshot)

    async def follow_to_end(self, task_id: str, account: Account) -> TaskView:
        """Background work: follow a recorded task until it ends, then save its files."""
        while True:
            record = await self.stored(self.store.get, account.owner, task_id)
            if record is None:
                raise TaskNotFound(f"Task {task_id} is not in the journal")
            if record.is_terminal:
                return await self._finish(record_view(record), account.owner, None)
            await self._wait(record, account, self.limits.max_seconds or MAX_WAIT_SECONDS, None)
            if self.follower.closing:
                return record_view(record)

    async def _record_snapshot(self, owner: str, snapshot: TaskSnapshot) -> TaskRecord | None:
        return await self.stored(
            self.store.update_status,
            owner,
            snapshot.task_id,
            status=snapshot.status,
            completed_at=snapshot.completed_at,
            videos=[v.model_dump() for v in snapshot.videos],
            error=snapshot.error.model_dump() if snapshot.error else None,
            request_id=snapshot.request_id,
        )

    async def _wait(
        self, record: TaskRecord, account: Account, seconds: float, progress: Progress | None
    ) -> TaskView:
        assert record.task_id is not None
        task_id = record.task_id
        age = max(0.0, time.time() - record.submitted_at)

        async def tick(state: WaitState) -> None:
            if progress is not None:
                await progress(state.elapsed, progress_message(state, record, age + state.elapsed))

        async def store(snapshot: TaskSnapshot) -> None:
            await self._record_snapshot(account.owner, snapshot)

        try:
            state = await self.follower.wait(
                account.owner,
                task_id,
                seconds=seconds,
                poll=partial(self._poll, record, account),
                record=store,
                on_tick=tick,
                age=age,
            )
        except TaskNotFound as exc:  # final (see _poll): recorded as expired
            return await self.expiry.answer(record, account.owner, exc)
        latest = await self.stored(self.store.get, account.owner, task_id) or record
        return self._after_wait(record_view(latest), latest, state)

    async def _poll(self, record: TaskRecord, account: Account) -> TaskSnapshot:
        """One read for the shared poll loop: a 404 that is not final yet is transient (the loop goes on)."""
        assert record.task_id is not None
        try:
            return await account.client.get_task(record.task_id)
        except TaskNotFound as exc:
            await self.expiry.unless_final(record, account.owner, exc)
            raise  # final: the caller records it as expired

    def _after_wait(self, view: TaskView, record: TaskRecord, state: WaitState) -> TaskView:
        """The next step of a wait that ended before the task did."""
        task_id = view.task_id
        if not view.is_terminal and isinstance(state.last_error, not_found.TaskNotVisibleYet):
            view.next_step = self.expiry.not_visible_step(view, record, time.time())
        elif not view.is_terminal and self.follower.closing:
            view.next_step = (
                f"The server is restarting; the task keeps running at imini. Call get_task with "
                f'{{"task_id": "{task_id}"}} in a moment.'
            )
        elif not view.is_terminal:
            view.next_step = (
                f"Still {view.status} after waiting {state.elapsed:.0f} s; the task keeps running at "
                f'imini. Call get_task with {{"task_id": "{task_id}", "wait_seconds": '
                f"{self.limits.clamp(None):g}}} to keep waiting."
            )
            if state.last_error is not None:
                view.next_step += f" (Last check failed: {state.last_error.message}; will retry.)"
        return view

    # -- list_tasks -------------------------------------------------------------------------------

    async def list_tasks(
        self, account: Account, *, status: str | None, since: datetime | None, limit: int
    ) -> TaskList:
        rows = await self.stored(
            self.store.list_tasks,
            account.owner,
            status=status,
            since=since.timestamp() if since else None,
            limit=limit,
        )
        total = await self.stored(self.store.count, account.owner)
        return task_list(rows, total)

    async def task_record(self, owner: str, task_id: str) -> TaskRecord | None:
        return await self.stored(self.store.get, owner, task_id)
