"""Following imini tasks: one adaptive poll loop per task, however many callers are waiting on it.

A waiter asks `TaskFollower.wait()` for a task and a time budget. The first waiter of a task starts its
poll loop in the server's own task group (so a cancelled caller never stops it for the others); later
waiters join it. The loop polls on an adaptive schedule (short first, ×1.5 with jitter up to a cap that
grows with the task's age, never sooner than a Retry-After), writes every status into the journal, and
stops when the task is terminal or nobody waits any more. Waiters get an `on_tick` call at least every
`tick_seconds` (for MCP progress notifications) and return when the task ends or their budget runs out.
All time goes through a `Clock`, so tests and benchmarks can run a 10-minute task in a second.

With `leases` (leases.py), processes sharing one store poll each task once between them: a loop claims
the task's lease before every poll; a loop without it follows what the holder records (woken by the
store's change events) and takes over when the lease is released or expires.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
from anyio.abc import TaskGroup

from imini_mcp.imini.clock import Clock
from imini_mcp.imini.errors import IminiError, RateLimited
from imini_mcp.imini.leases import PollLeases
from imini_mcp.imini.wire import TaskSnapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollSchedule:
    """When to poll. A 150 s task costs at most 19 GETs (18 on average) and is noticed ~5 s after it ends
    (at most ~11 s); see tests/imini/test_polling.py and the benchmarks."""

    first: float = 2.0
    factor: float = 1.5
    jitter: float = 0.1  # ± fraction, so many followers don't poll in lockstep
    caps: tuple[tuple[float, float], ...] = ((0.0, 10.0), (180.0, 15.0), (600.0, 30.0))  # (task age ≥, cap)

    def next_delay(self, previous: float | None, age: float, rng: random.Random) -> float:
        cap = max(c for start, c in self.caps if age >= start)
        base = self.first if previous is None else min(previous * self.factor, cap)
        return max(0.0, base * (1 + rng.uniform(-self.jitter, self.jitter)))


Poll = Callable[[], Awaitable[TaskSnapshot]]
Record = Callable[[TaskSnapshot], Awaitable[None]]
Tick = Callable[["WaitState"], Awaitable[None]]


@dataclass
class WaitState:
    """What a waiter knows right now."""

    task_id: str
    snapshot: TaskSnapshot | None
    elapsed: float  # seconds this waiter has waited
    polls: int  # upstream GETs made by the shared loop so far
    last_error: IminiError | None = None

    @property
    def done(self) -> bool:
        return self.snapshot is not None and self.snapshot.is_terminal


@dataclass
class _Watch:
    task_id: str
    waiters: int = 0
    polls: int = 0
    snapshot: TaskSnapshot | None = None
    error: IminiError | None = None
    fatal: IminiError | None = None  # e.g. 404: polling again cannot help
    changed: anyio.Event = field(default_factory=anyio.Event)
    running: bool = False

    def publish(self) -> None:
        self.changed.set()
        self.changed = anyio.Event()


class TaskFollower:
    """Coalesces waiting on imini tasks; see the module docstring."""

    def __init__(
        self,
        task_group: TaskGroup,
        *,
        schedule: PollSchedule | None = None,
        clock: Clock | None = None,
        tick_seconds: float = 5.0,
        seed: int | None = None,
        leases: PollLeases | None = None,
    ) -> None:
        self._tg = task_group
        self.leases = leases
        self.schedule = schedule or PollSchedule()
        self.clock = clock or Clock()
        self.tick_seconds = tick_seconds
        self._rng = random.Random(seed)
        self._watches: dict[tuple[str, str], _Watch] = {}
        self.closing = False

    def release_all(self) -> None:
        """Shutting down: every waiter returns now with what it knows (the task keeps running at imini)."""
        self.closing = True
        for watch in list(self._watches.values()):
            watch.publish()

    def active_loops(self) -> int:
        return sum(1 for w in self._watches.values() if w.running)

    async def wait(
        self,
        owner: str,
        task_id: str,
        *,
        seconds: float,
        poll: Poll,
        record: Record,
        on_tick: Tick | None = None,
        age: float = 0.0,
        known: TaskSnapshot | None = None,
    ) -> WaitState:
        """Wait up to `seconds` for the task to end. Raises the poll's error if it is final (404 …).

        `poll` reads the task once (the first waiter's is used by the shared loop), `record` stores a
        snapshot (journal), `age` is how old the task already is (it sets the polling cap).
        """
        key = (owner, task_id)
        watch = self._watches.get(key)
        if watch is None:
            watch = self._watches[key] = _Watch(task_id, snapshot=known)
        watch.waiters += 1
        if not watch.running:
            watch.running = True
            self._tg.start_soon(self._loop, key, watch, poll, record, age)
        started = self.clock.now()
        state = WaitState(task_id, watch.snapshot, 0.0, watch.polls)
        try:
            while True:
                state = WaitState(
                    task_id, watch.snapshot, self.clock.now() - started, watch.polls, watch.error
                )
                if watch.fatal is not None:
                    raise watch.fatal
                if state.done or self.closing:
                    return state
                remaining = seconds - state.elapsed
                if remaining <= 0:
                    return state
                changed = watch.changed
                with self.clock.move_on_after(min(remaining, self.tick_seconds)):
                    await changed.wait()
                if on_tick is not None and not (watch.snapshot and watch.snapshot.is_terminal):
                    state = WaitState(
                        task_id, watch.snapshot, self.clock.now() - started, watch.polls, watch.error
                    )
                    await on_tick(state)
        finally:
            watch.waiters -= 1
            if watch.waiters == 0 and not watch.running:
                self._watches.pop(key, None)

    async def _loop(
        self, key: tuple[str, str], watch: _Watch, poll: Poll, record: Record, age: float
    ) -> None:
        born = self.clock.now() - age
        interval: float | None = None
        holding = False  # this process holds the task's poll lease (always, without `leases`)
        try:
            while watch.waiters > 0 and not self.closing:
                if not holding:
                    holding = await self._until_claimed(key, watch)
                    if not holding:
                        return  # the task ended (recorded elsewhere), or nobody here waits any more
                interval = self.schedule.next_delay(interval, self.clock.now() - born, self._rng)
                wait = interval
                if watch.polls == 0 and self.clock.now() - born > self.schedule.first:
                    wait = 0.0  # resuming (or taking over) a task that is already under way: look now
                if isinstance(watch.error, RateLimited):
                    wait = max(wait, watch.error.retry_after or 0.0)
                await self.clock.sleep(wait)
                if watch.waiters == 0:
                    break
                holding = await self._claim(key, watch)  # fencing: renewed before every poll
                if holding and not await self._poll_once(watch, poll, record):
                    return
        except Exception as exc:  # a bug here must not take down the server's task group
            log.exception("following %s failed unexpectedly", watch.task_id)
            watch.fatal = IminiError(
                f"Following task {watch.task_id} failed inside the server ({type(exc).__name__})",
                next_step="Call get_task again; the task itself is unaffected.",
            )
            watch.publish()
        finally:
            watch.running = False
            if watch.waiters == 0:
                self._watches.pop(key, None)
            if holding and self.leases is not None:
                await self._release(key)

    async def _poll_once(self, watch: _Watch, poll: Poll, record: Record) -> bool:
        """One GET, its result recorded and then shown to the waiters; False when polling is over."""
        watch.polls += 1
        try:
            snapshot = await poll()
        except IminiError as exc:
            if not exc.transient:  # 401, 403, 404 …: polling again cannot help
                watch.fatal = exc
                watch.publish()
                return False
            # Transient after the client's own retries: keep following, tell the waiters.
            log.warning("poll of %s failed: %s", watch.task_id, exc.message)
            watch.error = exc
            watch.publish()
            return True
        try:
            with anyio.CancelScope(shield=True):
                await record(snapshot)
        except IminiError as exc:  # e.g. the store is unreachable: the next poll sees the task again
            log.warning("recording a poll of %s failed: %s", watch.task_id, exc.message)
            watch.error = exc
            watch.publish()
            return True
        # Shown to waiters only once recorded: one joining meanwhile must not see the task done
        # and then read the journal's older status.
        watch.error = None
        watch.snapshot = snapshot
        watch.publish()
        return not snapshot.is_terminal

    async def _claim(self, key: tuple[str, str], watch: _Watch) -> bool:
        if self.leases is None:
            return True
        try:
            return await self.leases.claim(*key)
        except IminiError as exc:  # cannot prove the lease is ours: do not poll
            log.warning("claiming %s failed: %s", watch.task_id, exc.message)
            watch.error = exc
            watch.publish()
            return False

    async def _until_claimed(self, key: tuple[str, str], watch: _Watch) -> bool:
        """Follow what another process records until this one gets the lease (True), or the task ends or
        nobody here waits any more (False). Woken by the leases' change events, else every retry_seconds."""
        leases = self.leases
        if leases is None:
            return True
        while watch.waiters > 0 and not self.closing:
            changed = leases.changed(*key)  # armed before the read: a change in between still wakes us
            try:
                latest = await leases.latest(*key)
            except IminiError as exc:
                watch.error, latest = exc, None
                watch.publish()
            if latest is not None and latest != watch.snapshot:
                first, watch.error, watch.snapshot = watch.snapshot is None, None, latest
                if not first or latest.is_terminal:  # what the waiters started from is no news
                    watch.publish()
            if latest is not None and latest.is_terminal:
                return False
            if await self._claim(key, watch):
                return True
            with anyio.move_on_after(leases.retry_seconds):  # real time, as the lease's own clock
                await changed.wait()
        return False

    async def _release(self, key: tuple[str, str]) -> None:
        assert self.leases is not None
        with anyio.CancelScope(shield=True), anyio.move_on_after(5.0):
            try:
                await self.leases.release(*key)
            except IminiError as exc:  # it expires by itself; another process takes over then
                log.warning("releasing the poll lease of %s failed: %s", key[1], exc.message)
