"""A simulated imini video API server, for tests, benchmarks and ``--simulate`` mode.

Contract
--------
* It is a real ASGI app (Starlette) speaking the documented wire format of imini's video API for
  ``kling/kling-v3`` and the other video models in :data:`MODELS` (see the project's API notes,
  sections 2–7):

  - ``POST /imini/router/v1/videos/generate`` – Bearer auth, strict validation of every rule of the
    requested model (400 ``INVALID_PARAMETER`` listing all problems), answer exactly
    ``{task_id, model, created_at, request_id}``.
  - ``GET /imini/router/v1/videos/tasks/{task_id}`` – the section-5.1 task object; the status moves
    ``queued → processing → succeeded | failed`` by the (injectable) clock, measured from creation.
  - ``GET /files/{task_id}.mp4`` / ``GET /files/{task_id}.jpg`` – the result video and cover, no auth
    (it plays the CDN). The video is either a real tiny playable MP4 or, with ``video_size``, a
    synthetic MP4 of exactly that many bytes, streamed in constant memory.
  - ``/_simulator/faults`` (POST), ``/_simulator/ledger`` (GET), ``/_simulator/reset`` (POST) – a
    control API for tests that drive a simulator running in another process.

* Errors use the section-6.1 envelope ``{"error": {"code", "message", "status", "request_id"}}``.
* Scripted faults (:class:`Fault`) reproduce what real clients meet: error statuses, proxy HTML
  pages, broken JSON, undocumented statuses, slow answers, dropped connections, and the submit whose
  answer is lost although the task was created (the case that makes blind retries bill twice).
* Faults are consumed FIFO, one per matching request. Faults that only make sense on a request that
  would otherwise succeed (``accept_then_status``, and the poll kinds ``expire_task``,
  ``unknown_status``, ``missing_fields``) are given back if the request fails auth, validation or
  lookup first. ``expire_task`` is permanent for that task (polls and files 404 from then on).
* Validation is strict: exact JSON types (``null`` is not "absent", ``5.0`` is not an integer),
  unknown fields rejected everywhere.
* Every request is recorded in :attr:`Simulator.ledger`.
* Tasks live in memory, or with ``SimulatorConfig.tasks_dir`` in one JSON file each, so a simulator started
  later on the same folder (another process) answers for them; with ``media_dir`` the result files are
  copies kept there and given as file:// URLs, which outlive the process (``--simulate`` uses both).
* A "reset" fault aborts the response after the headers (downloads: after half the body). Over a real
  socket (:func:`serve_simulator`) the client sees a dropped connection; through
  ``httpx.ASGITransport`` the app's :class:`SimulatedConnectionReset` propagates to the caller.
* Deliberately imports nothing from the rest of ``imini_mcp`` (only stdlib, starlette, uvicorn,
  anyio), so it cannot share the package's bugs; its validator is independent of the package's.

Layout
------
``config`` (knobs, faults, clock, paths) · ``ledger`` · ``app`` (the :class:`Simulator`: routes and
endpoints) · ``tasks`` (task state and the poll answer) · ``persist`` (tasks and result files kept on
disk) · ``fault_queue`` · ``middleware`` (the
ledger's recorder) · ``responses`` (error envelope, fault answers, streamed bodies) · ``media``
(sample files, synthetic MP4s) · ``model_rules``, ``validator``, ``references``, ``extra_params``,
``checks`` (request validation) · ``serve`` (:func:`serve_simulator`) · ``cli`` (:func:`main`).
"""

from imini_mcp.simulator.app import Simulator
from imini_mcp.simulator.cli import main
from imini_mcp.simulator.config import (
    API_PREFIX,
    MODEL,
    Fault,
    ManualClock,
    SimulatedConnectionReset,
    SimulatorConfig,
)
from imini_mcp.simulator.ledger import Ledger, LedgerEntry
from imini_mcp.simulator.media import iter_synthetic_mp4
from imini_mcp.simulator.model_rules import MODELS
from imini_mcp.simulator.serve import serve_simulator
from imini_mcp.simulator.tasks import SimTask
from imini_mcp.simulator.validator import validate_generate_request

__all__ = [
    "API_PREFIX",
    "MODEL",
    "MODELS",
    "Fault",
    "Ledger",
    "LedgerEntry",
    "ManualClock",
    "SimTask",
    "SimulatedConnectionReset",
    "Simulator",
    "SimulatorConfig",
    "iter_synthetic_mp4",
    "main",
    "serve_simulator",
    "validate_generate_request",
]
