"""The result files: the bundled sample video and cover, and synthetic MP4s of any size."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import httpx2
import pytest

from imini_mcp.simulator import (
    Fault,
    ManualClock,
    SimulatedConnectionReset,
    Simulator,
    SimulatorConfig,
    iter_synthetic_mp4,
)
from imini_mcp.simulator.media import MIN_VIDEO_SIZE
from tests.simulator.helpers import AUTH, submit_ok

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_sample_files_are_real_media() -> None:
    from PIL import Image

    simdata = REPO_ROOT / "imini_mcp" / "simulator" / "simdata"
    mp4 = (simdata / "sample.mp4").read_bytes()
    assert mp4[4:8] == b"ftyp"
    for box in (b"moov", b"mdat", b"avc1"):  # avc1: an H.264 track
        assert box in mp4
    assert len(mp4) < 20_000
    with Image.open(simdata / "cover.jpg") as cover:
        assert cover.format == "JPEG"
        assert cover.size == (160, 90)
    assert (simdata / "cover.jpg").stat().st_size < 20_000


def test_synthetic_mp4_is_exact_and_constant_memory() -> None:
    size = 500 * 1024 * 1024 + 7
    tracemalloc.start()
    try:
        total = 0
        for i, chunk in enumerate(iter_synthetic_mp4(size)):
            if i == 0:
                assert chunk[4:8] == b"ftyp"
                assert chunk[32:36] == b"mdat"
                assert int.from_bytes(chunk[28:32], "big") == size - 28
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size
    assert peak < 1024 * 1024  # streaming 500 MB never holds more than a chunk or two

    huge = next(iter_synthetic_mp4(5 * 1024**3))  # > 4 GiB needs mdat's 64-bit largesize form
    assert huge[28:36] == b"\x00\x00\x00\x01mdat"
    assert int.from_bytes(huge[36:44], "big") == 5 * 1024**3 - 28
    with pytest.raises(ValueError):  # noqa: PT011
        SimulatorConfig(video_size=MIN_VIDEO_SIZE - 1)


@pytest.mark.anyio
async def test_video_size_serves_a_synthetic_mp4_in_process() -> None:
    clock = ManualClock()
    size = 3 * 1024 * 1024 + 5
    sim = Simulator(SimulatorConfig(clock=clock, video_size=size))
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=sim.app), base_url="http://sim/imini/router", headers=AUTH
    ) as c:
        task_id = await submit_ok(c)
        clock.advance(10)
        response = await c.get(f"http://cdn/files/{task_id}.mp4")
        assert response.status_code == 200
        assert response.headers["content-length"] == str(size)
        assert len(response.content) == size
        assert response.content[4:8] == b"ftyp"
        assert response.content[-1000:] == bytes(1000)

        sim.add_fault(Fault("download", "reset"))
        with pytest.raises(SimulatedConnectionReset, match=f"{size // 2}/{size}"):
            await c.get(f"http://cdn/files/{task_id}.mp4")
