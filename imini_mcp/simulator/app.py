"""The simulated imini server: the ASGI app, its routes and endpoints, and the state they share."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imini_mcp.simulator.checks import parse_json
from imini_mcp.simulator.config import (
    CONTROL_PATH,
    FILES_PATH,
    MODEL,
    SUBMIT_PATH,
    TASKS_PATH,
    Fault,
    SimulatorConfig,
)
from imini_mcp.simulator.fault_queue import FaultQueue
from imini_mcp.simulator.ledger import Ledger
from imini_mcp.simulator.media import chunks_of, iter_synthetic_mp4, sample
from imini_mcp.simulator.middleware import LedgerMiddleware, note_of
from imini_mcp.simulator.model_rules import output_shape
from imini_mcp.simulator.persist import TaskFolder, keep_media
from imini_mcp.simulator.responses import (
    BodyResponse,
    error_response,
    fault_response,
    http_exception,
    iso,
    request_id,
)
from imini_mcp.simulator.tasks import SimTask, Task, new_task_id, snapshot, status_of, task_payload
from imini_mcp.simulator.validator import validate_generate_request


class Simulator:
    """The simulated imini server. ``app`` is the ASGI app; state lives on this object."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config if config is not None else SimulatorConfig()
        self.ledger = Ledger()
        self._tasks: dict[str, Task] = {}
        # With tasks_dir the folder is the truth (other processes may add tasks), and _tasks stays empty.
        self._folder = TaskFolder(self.config.tasks_dir) if self.config.tasks_dir is not None else None
        self._faults = FaultQueue()
        self.app = Starlette(
            routes=[
                Route(SUBMIT_PATH, self._submit, methods=["POST"]),
                Route(TASKS_PATH + "{task_id}", self._poll, methods=["GET"]),
                Route(FILES_PATH + "{filename}", self._download, methods=["GET"]),
                Route(CONTROL_PATH + "faults", self._control_fault, methods=["POST"]),
                Route(CONTROL_PATH + "ledger", self._control_ledger, methods=["GET"]),
                Route(CONTROL_PATH + "reset", self._control_reset, methods=["POST"]),
            ],
            middleware=[Middleware(LedgerMiddleware, sim=self)],
            exception_handlers={HTTPException: http_exception},
        )

    # ---- public helpers for tests ----

    def add_fault(self, fault: Fault) -> None:
        self._faults.add(fault)

    def tasks(self) -> dict[str, SimTask]:
        now = self.config.clock()
        known = self._folder.all() if self._folder is not None else self._tasks.values()
        return {t.task_id: snapshot(t, self.config, now) for t in known}

    def reset(self) -> None:
        self._tasks.clear()
        if self._folder is not None:
            self._folder.clear()
        self._faults.clear()
        self.ledger._clear()

    # ---- internals ----

    def _task(self, task_id: str) -> Task | None:
        return self._folder.load(task_id) if self._folder is not None else self._tasks.get(task_id)

    def _save(self, task: Task) -> None:
        if self._folder is not None:
            self._folder.save(task)
        else:
            self._tasks[task.task_id] = task

    def _check_auth(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return error_response(
                401, message="Missing or malformed Authorization header, expected 'Bearer <API_KEY>'"
            )
        if self.config.api_key is not None and not secrets.compare_digest(token, self.config.api_key):
            return error_response(401, message="Invalid API key")
        return None

    def _create_task(self, body: dict[str, Any]) -> Task:
        task_id = new_task_id()
        while self._task(task_id) is not None:
            task_id = new_task_id()
        task = Task(
            task_id=task_id,
            request=deepcopy(body),
            created_clock=self.config.clock(),
            created_wall=datetime.now(UTC),
            model=body["model"],
            **output_shape(body),
        )
        fail = self._faults.take("submit", fail_task=True)
        if fail is not None:
            task.outcome = "failed"
            task.error = {
                "code": fail.code or "GENERATION_FAILED",
                "message": fail.message or "Video generation failed upstream (simulated)",
                "status": fail.status,
                "request_id": request_id(),
            }
        self._save(task)
        self.ledger._task_created(task_id)
        return task

    # ---- endpoints ----

    async def _submit(self, request: Request) -> Response:
        note = note_of(request)
        fault = self._faults.take("submit")
        accept_then_fail = None
        if fault is not None and fault.kind == "accept_then_status":
            accept_then_fail = fault  # applies only once a task really gets created
        elif fault is not None:
            note.fault = fault.kind
            if fault.kind != "delay":  # every other kind answers before any real work
                return fault_response(fault, {"model": MODEL, "created_at": iso(datetime.now(UTC))})
            await anyio.sleep(fault.seconds)

        body, rejection = await self._accepted_body(request)
        if rejection is not None:
            if accept_then_fail is not None:
                self._faults.give_back(accept_then_fail)
            return rejection

        task = self._create_task(body)
        note.task_id = task.task_id
        if accept_then_fail is not None:
            # The task exists and will progress (and bill), but the client never learns its id.
            note.fault = accept_then_fail.kind
            f = accept_then_fail
            return error_response(f.status, f.code, f.message, retry_after=f.retry_after)
        return JSONResponse(
            {
                "task_id": task.task_id,
                "model": task.model,
                "created_at": iso(task.created_wall),
                "request_id": str(uuid.uuid4()),
            }
        )

    async def _accepted_body(self, request: Request) -> tuple[dict[str, Any], Response | None]:
        """Auth, JSON parsing and validation of a submit: the body, or the error response to send."""
        if (denied := self._check_auth(request)) is not None:
            return {}, denied
        try:
            body = parse_json(await request.body())
        except ValueError as exc:
            return {}, error_response(400, message=f"Request body is not valid JSON: {exc}")
        problems = validate_generate_request(body)
        if problems:
            return {}, error_response(400, message="Invalid request: " + "; ".join(problems))
        return body, None

    async def _poll(self, request: Request) -> Response:
        note = note_of(request)
        task_id: str = request.path_params["task_id"]
        fault = self._faults.take("poll", task_id)
        if fault is not None and fault.kind in ("status", "html", "malformed_json", "reset", "delay"):
            note.fault = fault.kind
            if fault.kind != "delay":
                return fault_response(fault, {"task_id": task_id, "status": "processing"})
            await anyio.sleep(fault.seconds)
            fault = None
        # Any fault left (expire_task, unknown_status, missing_fields) needs an existing task.

        denied = self._check_auth(request)
        task = self._task(task_id)
        if denied is None and (task is None or task.expired):
            denied = error_response(404, message=f"Task {task_id} does not exist or has expired")
        if denied is not None or task is None:
            if fault is not None:
                self._faults.give_back(fault)
            return denied or error_response(404)

        if fault is not None:
            note.fault = fault.kind
        if fault is not None and fault.kind == "expire_task":
            task.expired = True  # permanent, like a real expiry: later polls and downloads 404 too
            self._save(task)
            return error_response(
                404, fault.code, fault.message or f"Task {task_id} does not exist or has expired"
            )
        payload = task_payload(task, self.config)
        if payload["videos"] and self.config.media_dir is not None:
            keep_media(self.config.media_dir, task_id, {"mp4": self._video()(), "jpg": [sample("cover.jpg")]})
        if fault is not None and fault.kind == "unknown_status":
            payload.update(status="pending_review", completed_at=None, videos=None, error=None)
        elif fault is not None and fault.kind == "missing_fields":
            del payload["status"]
        return JSONResponse(payload)

    async def _download(self, request: Request) -> Response:
        note = note_of(request)
        filename: str = request.path_params["filename"]
        task_id, dot, ext = filename.rpartition(".")
        if not dot or ext not in ("mp4", "jpg"):
            return error_response(404, "NOT_FOUND", f"No such file: {filename}")
        note.task_id = task_id
        fault = self._faults.take("download", task_id)
        if fault is not None:
            note.fault = fault.kind
            if fault.kind == "delay":
                await anyio.sleep(fault.seconds)
            elif fault.kind in ("status", "html"):
                return fault_response(fault, {})

        task = self._task(task_id)
        if task is None or task.expired or status_of(task, self.config, self.config.clock()) != "succeeded":
            return error_response(404, "NOT_FOUND", f"No such file: {filename}")

        abort = fault is not None and fault.kind == "reset"
        if ext == "jpg":
            cover = sample("cover.jpg")
            return BodyResponse(chunks_of(cover), len(cover), "image/jpeg", abort)
        size = self.config.video_size
        return BodyResponse(self._video(), size or len(sample("sample.mp4")), "video/mp4", abort)

    def _video(self) -> Callable[[], Iterator[bytes]]:
        """The result video's content, as a fresh iterator each call: the sample, or video_size bytes."""
        size = self.config.video_size
        return chunks_of(sample("sample.mp4")) if size is None else lambda: iter_synthetic_mp4(size)

    async def _control_fault(self, request: Request) -> Response:
        try:
            fault = Fault.from_dict(parse_json(await request.body()))
        except (ValueError, TypeError) as exc:
            return error_response(400, message=f"Bad fault: {exc}")
        self.add_fault(fault)
        return Response(status_code=204)

    async def _control_ledger(self, request: Request) -> Response:
        return JSONResponse(self.ledger.to_json())

    async def _control_reset(self, request: Request) -> Response:
        self.reset()
        return Response(status_code=204)
