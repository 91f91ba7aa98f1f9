"""MCP prompts that help an assistant compose a request within the rules (storyboard, image-to-video).

Prompt arguments arrive as strings from clients; each prompt turns them into one instruction message that
states the rules that apply, so the assistant's first dry run is usually already valid. Every value shown as
part of a JSON body is written as JSON (`false`, escaped strings), so it can be copied into the call as it is.
"""

from __future__ import annotations

import json

from mcp.server.mcpserver import MCPServer

from imini_mcp.request import MAX_DURATION, MAX_SHOT_PROMPT, MAX_SHOTS, MIN_DURATION


def _js(value: object) -> str:
    """``value`` as JSON: ``false`` rather than Python's ``False``, and strings quoted and escaped."""
    return json.dumps(value, ensure_ascii=False)


def _seconds(value: str, default: int) -> int:
    try:
        return max(MIN_DURATION, min(MAX_DURATION, int(float(value))))
    except (TypeError, ValueError):
        return default


def storyboard(story: str, duration: str = "10", aspect_ratio: str = "16:9", audio: str = "false") -> str:
    """Turn a story into a kling-v3 multi-shot storyboard that passes every rule, then dry-run it."""
    total = _seconds(duration, 10)
    most = min(MAX_SHOTS, total)
    sound = audio.strip().lower() in ("1", "true", "yes")
    return f"""Turn this story into a multi-shot video with the imini generate_video tool.

Story: {story}

Rules (the tool checks them; a request that breaks one costs nothing but comes back with the fixes):
- Use the default model, kling/kling-v3 (leave "model" out): it has the storyboard mode (kling/kling-v3-omni has it
  too; list_models shows what the other models can do).
- extra_params.multi_shot true and extra_params.shot_type "customize"; the shots go in extra_params.multi_prompt.
- 1 to {most} shots. Each shot: "prompt" (at most {MAX_SHOT_PROMPT} characters: one camera set-up, what we see,
  the motion, the light) and "duration" in whole seconds, at least 1, written as a string like "3".
- The shot durations must add up to exactly {total} seconds; set the top-level "duration": {total}.
- Top-level: "aspect_ratio": {_js(aspect_ratio)}, "resolution": "720P" (1080P costs more), "generate_audio": {_js(sound)}.
- Give longer shots to the moments that matter; keep characters and setting consistent by repeating their
  description in every shot. Put things to avoid in extra_params.negative_prompt.

First call generate_video with "dry_run": true and show me the shots, the total length and the estimated credits.
Only submit (dry_run false) after I confirm. Then follow the task with get_task until it succeeded and give me
the video URL."""


def image_to_video(image: str, motion: str, duration: str = "5", keep_last_frame: str = "") -> str:
    """Animate one image (image-to-video), optionally ending on a second image (first/last frame)."""
    seconds = _seconds(duration, 5)
    last = (
        f'\n- End on this image: add {{"url": {_js(keep_last_frame)}, "reference_type": "last_frame"}} (then no '
        "camera_control and no multi-shot)."
        if keep_last_frame
        else ""
    )
    return f"""Animate an image into a {seconds}-second video with the imini generate_video tool.

Image: {image}
What should happen: {motion}

Rules (for the default model, kling/kling-v3; list_models shows the other models' rules):
- reference_images: [{{"url": {_js(image)}, "reference_type": "first_frame"}}]. The image may be a public https
  URL, a data:image/png|jpeg;base64 URI, or (on a local server) a file path. jpg/jpeg/png, at most 10 MB, each
  side at least 300 px, aspect ratio between 1:2.5 and 2.5:1.{last}
- The prompt describes the motion and the camera, not the picture itself (the image already shows it);
  at most 2500 characters. The video follows the image's aspect ratio.
- "duration": {seconds} (3–15 s). Optional: extra_params.camera_control {{"type": "simple", "config":
  {{"zoom": 3}}}} for one camera move (exactly one non-zero value, -10..10).

Dry-run first (dry_run true), show me the body and the estimated credits, submit after I confirm, then follow
the task with get_task and give me the video URL."""


def register_prompts(server: MCPServer) -> None:
    server.prompt(name="storyboard", title="Story → multi-shot storyboard")(storyboard)
    server.prompt(name="image_to_video", title="Animate an image")(image_to_video)
