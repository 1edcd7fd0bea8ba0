import logging

import httpx
import pytest


async def test_requests_are_logged_without_query_strings(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="smart_app.access")
    await client.get("/callback", params={"code": "code-abc", "state": "state-xyz"})
    lines = [r.getMessage() for r in caplog.records if r.name == "smart_app.access"]
    assert lines == ["GET /callback 400"]
