"""Background jobs: a submitted task followed to its end in the server's task group, not in a request.

A job is a stored task whose options carry job metadata (whatever the caller keeps there: for MCP Tasks,
TTL and cost). Jobs survive restarts (the store is the truth; `resume` picks them up again), can be
cancelled (this server stops following; imini has no cancel), and a failure of the follow-up is recorded
on the job. One follow-up per task and owner in this process.

With `leases` (servers sharing one store), one server follows each job: `resume` and `adopt` take a job
only when no other live server holds its poll lease, and a cancel recorded by any server stops the
follow-up wherever it runs (the store's change watcher tells). A job whose server died is adopted by the
next server asked about it (`adopt`, from tasks/get or tasks/result) once its lease expired.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskGroup

from imini_mcp.app.account import Account
from imini_mcp.app.leases import StoreLeases
from imini_mcp.app.results import GenerateVideoResult
from imini_mcp.app.service import VideoService
from imini_mcp.imini import IminiError
from imini_mcp.request import GenerateVideoArguments
from imini_mcp.store import TaskRecord

log = logging.getLogger(__name__)

# The options key of a job's metadata. Its value says "mcp_task" because journals written before the
# layers were named already hold it; it is a key, not a dependency on MCP.
JOB_KEY = "mcp_task"
CANCEL_CHECK_SECONDS = 30.0  # a safety net: a cancel is normally seen at once, through the watcher


@dataclass(frozen=True)
class Job:
    """One job as stored: the task record, its metadata, and whether this process finished following it."""

    record: TaskRecord
    finished: bool

    @property
    def task_id(self) -> str:
        assert self.record.task_id is not None
        return self.record.task_id

    @property
    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = self.record.options.get(JOB_KEY, {})
        return meta


@dataclass
class BackgroundJobs:
    """Submits tasks as jobs and follows each to the end in `task_group`; see the module docstring."""

    service: VideoService
    task_group: TaskGroup
    leases: StoreLeases | None = None  # None: this process is the only one following jobs
    _running: dict[tuple[str, str], anyio.CancelScope] = field(default_factory=dict)
    _done: dict[tuple[str, str], anyio.Event] = field(default_factory=dict)
    _finished: set[tuple[str, str]] = field(default_factory=set)

    async def submit(
        self,
        args: GenerateVideoArguments,
        account: Account,
        meta: Callable[[GenerateVideoResult], dict[str, Any]],
    ) -> Job:
        """Submit without waiting (raises as `generate` does), store `meta(result)` on the task, start following."""
        result = await self.service.generate(args.model_copy(update={"wait_seconds": 0}), account)
        assert result.task is not None
        record = await self._merge(account.owner, result.task.task_id, meta(result))
        self.ensure(account, result.task.task_id)
        return Job(record, finished=False)

    async def load(self, account: Account, task_id: str) -> Job | None:
        """The caller's job, or None (not theirs, or not a job)."""
        record = await self.service.task_record(account.owner, task_id)
        if record is None or JOB_KEY not in record.options:
            return None
        return Job(record, finished=self.finished(account.owner, task_id))

    async def cancel(self, account: Account, task_id: str, *, at: str) -> Job:
        """Stop following, here or on whichever server follows it (the stored cancel wakes it); the task
        itself keeps running (and may be billed) at imini."""
        record = await self._merge(account.owner, task_id, {"cancelled_at": at})
        scope = self._running.get((account.owner, task_id))
        if scope is not None:
            scope.cancel()
        return Job(record, finished=True)

    async def page(self, account: Account, *, before: int | None, limit: int) -> list[Job]:
        """The caller's jobs, newest first, after the journal id `before`."""
        records = await self.service.stored(
            self.service.store.list_tasks,
            account.owner,
            limit=limit,
            before_journal_id=before,
            with_option=JOB_KEY,
        )
        return [Job(r, finished=self.finished(account.owner, r.task_id or "")) for r in records]

    def resume(self, account: Account) -> int:
        """At start: follow again every unfinished, uncancelled job of this account that no other live
        server follows (its lease is claimed here first). Returns how many."""
        resumed = 0
        for record in self.service.store.unfinished(owner=account.owner, with_option=JOB_KEY):
            if record.options[JOB_KEY].get("cancelled_at") or not record.task_id:
                continue
            if self.leases is None or self.leases.claim_now(account.owner, record.task_id):
                self.ensure(account, record.task_id)
                resumed += 1
        return resumed

    async def adopt(self, account: Account, task_id: str) -> None:
        """Follow an unfinished job here unless this or another live server already does (e.g. its server
        stopped or died: its lease was released or expired)."""
        key = (account.owner, task_id)
        if key in self._running or key in self._finished:
            return
        if self.leases is None or await self.leases.claim(account.owner, task_id):
            self.ensure(account, task_id)

    def changed(self, owner: str, task_id: str) -> anyio.Event:
        """An event set when the job may have changed: on any server (the store's watcher), or without
        leases when this process finished following it. Arm it before reading the job."""
        if self.leases is not None:
            return self.leases.changed(owner, task_id)
        return self._done.setdefault((owner, task_id), anyio.Event())

    def ensure(self, account: Account, task_id: str) -> None:
        """Start following unless already following (or finished) in this process."""
        key = (account.owner, task_id)
        if key in self._running or key in self._finished:
            return
        self._done.setdefault(key, anyio.Event())
        scope = anyio.CancelScope()
        self._running[key] = scope
        self.task_group.start_soon(self._follow, account, task_id, scope)

    def finished(self, owner: str, task_id: str) -> bool:
        return (owner, task_id) in self._finished

    async def wait_done(self, owner: str, task_id: str) -> None:
        await self._done.setdefault((owner, task_id), anyio.Event()).wait()

    async def _merge(self, owner: str, task_id: str, changes: dict[str, Any]) -> TaskRecord:
        record = await self.service.stored(self.service.store.merge_options, owner, task_id, JOB_KEY, changes)
        assert record is not None, "a job is a stored task of this owner"
        return record

    async def _follow(self, account: Account, task_id: str, scope: anyio.CancelScope) -> None:
        key = (account.owner, task_id)
        try:
            with scope:
                async with anyio.create_task_group() as tg:
                    if self.leases is not None:
                        tg.start_soon(self._stop_when_cancelled, account.owner, task_id, scope)
                    await self.service.follow_to_end(task_id, account)
                    tg.cancel_scope.cancel()
                self._finished.add(key)
        except IminiError as exc:
            if exc.transient:  # e.g. the store is unreachable: stop here; the next tasks/get adopts it
                log.warning("background follow of %s stopped: %s", task_id, exc.message)
            else:  # e.g. 401 or 404 at imini: the job fails with that cause
                self._finished.add(key)
                await self._record_failure(account.owner, task_id, exc)
        except Exception:  # a bug must not take down the server's task group
            log.exception("background follow of %s failed", task_id)
            self._finished.add(key)
        finally:
            self._running.pop(key, None)
            self._done.setdefault(key, anyio.Event()).set()
            if self.leases is not None:
                await self._release(account.owner, task_id)

    async def _record_failure(self, owner: str, task_id: str, exc: IminiError) -> None:
        try:
            await self._merge(owner, task_id, {"error": str(exc)})
        except Exception:  # a bug or an outage must not take down the server's task group
            log.exception("recording the failure of job %s failed", task_id)

    async def _stop_when_cancelled(self, owner: str, task_id: str, scope: anyio.CancelScope) -> None:
        """Cancel ``scope`` once the job is cancelled, by any server (the watcher wakes us on the change)."""
        assert self.leases is not None
        while True:
            changed = self.leases.changed(owner, task_id)
            try:
                record = await self.service.task_record(owner, task_id)
            except IminiError:  # the store is unreachable: look again later
                record = None
            if record is not None and record.options.get(JOB_KEY, {}).get("cancelled_at"):
                scope.cancel()
                return
            with anyio.move_on_after(CANCEL_CHECK_SECONDS):
                await changed.wait()

    async def _release(self, owner: str, task_id: str) -> None:
        assert self.leases is not None
        with anyio.CancelScope(shield=True), anyio.move_on_after(5.0):
            try:
                await self.leases.release(owner, task_id)
            except IminiError as exc:
                log.warning("releasing the poll lease of %s failed: %s", task_id, exc.message)
