"""MCP Tasks for `generate_video`, in both protocol forms, on top of the app's background jobs.

common.py: the task as MCP sees it and the shared operations; extension.py: the 2026-07-28 extension
(SEP-2663) and the task methods; legacy.py: the 2025-11-25 form's middleware.
"""

from imini_mcp.mcp.tasks.common import EXTENSION_ID
from imini_mcp.mcp.tasks.extension import TasksExtension
from imini_mcp.mcp.tasks.legacy import legacy_tasks_middleware

__all__ = ["EXTENSION_ID", "TasksExtension", "legacy_tasks_middleware"]
