"""The MCP Apps view, in headless Chromium, against a real `imini-mcp --simulate` over HTTP (see conftest.py):
the dry run's timeline, Submit, the status until done, a video that plays, a failure, an expired URL, a
blocked video, the dark theme and the keyboard. Screenshots of the three states go to docs/images/ when
IMINI_UPDATE_SCREENSHOTS=1 (the README shows them), else to the test's temporary folder.
"""

from __future__ import annotations

import base64
import io
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from PIL import Image

from tests.browser.conftest import ROOT, SIMULATED_SECONDS, Simulated

BRIDGE_TIMEOUT_SECONDS = 60  # the App class's default request timeout: every wait must stay below it
LOAD_GOAL_MS = 3000  # from reading the view's resource to its `initialized`, on a busy 2-core machine


def first_frame() -> str:
    """A 9:16 PNG (a gradient) as a data: URI, large enough for kling's 300 px rule."""
    image = Image.linear_gradient("L").resize((320, 568)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


STORYBOARD: dict[str, Any] = {
    "model": "kling/kling-v3",
    "resolution": "720P",
    "aspect_ratio": "9:16",
    "duration": 8,
    "generate_audio": True,
    "reference_images": [{"url": first_frame(), "reference_type": "first_frame"}],
    "extra_params": {
        "multi_shot": True,
        "shot_type": "customize",
        "multi_prompt": [
            {"index": 1, "prompt": "A red fox wakes up in its den at dawn, soft light", "duration": "2"},
            {
                "index": 2,
                "prompt": "The fox runs through deep snow, the camera tracking beside it",
                "duration": "3",
            },
            {"index": 3, "prompt": "The fox stops on a ridge and looks at the rising sun", "duration": "3"},
        ],
    },
    "dry_run": True,
}


def screenshot(host: Any, name: str, tmp_path: Path) -> None:
    folder = ROOT / "docs" / "images" if os.environ.get("IMINI_UPDATE_SCREENSHOTS") == "1" else tmp_path
    host.locator("iframe").screenshot(path=folder / f"viewer-{name}.png", animations="disabled")


def mount(host: Any, tool: str, arguments: dict[str, Any], **options: Any) -> dict[str, Any]:
    mounted: dict[str, Any] = host.evaluate(
        "([tool, args, options]) => window.host.mount(tool, args, options)", [tool, arguments, options]
    )
    return mounted


def calls(host: Any) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = host.evaluate("window.host.log")
    return log


def wait_for_status(view: Any, status: str, seconds: float = 30) -> None:
    view.locator(f'#status[data-status="{status}"]').wait_for(timeout=seconds * 1000)


def plays(view: Any) -> dict[str, float]:
    """Waits for the video's data, plays it muted for 0.6 s: readyState, how far it got, its size."""
    result: dict[str, float] = view.locator("#video").evaluate(
        """async (v) => {
            await new Promise((ok, fail) => {
                if (v.readyState >= 2) return ok();
                v.addEventListener("loadeddata", ok, { once: true });
                v.addEventListener("error", () => fail(new Error("video error " + v.error?.code)), { once: true });
            });
            await v.play();
            const start = v.currentTime;
            await new Promise((ok) => setTimeout(ok, 600));
            return { readyState: v.readyState, advanced: v.currentTime - start, width: v.videoWidth };
        }"""
    )
    return result


@pytest.fixture(scope="module")
def finished_task(simulated: Simulated) -> str:
    """A task the simulated imini has finished, submitted as a model would (an MCP client over HTTP)."""

    async def submit() -> Any:
        async with Client(simulated.server.url) as client:
            arguments = {"prompt": "a paper boat on a pond", "duration": 5, "wait_seconds": 30}
            return await client.call_tool("generate_video", arguments)

    with ThreadPoolExecutor(1) as thread:  # sync Playwright keeps an event loop running in this one
        result = thread.submit(anyio.run, submit).result()
    assert result.structured_content["task"]["status"] == "succeeded", result.content[0].text
    task_id: str = result.structured_content["task"]["task_id"]
    return task_id


def test_the_dry_run_draws_the_storyboard_to_scale(host: Any, tmp_path: Path) -> None:
    mounted = mount(host, "generate_video", STORYBOARD)
    view = host.frame_locator("iframe")
    shots = view.locator(".shot")
    shots.first.wait_for()

    assert shots.count() == 3
    widths = [shots.nth(i).bounding_box()["width"] for i in range(3)]
    assert all(abs(w / sum(widths) - s / 8) < 0.005 for w, s in zip(widths, (2, 3, 3), strict=True)), widths
    assert "The fox runs through deep snow" in shots.nth(1).inner_text()
    box = view.locator("#frame").bounding_box()  # 720×1280 drawn at 0.075
    assert (round(box["width"]), round(box["height"])) == (54, 96)
    assert "720×1280" in view.locator(".frame").inner_text()
    assert view.locator("#length").inner_text() == "8 s in 3 shots"
    thumb = view.locator(".thumb img")
    thumb.wait_for()
    assert thumb.evaluate("img => img.complete && img.naturalWidth") == 320
    assert "1,360 credits" in view.locator("#cost").inner_text()
    assert view.locator("#submit").inner_text() == "Submit: spends about 1,360 credits"
    assert mounted["loadMs"] < LOAD_GOAL_MS, mounted["loadMs"]
    print(f"view load time in the harness: {mounted['loadMs']:.0f} ms")  # reported in docs/viewer.md
    screenshot(host, "dry-run", tmp_path)


def test_submit_follows_the_task_until_its_video_plays(host: Any, tmp_path: Path) -> None:
    mount(host, "generate_video", STORYBOARD)
    view = host.frame_locator("iframe")
    view.locator("#submit").click()

    view.locator("#status").wait_for()
    assert view.locator("#status").get_attribute("data-status") in ("queued", "processing")
    assert view.locator(".shot").count() == 3  # the storyboard stays in view while it renders
    screenshot(host, "rendering", tmp_path)
    wait_for_status(view, "succeeded", SIMULATED_SECONDS + 20)

    played = plays(view)
    assert played["readyState"] >= 2, played
    assert played["advanced"] > 0.2, played
    assert played["width"] == 160  # the simulator's sample, decoded (H.264)
    assert view.locator("#video").get_attribute("poster").startswith("data:image/jpeg;base64,")
    assert "720×1280 · 8 s" in view.locator(".player figcaption").inner_text()
    log = calls(host)
    submitted = [c for c in log if c.get("tool") == "generate_video"]
    assert len(submitted) == 1
    assert submitted[0]["arguments"] == {
        **{k: v for k, v in STORYBOARD.items() if k != "dry_run"},
        "dry_run": False,
        "wait_seconds": 0,
        "idempotency_key": submitted[0]["arguments"]["idempotency_key"],
    }
    assert any(c.get("resource", "").endswith("/video/1") for c in log)  # file:// → read as a resource
    assert any("modelContext" in c for c in log)  # the model is told, so it does not submit again
    waits = [c["arguments"]["wait_seconds"] for c in log if "tool" in c]
    assert waits, log
    assert all(w < BRIDGE_TIMEOUT_SECONDS for w in waits), waits
    screenshot(host, "done", tmp_path)


def test_a_failed_task_shows_imini_message_and_the_next_step(host: Any, simulated: Simulated) -> None:
    host.evaluate(
        "() => window.host.call('get_task', {task_id: 'task_1', wait_seconds: 0})"
    )  # starts the simulator
    fault = {
        "target": "submit",
        "kind": "fail_task",
        "code": "CONTENT_REJECTED",
        "message": "The prompt was rejected",
    }
    httpx2.post(f"{simulated.simulator()}/_simulator/faults", json=fault).raise_for_status()
    mount(host, "generate_video", STORYBOARD)
    view = host.frame_locator("iframe")
    view.locator("#submit").click()

    wait_for_status(view, "failed", SIMULATED_SECONDS + 20)
    assert view.locator("#error").inner_text() == "imini says: CONTENT_REJECTED: The prompt was rejected"
    assert "call generate_video again" in view.locator("#next-step").inner_text()


def test_a_get_task_view_shows_the_storyboard_and_survives_an_expired_url(
    host: Any, finished_task: str
) -> None:
    task_id = finished_task
    mount(host, "get_task", {"task_id": task_id}, expireVideoUrl=True)
    view = host.frame_locator("iframe")
    wait_for_status(view, "succeeded")

    played = plays(view)  # the expired URL failed, the view asked get_task again and played what it gave
    assert played["advanced"] > 0.2, played
    refreshed = [c for c in calls(host) if c.get("tool") == "get_task"]
    assert refreshed
    assert refreshed[-1]["arguments"] == {"task_id": task_id, "wait_seconds": 0}
    assert view.locator(".shot").count() == 1  # from the journal's task resource
    assert "a paper boat on a pond" in view.locator(".shot").inner_text()


def test_a_blocked_video_leaves_the_cover_and_an_open_link(host: Any, finished_task: str) -> None:
    task_id = finished_task
    mount(host, "get_task", {"task_id": task_id}, mediaSrc="'none'")  # a host stricter than the spec
    view = host.frame_locator("iframe")
    cover = view.locator("img.cover")
    cover.wait_for(timeout=10_000)

    assert view.locator("#video").is_hidden()
    assert cover.evaluate("img => img.complete && img.naturalWidth") > 0
    assert "cannot play here" in view.locator(".player .hint").inner_text()
    view.get_by_role("button", name="Open video").click()
    time.sleep(0.3)
    opened = [c["openLink"] for c in calls(host) if "openLink" in c]
    assert opened
    assert opened[0].startswith("file://")
    assert opened[0].endswith(f"{task_id}.mp4")


def test_dark_theme_from_the_host_and_submit_by_keyboard(host: Any) -> None:
    mount(host, "generate_video", STORYBOARD, theme="dark")
    view = host.frame_locator("iframe")
    view.locator(".shot").first.wait_for()
    background = view.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    assert sum(int(c) for c in background[4:-1].split(",")[:3]) < 3 * 64, background

    view.locator("body").click(position={"x": 2, "y": 2})
    for _ in range(12):  # the shots, then the button, reached by Tab alone
        host.keyboard.press("Tab")
        if view.locator("#submit").evaluate("b => document.activeElement === b"):
            break
    else:
        pytest.fail("Submit cannot be reached with the keyboard")
    host.keyboard.press("Enter")
    view.locator("#status").wait_for()
    first = next(c for c in calls(host) if "tool" in c)
    assert first["tool"] == "generate_video"
    assert first["arguments"]["dry_run"] is False
