"""The request layer: pure, no I/O. What imini accepts for each model, checked before anything is sent.

The model catalogue, the `generate_video` request schema and the task tools' arguments, every per-model
rule (one module per model family under `rules/`), validation that reports every problem at once in plain
words, and the indicative price. Other layers import from here, never from the modules inside.
"""

from imini_mcp.request.catalog import (
    CATALOG,
    DEFAULT_MODEL,
    MAX_DURATION,
    MAX_SHOT_PROMPT,
    MAX_SHOTS,
    MIN_DURATION,
    MODEL_IDS,
)
from imini_mcp.request.check import check_generate_arguments, request_notes
from imini_mcp.request.file_names import FileKind, safe_name
from imini_mcp.request.lazy_model import LazyModel
from imini_mcp.request.parts import ImageResolver
from imini_mcp.request.pricing import CostEstimate, estimate_cost
from imini_mcp.request.problems import InvalidArguments, Problem
from imini_mcp.request.published import lean_output_schema
from imini_mcp.request.schema import GenerateVideoArguments, VideoRequest
from imini_mcp.request.spec import ASSUMED_VIDEO_SECONDS, BODY_FIELDS, ModelSpec
from imini_mcp.request.task_arguments import GetTaskArguments, ListTasksArguments
from imini_mcp.request.validation import arguments_schema, check_arguments
from imini_mcp.request.waits import DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS, WaitLimits

__all__ = [
    "ASSUMED_VIDEO_SECONDS",
    "BODY_FIELDS",
    "CATALOG",
    "DEFAULT_MODEL",
    "DEFAULT_WAIT_SECONDS",
    "MAX_DURATION",
    "MAX_SHOTS",
    "MAX_SHOT_PROMPT",
    "MAX_WAIT_SECONDS",
    "MIN_DURATION",
    "MODEL_IDS",
    "CostEstimate",
    "FileKind",
    "GenerateVideoArguments",
    "GetTaskArguments",
    "ImageResolver",
    "InvalidArguments",
    "LazyModel",
    "ListTasksArguments",
    "ModelSpec",
    "Problem",
    "VideoRequest",
    "WaitLimits",
    "arguments_schema",
    "check_arguments",
    "check_generate_arguments",
    "estimate_cost",
    "lean_output_schema",
    "request_notes",
    "safe_name",
]
