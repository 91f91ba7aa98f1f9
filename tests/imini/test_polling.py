"""Polling: the adaptive schedule's cost and lag, and the shared poll loop's behaviour."""

from __future__ import annotations

import random

import anyio
import pytest

from imini_mcp.imini import Clock, PollSchedule, TaskFollower, TaskSnapshot, WaitState
from imini_mcp.imini.errors import RateLimited, TaskNotFound, UpstreamError


def simulate_schedule(task_seconds: float, schedule: PollSchedule, seed: int) -> tuple[int, float]:
    """GETs a task of this length costs, and how late its completion is noticed."""
    rng, now, interval, polls = random.Random(seed), 0.0, None, 0
    while True:
        interval = schedule.next_delay(interval, now, rng)
        now += interval
        polls += 1
        if now >= task_seconds:
            return polls, now - task_seconds


@pytest.mark.parametrize(
    ("task_seconds", "max_gets", "max_lag"),
    [
        pytest.param(30, 7, 11.0, id="30 s task"),
        pytest.param(150, 19, 11.0, id="150 s task: under 20 GETs, noticed within ~10 s"),
        pytest.param(180, 22, 11.0, id="3 min task"),
        pytest.param(600, 52, 16.5, id="10 min task"),
    ],
)
def test_the_schedule_keeps_gets_and_lag_bounded(task_seconds: float, max_gets: int, max_lag: float) -> None:
    for seed in range(200):
        polls, lag = simulate_schedule(task_seconds, PollSchedule(), seed)
        assert polls <= max_gets, (seed, polls)
        assert lag <= max_lag, (seed, lag)


def test_the_schedule_starts_short_and_grows_to_its_cap() -> None:
    schedule, rng = PollSchedule(jitter=0), random.Random(0)
    delays, interval = [], None
    for _ in range(8):
        interval = schedule.next_delay(interval, 0.0, rng)
        delays.append(interval)
    assert delays[:4] == [2.0, 3.0, 4.5, 6.75]
    assert delays[-1] == 10.0
    assert schedule.next_delay(10.0, 200.0, rng) == 15.0  # older tasks may be polled less often
    assert schedule.next_delay(30.0, 700.0, rng) == 30.0


class FakeTask:
    """A task that finishes `seconds` after creation on `clock`, counting GETs."""

    def __init__(self, clock: Clock, seconds: float, task_id: str = "task_1") -> None:
        self.clock, self.done_at, self.task_id, self.gets = clock, clock.now() + seconds, task_id, 0
        self.errors: list[Exception] = []

    async def poll(self) -> TaskSnapshot:
        self.gets += 1
        if self.errors:
            raise self.errors.pop(0)
        status = "succeeded" if self.clock.now() >= self.done_at else "processing"
        return TaskSnapshot(task_id=self.task_id, status=status)


async def _ignore(_: TaskSnapshot) -> None:
    return None


@pytest.mark.anyio
async def test_many_waiters_share_one_loop_and_the_loop_stops_when_done() -> None:
    clock = Clock(scale=0.002)
    task = FakeTask(clock, 150)
    recorded: list[str] = []

    async def record(snapshot: TaskSnapshot) -> None:
        recorded.append(snapshot.status)

    results: list[WaitState] = []
    async with anyio.create_task_group() as tg:
        follower = TaskFollower(tg, clock=clock, seed=1)

        async def wait() -> None:
            results.append(await follower.wait("", "task_1", seconds=600, poll=task.poll, record=record))

        for _ in range(20):
            tg.start_soon(wait)
    assert len(results) == 20
    assert all(r.done for r in results)
    assert task.gets <= 21  # one stream for 20 waiters
    assert recorded[-1] == "succeeded"
    assert len(recorded) == task.gets  # every poll result is journalled
    assert follower.active_loops() == 0


@pytest.mark.anyio
async def test_a_waiter_joining_while_a_result_is_recorded_sees_it_only_once_recorded() -> None:
    # Found by the 200-waiter benchmark: late waiters saw "succeeded", read the journal, found "queued".
    clock = Clock(scale=0.002)
    task = FakeTask(clock, 0)
    journal: list[str] = []
    recording, release = anyio.Event(), anyio.Event()

    async def slow_record(snapshot: TaskSnapshot) -> None:
        recording.set()
        await release.wait()
        journal.append(snapshot.status)

    seen_by_late_waiter: list[list[str]] = []
    async with anyio.create_task_group() as tg:
        follower = TaskFollower(tg, clock=clock)

        async def wait(then_read: list[list[str]] | None = None) -> None:
            state = await follower.wait("", "task_1", seconds=600, poll=task.poll, record=slow_record)
            assert state.done
            if then_read is not None:
                then_read.append(list(journal))

        tg.start_soon(wait)
        await recording.wait()  # the loop has the result and is writing it down
        tg.start_soon(wait, seen_by_late_waiter)
        await anyio.sleep(0.05)
        early = list(seen_by_late_waiter)
        release.set()
    assert early == []  # it was still waiting while nothing was recorded
    assert seen_by_late_waiter == [["succeeded"]]


@pytest.mark.anyio
async def test_a_waiter_gets_ticks_and_returns_at_its_budget() -> None:
    clock = Clock(scale=0.002)
    task = FakeTask(clock, 1000)
    ticks: list[float] = []

    async def on_tick(state: WaitState) -> None:
        ticks.append(state.elapsed)

    async with anyio.create_task_group() as tg:
        follower = TaskFollower(tg, clock=clock, tick_seconds=5)
        state = await follower.wait("", "task_1", seconds=40, poll=task.poll, record=_ignore, on_tick=on_tick)
        await anyio.sleep(0.05)
        assert follower.active_loops() == 0  # nobody waits: the loop stops
    assert not state.done
    assert 40 <= state.elapsed < 45
    assert len(ticks) >= 7
    gaps = [b - a for a, b in zip([0.0, *ticks], ticks, strict=False)]
    assert max(gaps) <= 7


@pytest.mark.anyio
async def test_transient_errors_are_reported_and_polling_goes_on() -> None:
    clock = Clock(scale=0.002)
    task = FakeTask(clock, 20)
    task.errors = [UpstreamError("imini had a hiccup", status=502), RateLimited("slow down", retry_after=12)]
    async with anyio.create_task_group() as tg:
        follower = TaskFollower(tg, clock=clock)
        started = clock.now()
        state = await follower.wait("", "task_1", seconds=300, poll=task.poll, record=_ignore)
    assert state.done
    assert clock.now() - started >= 2 + 3 + 12  # the Retry-After was honoured


@pytest.mark.anyio
async def test_a_final_error_reaches_every_waiter() -> None:
    clock = Clock(scale=0.002)
    task = FakeTask(clock, 100)
    task.errors = [TaskNotFound("gone", status=404)]
    outcomes: list[str] = []
    async with anyio.create_task_group() as tg:
        follower = TaskFollower(tg, clock=clock)

        async def wait() -> None:
            try:
                await follower.wait("", "task_1", seconds=300, poll=task.poll, record=_ignore)
            except TaskNotFound:
                outcomes.append("404")

        for _ in range(3):
            tg.start_soon(wait)
    assert outcomes == ["404"] * 3
    assert task.gets == 1


@pytest.mark.anyio
async def test_tasks_of_different_owners_are_followed_separately() -> None:
    clock = Clock(scale=0.002)
    a, b = FakeTask(clock, 10), FakeTask(clock, 10)
    async with anyio.create_task_group() as tg:
        follower = TaskFollower(tg, clock=clock)
        tg.start_soon(lambda: follower.wait("alice", "task_1", seconds=60, poll=a.poll, record=_ignore))
        tg.start_soon(lambda: follower.wait("bob", "task_1", seconds=60, poll=b.poll, record=_ignore))
    assert a.gets >= 1
    assert b.gets >= 1
