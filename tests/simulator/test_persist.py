"""A simulator that outlives its process: tasks kept in ``tasks_dir`` and result files in ``media_dir``.

Each simulator here stands for one process; two on the same folders are a process and the next one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx2
import pytest

from imini_mcp.simulator import Fault, ManualClock, Simulator, SimulatorConfig
from tests.simulator.helpers import AUTH, assert_envelope, poll, submit_ok

pytestmark = pytest.mark.anyio


@pytest.fixture
def make_sim(tmp_path: Path, clock: ManualClock) -> Callable[..., Simulator]:
    def make(**knobs: object) -> Simulator:
        return Simulator(
            SimulatorConfig(clock=clock, tasks_dir=tmp_path / "tasks", media_dir=tmp_path / "media", **knobs)  # type: ignore[arg-type]
        )

    return make


@asynccontextmanager
async def talking_to(sim: Simulator) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=sim.app), base_url="http://sim/imini/router", headers=AUTH
    ) as client:
        yield client


async def test_a_later_simulator_on_the_folder_knows_the_task_and_its_age(
    make_sim: Callable[..., Simulator], clock: ManualClock
) -> None:
    async with talking_to(make_sim()) as first:
        task_id = await submit_ok(first)
    clock.advance(5)  # the next process starts later; the task's age carries over
    later = make_sim()
    async with talking_to(later) as second:
        response = await poll(second, task_id)
    assert response.status_code == 200
    assert response.json()["status"] == "processing"
    assert later.tasks()[task_id].status == "processing"


async def test_results_are_file_urls_that_stay_after_the_simulator(
    make_sim: Callable[..., Simulator], clock: ManualClock, tmp_path: Path
) -> None:
    async with talking_to(make_sim()) as client:
        task_id = await submit_ok(client)
        clock.advance(10)
        [video] = (await poll(client, task_id)).json()["videos"]
    paths = [Path(url2pathname(urlsplit(video[key]).path)) for key in ("url", "cover_url")]
    assert [urlsplit(video[key]).scheme for key in ("url", "cover_url")] == ["file", "file"]
    assert paths == [(tmp_path / "media" / f"{task_id}.{ext}").resolve() for ext in ("mp4", "jpg")]
    assert paths[0].read_bytes()[4:8] == b"ftyp"
    assert paths[1].read_bytes()[:3] == b"\xff\xd8\xff"


async def test_an_expired_task_stays_expired_for_the_next_simulator(
    make_sim: Callable[..., Simulator],
) -> None:
    first = make_sim()
    async with talking_to(first) as client:
        task_id = await submit_ok(client)
        first.add_fault(Fault("poll", "expire_task"))
        assert_envelope(await poll(client, task_id), 404, "TASK_NOT_FOUND")
    async with talking_to(make_sim()) as client:
        assert_envelope(await poll(client, task_id), 404, "TASK_NOT_FOUND")


@pytest.mark.parametrize("task_id", ["task_1.json", "a b", ".hidden", "x" * 200])
async def test_an_id_that_is_not_a_plain_name_is_unknown(
    make_sim: Callable[..., Simulator], task_id: str
) -> None:
    async with talking_to(make_sim()) as client:
        assert_envelope(await poll(client, task_id), 404, "TASK_NOT_FOUND")


async def test_reset_forgets_the_kept_tasks(make_sim: Callable[..., Simulator]) -> None:
    sim = make_sim()
    async with talking_to(sim) as client:
        task_id = await submit_ok(client)
        sim.reset()
        assert_envelope(await poll(client, task_id), 404, "TASK_NOT_FOUND")
    assert make_sim().tasks() == {}
