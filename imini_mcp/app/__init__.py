"""The app layer: the use cases behind the tools, with no MCP in them.

`VideoService` generates (dry run or one recorded submit), gets and lists tasks and follows them;
`FileDelivery` saves finished videos; `BackgroundJobs` follows submitted tasks outside any request;
`recover_interrupted_submits` settles what a crash left in flight; `StoreLeases` makes servers sharing one
store poll each task once between them; `store_problem` is the health check. Other layers import from here.
"""

from imini_mcp.app.account import Account, Progress
from imini_mcp.app.delivery import FileDelivery, OutputMode
from imini_mcp.app.health import store_problem
from imini_mcp.app.jobs import JOB_KEY, BackgroundJobs, Job
from imini_mcp.app.keys import KeyStatus, KeyVault, check_key
from imini_mcp.app.leases import StoreLeases, poller_name
from imini_mcp.app.recovery import recover_interrupted_submits
from imini_mcp.app.results import GenerateVideoResult, LocalFile, TaskList, TaskSummary, TaskView
from imini_mcp.app.service import VideoService
from imini_mcp.app.store_calls import StoreUnavailable
from imini_mcp.app.views import summarize

__all__ = [
    "JOB_KEY",
    "Account",
    "BackgroundJobs",
    "FileDelivery",
    "GenerateVideoResult",
    "Job",
    "KeyStatus",
    "KeyVault",
    "LocalFile",
    "OutputMode",
    "Progress",
    "StoreLeases",
    "StoreUnavailable",
    "TaskList",
    "TaskSummary",
    "TaskView",
    "VideoService",
    "check_key",
    "poller_name",
    "recover_interrupted_submits",
    "store_problem",
    "summarize",
]
