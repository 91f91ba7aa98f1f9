"""The task store: every submitted task, durable, partitioned per owner. `TaskStore` is the contract,
`TaskRecord` the stored row; `open_store` opens the configured one: PostgreSQL for a fleet of replicas
(imported only then), else `SqliteTaskStore`, the embedded implementation (one file, several processes).
`Coordination` (in TaskStore) gives one poller per task across processes and a `ChangeWatcher` for waiters;
`copy_journal` moves an SQLite journal into PostgreSQL; `is_outage` tells a store that cannot answer now.
Other layers import from here, never from the modules inside.
"""

from imini_mcp.store.base import IdempotencyConflict, TaskRecord, TaskState, TaskStore
from imini_mcp.store.coordination import ChangeWatcher, Coordination, PollLease
from imini_mcp.store.database_url import DatabaseUnavailable, redact_url
from imini_mcp.store.journal_copy import CopyConflict, CopyReport, copy_journal
from imini_mcp.store.opening import open_store, store_location
from imini_mcp.store.outage import is_outage
from imini_mcp.store.secrets import SecretStore
from imini_mcp.store.sqlite import SqliteTaskStore

__all__ = [
    "ChangeWatcher",
    "Coordination",
    "CopyConflict",
    "CopyReport",
    "DatabaseUnavailable",
    "IdempotencyConflict",
    "PollLease",
    "SecretStore",
    "SqliteTaskStore",
    "TaskRecord",
    "TaskState",
    "TaskStore",
    "copy_journal",
    "is_outage",
    "open_store",
    "redact_url",
    "store_location",
]
