"""The imini layer: imini's HTTP client and wire models, its errors, the retry policy, and the shared poll loop
(one per task, across processes too when given `PollLeases`).

Knows imini's API and nothing of MCP, the store or files. Other layers import from here.
"""

from imini_mcp.imini.client import IminiClient
from imini_mcp.imini.clock import Clock
from imini_mcp.imini.errors import (
    ConfigurationError,
    IminiError,
    RequestRejected,
    SubmitOutcomeUnknown,
    TaskNotFound,
)
from imini_mcp.imini.leases import PollLeases
from imini_mcp.imini.polling import PollSchedule, TaskFollower, WaitState
from imini_mcp.imini.retry import RetryPolicy, backoff_delay
from imini_mcp.imini.transport import LazyTransport
from imini_mcp.imini.version import USER_AGENT, __version__
from imini_mcp.imini.wire import (
    DOCUMENTED_STATUSES,
    TERMINAL_STATUSES,
    SubmitReceipt,
    TaskFailure,
    TaskSnapshot,
    Video,
    is_terminal,
)

__all__ = [
    "DOCUMENTED_STATUSES",
    "TERMINAL_STATUSES",
    "USER_AGENT",
    "Clock",
    "ConfigurationError",
    "IminiClient",
    "IminiError",
    "LazyTransport",
    "PollLeases",
    "PollSchedule",
    "RequestRejected",
    "RetryPolicy",
    "SubmitOutcomeUnknown",
    "SubmitReceipt",
    "TaskFailure",
    "TaskFollower",
    "TaskNotFound",
    "TaskSnapshot",
    "Video",
    "WaitState",
    "__version__",
    "backoff_delay",
    "is_terminal",
]
