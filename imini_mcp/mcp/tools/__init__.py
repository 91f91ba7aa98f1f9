"""The tools, one module each; adding a tool is a new module here and one line in `SPECS`.

Their published schemas are generated into schemas.json (see tooling.py).
"""

from imini_mcp.mcp.tools import generate_video, get_task, list_models, list_tasks

SPECS = [generate_video.SPEC, get_task.SPEC, list_tasks.SPEC, list_models.SPEC]
TOOLS = [spec.build() for spec in SPECS]

__all__ = ["SPECS", "TOOLS"]
