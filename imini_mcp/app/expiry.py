"""A journalled task imini answers 404 for: settled as expired once that is final, else kept and explained.

When a 404 is final, and the words for each case, are in `not_found.py`; this applies them to the store.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import imini_mcp.app.not_found as not_found
from imini_mcp.app.results import TaskView
from imini_mcp.app.store_calls import stored
from imini_mcp.app.views import record_view
from imini_mcp.imini import TaskNotFound
from imini_mcp.request import WaitLimits
from imini_mcp.store import TaskRecord, TaskStore

log = logging.getLogger(__name__)


@dataclass
class Expiry:
    store: TaskStore
    limits: WaitLimits
    grace: float = not_found.NOT_FOUND_GRACE  # when imini's 404 is final for a journalled task

    async def answer(self, record: TaskRecord, owner: str, exc: TaskNotFound) -> TaskView:
        """imini answered 404 for a journalled task: recorded as expired if that is final, else kept as it is."""
        assert record.task_id is not None
        current = await stored(self.store.get, owner, record.task_id) or record
        now = time.time()
        if not not_found.is_final(current, now, self.grace):
            view = record_view(current)
            view.next_step = self.not_visible_step(view, current, now)
            return view
        expired = await stored(
            self.store.mark_expired,
            owner,
            record.task_id,
            code=exc.code or not_found.NOT_FOUND_CODE,
            message=exc.message,
            status=exc.status,
            request_id=exc.request_id,
        )
        log.info("imini no longer knows task %s: recorded as expired", record.task_id)
        return record_view(expired or current)

    async def unless_final(self, record: TaskRecord, owner: str, exc: TaskNotFound) -> None:
        """A poll's 404 within the grace is transient to the shared poll loop: raised as such (else returns)."""
        assert record.task_id is not None
        current = await stored(self.store.get, owner, record.task_id) or record
        if not not_found.is_final(current, time.time(), self.grace):
            raise not_found.not_visible_yet(exc, record.task_id) from exc

    def not_visible_step(self, view: TaskView, record: TaskRecord, now: float) -> str:
        age = max(0.0, now - record.submitted_at)
        return not_found.not_visible_step(view.task_id, view.status, age, self.limits.clamp(None), self.grace)
