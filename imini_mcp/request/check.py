"""`generate_video`'s arguments checked: raw tool arguments in, either a `GenerateVideoArguments` (whose
`to_body()` is what imini receives) or every problem at once, in the order a reader fixes them.

The pipeline: field-by-field parsing (validation.py), the model (rules/fields.py), the fields it takes and
their limits, the prompt, the model family's cross-field rules (rules/), the reference-media counts and
combinations (rules/media.py), the family's rules that build on them, the images themselves (resolved to
what imini receives) and the body size. Also the notes a valid request should come with.
"""

from __future__ import annotations

from typing import Any

from imini_mcp.request.catalog import CATALOG, DEFAULT_MODEL, KLING_V3
from imini_mcp.request.parts import ImageResolver, public_image_url
from imini_mcp.request.problems import InvalidArguments, Problem, format_path
from imini_mcp.request.rules import Special, specials_of
from imini_mcp.request.rules.fields import Args, choose_model, field_problems, prompt_problems
from imini_mcp.request.rules.media import media_problems
from imini_mcp.request.schema import GenerateVideoArguments, VideoRequest
from imini_mcp.request.spec import ASSUMED_VIDEO_SECONDS, ModelSpec
from imini_mcp.request.validation import parse_partially

NOT_SUBMITTED = "Not submitted — nothing was sent to imini and no credits were used."


def check_generate_arguments(
    raw: dict[str, Any], *, resolve_image: ImageResolver = public_image_url
) -> GenerateVideoArguments:
    """Validate raw `generate_video` arguments; raise `InvalidArguments` listing every problem."""
    parsed = parse_partially(GenerateVideoArguments, raw)
    if parsed.value is None:  # not even an object: nothing more to check
        raise InvalidArguments(parsed.problems, NOT_SUBMITTED)
    spec, model_problems = choose_model(parsed)
    problems = _rule_problems(parsed, spec, model_problems)
    problems += _resolve_images(parsed, resolve_image)
    problems += _body_size_problems(parsed, spec)
    if problems:
        raise InvalidArguments(problems, NOT_SUBMITTED)
    return parsed.value


def _rule_problems(parsed: Args, spec: ModelSpec, model_problems: list[Problem]) -> list[Problem]:
    """Every rule of the model, in pipeline order (see the module docstring)."""
    specials = specials_of(spec)
    single, refused = field_problems(parsed, spec)
    # A field the model does not take is one problem naming the model, not also every flaw inside it.
    problems = [p for p in parsed.problems if not _under(p.path, refused)]
    problems += model_problems + single
    if not any(special.checks_prompt for special in specials):
        problems += prompt_problems(parsed, spec)
    problems += _special_problems(parsed, spec, refused, [s for s in specials if s.before_media])
    problems += media_problems(parsed, spec, refused)
    problems += _special_problems(parsed, spec, refused, [s for s in specials if not s.before_media])
    return problems


def _special_problems(
    parsed: Args, spec: ModelSpec, refused: list[str], specials: list[Special]
) -> list[Problem]:
    return [problem for special in specials for problem in special.check(parsed, spec, refused)]


def _under(path: str, parents: list[str]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in parents)


def _resolve_images(parsed: Args, resolve: ImageResolver) -> list[Problem]:
    """Check each image that parsed (format, size, location) and put what imini receives in its place."""
    problems: list[Problem] = []
    images = parsed.value.reference_images if parsed.value else None
    for index, image in enumerate(images or []):
        if image is None or parsed.is_invalid("reference_images", index, "url"):
            continue
        try:
            image.url = resolve(image.url)
        except ValueError as exc:
            message, _, fix = str(exc).partition(" Fix: ")
            path = format_path(("reference_images", index, "url"))
            problems.append(Problem(path, message.rstrip(".") + ".", fix or "use a different image."))
    return problems


def _body_size_problems(parsed: Args, spec: ModelSpec) -> list[Problem]:
    """[DOC] seedance: the whole body ≤ 64 MB. Checked once images are resolved: inline ones dominate it."""
    req = parsed.value
    if spec.max_body_bytes is None or req is None:
        return []
    # Fields that failed to parse are left unset (None) here; they are reported on their own.
    texts = [req.prompt] + [img.url for img in req.reference_images or [] if img is not None]
    size = sum(len(text.encode()) for text in texts if isinstance(text, str)) + 4096  # + the rest, generously
    if size <= spec.max_body_bytes:
        return []
    limit = spec.max_body_bytes // (1024 * 1024)
    return [
        Problem(
            "reference_images",
            f"make the request body about {size / (1024 * 1024):.1f} MB; {spec.id} accepts at most {limit} MB. [DOC]",
            "pass the images as public https URLs instead of local files or data URIs (those are sent inline).",
        )
    ]


# ---------------------------------------------------------------------------------------------------
# Notes on a valid request


def request_notes(req: VideoRequest) -> list[str]:
    """Things worth knowing about a valid request: where the API's behaviour is inferred or surprising."""
    spec = req.spec
    specials = specials_of(spec)
    notes = [note for special in specials for note in special.first_notes(req, spec)]
    notes += _shared_notes(req, spec)
    notes += [note for special in specials for note in special.notes(req, spec)]
    return notes


def _shared_notes(req: VideoRequest, spec: ModelSpec) -> list[str]:
    """Data-URI images where undocumented, defaults that differ from the default model's, unseen lengths."""
    notes: list[str] = []
    if not spec.data_uris_documented and any(
        img.url.lower().startswith("data:") for img in req.reference_images or []
    ):
        name = "kling-v3" if spec.id == KLING_V3.id else spec.id
        # Once per request, however many images: what is known, what is inferred, and the way out.
        notes.append(
            "Local images (and data URIs) go to imini inline, as data URIs. imini's docs show that for seedance "
            f"and happyhorse, not for {name}; imini's own integration script sends local images to its video "
            "models, kling-v3 included, the same way, so it is expected to work [INFER]. If imini refuses an "
            "image, pass it as a public https URL instead."
        )
    if spec.default_audio and req.generate_audio is None:
        notes.append(
            f"{spec.id} makes sound by default (generate_audio defaults to true [DOC]); set it to false for "
            "a silent video."
        )
    if req.resolution is None and spec.default_resolution != CATALOG[DEFAULT_MODEL].default_resolution:
        notes.append(
            f"{spec.id} renders {spec.default_resolution} by default [DOC], and the estimate uses it; set "
            "resolution to change it."
        )
    if req.length_from_video():
        notes.append(
            "The output is as long as the reference video, which this server cannot measure: the estimate "
            f"assumes {ASSUMED_VIDEO_SECONDS} s."
        )
    return notes
