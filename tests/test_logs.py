"""Log lines: one JSON object each, the request's context, nothing private."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from aiohttp.test_utils import TestClient

from moderator import logs
from moderator.logs import email_hash
from tests.helpers import VALID


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    logs.configure(service="moderator-api", fmt="json", level="info", stream=stream, cache=False)
    yield stream
    logs.configure(service="tests", fmt="console", level="info", cache=False)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_one_summary_line_per_request_with_context(
    client: TestClient, log_stream: io.StringIO
) -> None:
    payload = {**VALID, "ip": "196.200.131.7"}
    response = await client.post("/v1/comments", json=payload, headers={"X-Request-ID": "r-1"})
    comment_id = (await response.json())["id"]
    records = [r for r in lines(log_stream) if r["event"] == "http_request"]
    assert len(records) == 1
    record = records[0]
    assert record["request_id"] == "r-1"
    assert record["comment_id"] == comment_id
    assert record["article_id"] == "politique-123"
    assert record["email_hash"] == email_hash(b"test-hash-key", "amina@example.ma")
    assert record["status"] == 202
    assert record["service"] == "moderator-api"
    assert record["level"] == "info"
    assert str(record["timestamp"]).endswith("Z")
    assert isinstance(record["duration_ms"], float)
    text = log_stream.getvalue()
    for private in ("amina@example.ma", "196.200.131.7", "Très bon article"):
        assert private not in text


def test_private_fields_are_redacted_above_debug(log_stream: io.StringIO) -> None:
    import structlog

    structlog.get_logger().info("oops", email="a@b.c", ip="1.2.3.4", body="secret text")
    record = lines(log_stream)[-1]
    assert record["email"] == record["ip"] == record["body"] == "[redacted]"


def test_standard_library_records_use_the_same_renderer(log_stream: io.StringIO) -> None:
    logging.getLogger("aiohttp.server").warning("connection lost: %s", "reset")
    record = lines(log_stream)[-1]
    assert record["event"] == "connection lost: reset"
    assert record["level"] == "warning"
    assert record["logger"] == "aiohttp.server"
    assert record["service"] == "moderator-api"
    assert "timestamp" in record


def test_email_hash_is_keyed_and_case_insensitive() -> None:
    assert email_hash(b"k", "Amina@Example.ma") == email_hash(b"k", "amina@example.ma")
    assert email_hash(b"k", "amina@example.ma") != email_hash(b"other", "amina@example.ma")


async def test_paths_and_request_ids_never_carry_an_address_or_ip(
    client: TestClient, log_stream: io.StringIO
) -> None:
    await client.get("/v1/articles/amina@example.ma/comments")
    await client.get("/v1/comments/196.200.131.7")
    answered = await client.get("/healthz", headers={"X-Request-ID": "196.200.131.7"})
    assert answered.headers["X-Request-ID"] != "196.200.131.7"
    text = log_stream.getvalue()
    assert "amina@example.ma" not in text
    assert "196.200.131.7" not in text
    assert "[redacted]" in text
