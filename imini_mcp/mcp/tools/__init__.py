"""The tools, one module each; adding a tool is a new module here and one line in `TOOLS`."""

from imini_mcp.mcp.tools import generate_video, get_task, list_models, list_tasks

TOOLS = [generate_video.TOOL, get_task.TOOL, list_tasks.TOOL, list_models.TOOL]

__all__ = ["TOOLS"]
