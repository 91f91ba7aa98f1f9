"""`LazyModel`: the base of this server's plain pydantic models, built on first use instead of at import.

Building a model's validator and schema costs about a millisecond each at import; a server start that only
answers tools/list never needs them (its published schemas ship as a file), so they wait for first use.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class LazyModel(BaseModel):
    model_config = ConfigDict(defer_build=True)
