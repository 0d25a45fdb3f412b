"""`moderator stats` and `moderator dead-letters`: an operator's view from the terminal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from moderator.keys import Keys
from moderator.operations import fleet as ops
from moderator.operations.stats import collect
from moderator.settings import Settings
from moderator.storage import privacy
from moderator.storage.connection import connect


def _client(settings: Settings) -> aioredis.Redis:
    return connect(settings, timeout_s=5, connect_timeout_s=2)


async def stats(settings: Settings, *, as_json: bool, window_s: int) -> int:
    client = _client(settings)
    try:
        report = (await collect(client, Keys(settings.key_prefix), window_s=window_s)).to_dict()
    finally:
        await client.aclose()
    print(json.dumps(report, indent=2, ensure_ascii=False) if as_json else _table(report))
    return 0


def _table(report: dict[str, Any]) -> str:
    queues = report["queues"]
    oldest = report["oldest_held_age_s"]
    lines = [
        f"queued, not yet read   {queues.get('pending', 0)}",
        f"read, not acknowledged {queues.get('unacknowledged', 0)}",
        f"held                   {queues.get('held', 0)}"
        + (f"   (oldest waiting {oldest / 60:.0f} min)" if oldest is not None else ""),
        f"rejected               {queues.get('rejected', 0)}",
        f"published              {queues.get('published', 0)}",
        f"dead letters           {report['dead_letters']}",
        f"workers alive          {len(report['workers_alive'])}"
        + (f"   ({', '.join(report['workers_alive'])})" if report["workers_alive"] else ""),
        f"webhooks               {_pairs(report.get('webhooks', {}))}",
        f"last {report['window_s'] // 60} min:",
        f"  decisions            {_pairs(report['decisions'])}",
        f"  by reason            {_pairs(report['decisions_by_reason'])}",
        f"  by language          {_pairs(report['decisions_by_language'])}",
        f"  moderator overrides  {_pairs(report['overrides'])}",
    ]
    return "\n".join(lines)


def _pairs(values: dict[str, Any]) -> str:
    if not values:
        return "-"
    return ", ".join(f"{k} {v}" for k, v in sorted(values.items(), key=lambda kv: -kv[1]))


async def forget(settings: Settings, email: str) -> int:
    """Forget a reader from the command line; prints counts, never the address."""
    import getpass

    client = _client(settings)
    try:
        result = await privacy.forget(
            client, Keys(settings.key_prefix), settings, email, by=f"cli:{getpass.getuser()}"
        )
    finally:
        await client.aclose()
    print(json.dumps(result.to_dict()))
    return 0


async def dead_letters_list(settings: Settings, *, as_json: bool) -> int:
    client = _client(settings)
    try:
        letters = await ops.dead_letters(client, Keys(settings.key_prefix))
    finally:
        await client.aclose()
    if as_json:
        shown = [{"dead_id": dead_id, **letter.to_fields()} for dead_id, letter in letters]
        print(json.dumps(shown, indent=2, ensure_ascii=False))
    elif not letters:
        print("no dead letters")
    for dead_id, letter in [] if as_json else letters:
        print(
            f"{dead_id}  comment {letter.comment_id}  article {letter.article_id}  "
            f"after {letter.deliveries} deliveries  at {letter.at}\n    {letter.error}"
        )
    return 0


async def dead_letters_retry(settings: Settings, ids: Sequence[str], *, retry_all: bool) -> int:
    if not ids and not retry_all:
        print("moderator dead-letters retry: give dead-letter ids or --all")
        return 2
    client = _client(settings)
    try:
        queued = await ops.retry_dead_letters(
            client, Keys(settings.key_prefix), None if retry_all else ids
        )
    finally:
        await client.aclose()
    print(f"queued again: {len(queued)}" + (f" ({', '.join(queued)})" if queued else ""))
    return 0
