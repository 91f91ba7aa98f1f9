"""The task store: every submitted task, durable, partitioned per owner. `TaskStore` is the contract,
`TaskRecord` the stored row; `SqliteTaskStore` is the embedded implementation (one file, several processes).
Other layers import from here, never from the modules inside.
"""

from imini_mcp.store.base import IdempotencyConflict, TaskRecord, TaskState, TaskStore
from imini_mcp.store.sqlite import SqliteTaskStore

__all__ = ["IdempotencyConflict", "SqliteTaskStore", "TaskRecord", "TaskState", "TaskStore"]
