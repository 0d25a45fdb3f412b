"""The store's Redis client (`connect`): commands packed in C by hiredis.

The intake script's group commit and its reload after a flush: tests/test_batching.py."""

from __future__ import annotations

import json

import pytest
from redis.exceptions import DataError

from moderator.settings import Settings
from moderator.storage.connection import connect


async def test_commands_packed_in_c_round_trip(settings: Settings) -> None:
    client = connect(settings)
    key = f"{settings.key_prefix}:packing"
    try:
        await client.hset(key, mapping={"text": "تعليق é\r\n", "count": 7})
        await client.hset(key, "raw", b"\x00\xff bytes")
        assert await client.hget(key, "text") == "تعليق é\r\n"
        assert await client.hincrby(key, "count", 1) == 8
        assert await client.hincrbyfloat(key, "ratio", 0.1) == pytest.approx(0.1)
        assert await client.hstrlen(key, "raw") == 8
        # A multi-word command name and arguments hiredis cannot take go redis-py's way.
        assert "maxmemory" in await client.config_get("maxmemory")
        assert await client.execute_command("ECHO", json.dumps({"a": 1})) == '{"a": 1}'
        with pytest.raises(DataError):
            await client.hset(key, "flag", True)  # type: ignore[arg-type]
    finally:
        await client.delete(key)
        await client.aclose()
