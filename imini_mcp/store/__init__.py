"""The task store: every submitted task, durable, partitioned per owner. `TaskStore` is the contract,
`TaskRecord` the stored row; `SqliteTaskStore` is the embedded implementation (one file, several processes).
Other layers import from here, never from the modules inside.
"""

from imini_mcp.store.sqlite import IdempotencyConflict, SqliteTaskStore, TaskRecord

__all__ = ["IdempotencyConflict", "SqliteTaskStore", "TaskRecord"]
