"""`moderator worker` / `python -m workers`: one scoring worker process."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import socket
import sys
from collections.abc import Sequence

import structlog
from redis.exceptions import RedisError

from moderator import entry
from moderator.keys import Keys
from moderator.operations import fleet as ops
from moderator.settings import Settings
from moderator.storage.connection import connect
from workers.consumer import Worker
from workers.errors import ModelUnavailable
from workers.toxicity.language_models import load_language_models
from workers.toxicity.loading import load_scorer
from workers.toxicity.scorer import ToxicityScorer

log = structlog.get_logger()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="moderator worker", description=__doc__)
    parser.add_argument(
        "--concurrency", type=int, default=1, help="batches in flight in this process (default 1)"
    )
    parser.add_argument("--batch-size", type=int, help="overrides MODERATOR_WORKER_BATCH_SIZE")
    parser.add_argument(
        "--burst",
        action="store_true",
        help="decide what is queued, then exit (no waiting for more)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 0 when a worker of this host is alive, 1 otherwise (a container probe)",
    )
    args = parser.parse_args(argv)
    settings = entry.start("moderator worker", service="moderator-worker")
    if settings is None:
        return entry.CONFIG_ERROR
    if args.batch_size:
        settings = dataclasses.replace(settings, worker_batch_size=args.batch_size)
    if args.check:
        return asyncio.run(_check(settings))
    try:
        scorer, language_models = _load_toxicity(settings)
    except ModelUnavailable as exc:
        print(f"moderator worker: {exc}", file=sys.stderr)
        return 1
    concurrency = max(1, args.concurrency)
    return asyncio.run(_run(settings, scorer, language_models, concurrency, burst=args.burst))


async def _check(settings: Settings) -> int:
    """A probe: is a worker of this host (this pod) alive? Other hosts' workers do not
    count, so one live pod cannot keep a hung one looking alive."""
    client = connect(settings, timeout_s=2, connect_timeout_s=2)
    try:
        alive = await ops.live_workers(client, Keys(settings.key_prefix))
    except (RedisError, OSError) as exc:
        print(f"moderator worker --check: Redis unreachable: {exc}", file=sys.stderr)
        return 1
    finally:
        await client.aclose()
    mine = [name for name in alive if name.startswith(f"{socket.gethostname()}-")]
    print(f"{len(mine)} worker(s) alive on this host" + (": " + ", ".join(mine) if mine else ""))
    return 0 if mine else 1


def _load_toxicity(
    settings: Settings,
) -> tuple[ToxicityScorer | None, dict[str, ToxicityScorer | None]]:
    """detoxify and the language models (MODERATOR_LANGUAGE_MODELS), loaded once per
    process. A model that does not load is None (its comments held with
    `check_failed.toxicity`) only when MODERATOR_TOXICITY_FALLBACK=hold."""
    return _load_detoxify(settings), load_language_models(
        settings.language_models, fallback=settings.toxicity_fallback
    )


def _load_detoxify(settings: Settings) -> ToxicityScorer | None:
    try:
        scorer = load_scorer(
            settings.toxicity_model,
            settings.model_dir,
            precision=settings.toxicity_precision,
            runtime=settings.toxicity_runtime,
            thresholds=settings.thresholds,
        )
    except ModelUnavailable as exc:
        if settings.toxicity_fallback != "hold":
            raise
        log.warning(
            "toxicity_model_unavailable",
            error=str(exc),
            consequence="every comment is held with check_failed.toxicity",
        )
        return None
    return scorer


async def _run(
    settings: Settings,
    scorer: ToxicityScorer | None,
    language_models: dict[str, ToxicityScorer | None],
    concurrency: int,
    *,
    burst: bool,
) -> int:
    # Blocking reads wait up to worker_block_ms: the socket must wait longer.
    client = connect(settings, timeout_s=settings.worker_block_ms / 1000 + 5, connect_timeout_s=2)
    base = f"{socket.gethostname()}-{os.getpid()}"
    workers = [
        Worker(
            client,
            settings,
            toxicity=scorer,
            language_models=language_models,
            name=f"{base}-{i}",
        )
        for i in range(concurrency)
    ]
    loop = asyncio.get_running_loop()

    def stop_all() -> None:
        for worker in workers:
            worker.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_all)
    log.info("worker_started", workers=[w.name for w in workers], burst=burst)
    try:
        if burst:
            await workers[0].setup()
            decided = sum(await asyncio.gather(*(w.drain() for w in workers)))
            log.info("worker_burst_done", entries=decided)
        else:
            await _run_until_stopped(workers, settings.shutdown_timeout_s)
    finally:
        await client.aclose()
    log.info("worker_stopped")
    return 0


async def _run_until_stopped(workers: list[Worker], grace_s: float) -> None:
    """Run until a signal; then each worker finishes and acknowledges its batch. Past
    the grace period the rest is cancelled (decision writes are shielded, so nothing
    is left half-applied; unacknowledged entries are reclaimed by other workers)."""
    tasks = [asyncio.create_task(w.run()) for w in workers]
    signalled = asyncio.create_task(workers[0].stopping())
    await asyncio.wait([*tasks, signalled], return_when=asyncio.FIRST_COMPLETED)
    for worker in workers:
        worker.stop()
    _, late = await asyncio.wait(tasks, timeout=grace_s)
    for task in late:
        task.cancel()
    signalled.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
