"""The server on PostgreSQL (IMINI_DATABASE_URL): tasks go to the database, and a restart finds them there."""

from __future__ import annotations

from typing import Any

import pytest

from imini_mcp.store.postgres import PostgresTaskStore

pytestmark = pytest.mark.anyio


async def test_the_server_keeps_its_tasks_in_postgresql(connect: Any, make_server: Any, pg_url: str) -> None:
    """A generated task is in the database, not the journal file; a second server replays it by its key."""
    call = {"prompt": "a lighthouse at dusk", "idempotency_key": "pg-1", "wait_seconds": 300}
    async with connect(database_url=pg_url) as client:
        first = await client.call_tool("generate_video", call)
    assert not first.is_error, first.content[0].text
    task_id = first.structured_content["task"]["task_id"]
    async with connect(make_server(database_url=pg_url)) as client:
        again = await client.call_tool("generate_video", call)
    assert again.structured_content["task"]["task_id"] == task_id
    assert again.structured_content["replayed"] is True
    with PostgresTaskStore(pg_url) as store:
        record = store.get("", task_id)
        assert record is not None
        assert record.status == "succeeded"
        assert store.count() == 1
