"""`moderator bench load`: drive an instance with synthetic comments and measure it.

Intake requests/s and latency, worker comments/s, submit-to-decision latency
(from the server's own `created_at` and `decided_at`), and with `--local` the
peak memory of each process. It only ever sends to the URL it is given,
127.0.0.1 by default; `--local` starts a private Redis, the service and one
worker on this machine first.

`--rate half` measures in two phases of `--count` comments each: a burst sent as
fast as possible gives the rate the worker sustains (decided over the span from
the first submission to the last decision); then comments are sent at half that
rate, and the submit-to-decision p95 is reported against the mean time the worker
spends per comment (1 / the sustained rate). With `--local`, `--random-weights`
gives the worker a full-size `multilingual` model of random weights, built first
in a temporary directory (`--score-shape`, as `moderator bench scoring` builds it),
`--runtime` its `MODERATOR_TOXICITY_RUNTIME`, and the report sets the worker's
peak memory against the model's size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from moderator.bench.local_worker import export_peak, model_size, start_local, worker_env
from moderator.entry import CONFIG_ERROR, fail
from moderator.errors import ModeratorError
from moderator.local.redis_server import free_port
from moderator.settings import TOXICITY_RUNTIMES

SCORE_SHAPES = ("straddle", "realistic")  # as workers.bench.random_model names them

# Vocabulary of the synthetic comments, space-separated.
WORDS = {
    "fr": "le gouvernement la réforme les communes budget école hôpital match équipe joueurs "
    "stade entraîneur internet données projet ville citoyens merci article très bien vraiment "
    "pourquoi jamais toujours après avant avec sans pour contre nous vous ils est sont sera",
    "ar": "الحكومة الإصلاح المدرسة المستشفى المباراة الفريق اللاعبين الملعب المدرب الإنترنت "
    "المشروع المدينة المواطنين شكرا المقال جيد جدا لماذا دائما بعد قبل مع بدون من أجل ضد نحن "
    "أنتم هم هو هي كان سيكون",
    "en": "the government reform schools hospital match team players stadium coach internet "
    "data project city citizens thanks article very good really why never always after before "
    "with without for against we you they is are was will",
}
LOOPBACK = ("127.0.0.1", "localhost", "::1")
PROG = "moderator bench load"


# The local instance: quiet, and no rate limits (one synthetic commenter posts everything).
def synthetic_comment(rng: random.Random, index: int) -> dict[str, str]:
    """A reader's comment of 20 to 200 words in French, Arabic or English."""
    language = rng.choice(("fr", "fr", "ar", "en"))
    words = rng.choices(WORDS[language].split(), k=rng.randint(20, 200))
    return {
        "article_id": f"bench-{rng.randint(1, 50)}",
        "name": f"Lecteur {index}",
        "email": f"lecteur{index}@example.ma",
        "body": " ".join(words).capitalize() + ".",
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the instance to load")
    parser.add_argument(
        "--local",
        action="store_true",
        help="start a private Redis, the service and a worker here first",
    )
    parser.add_argument("--count", type=int, default=500, help="comments to send (500)")
    parser.add_argument(
        "--rate",
        type=_rate,
        default=0.0,
        help="comments per second; 0 sends as fast as possible; 'half' measures the rate "
        "the worker sustains on a burst of --count first, then sends --count at half of it",
    )
    parser.add_argument(
        "--duration", type=float, default=120.0, help="stop sending after this many seconds (120)"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--wait",
        type=float,
        default=300.0,
        help="seconds to wait for the decisions after sending (300)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument(
        "--random-weights",
        action="store_true",
        help="with --local: the worker scores with a full-size multilingual model of random "
        "weights, built first in a temporary directory (representative speed)",
    )
    parser.add_argument(
        "--score-shape",
        choices=SCORE_SHAPES,
        help="with --random-weights: how its scores fall (straddle, the default, or realistic)",
    )
    parser.add_argument(
        "--runtime",
        choices=TOXICITY_RUNTIMES,
        help="with --local: the worker's MODERATOR_TOXICITY_RUNTIME",
    )
    args = parser.parse_args(argv)
    if urlsplit(args.url).hostname not in LOOPBACK and not args.local:
        return fail(PROG, "only addresses on this machine (127.0.0.1) are loaded", CONFIG_ERROR)
    if (args.random_weights or args.runtime) and not args.local:
        return fail(PROG, "--random-weights and --runtime set up the --local worker", CONFIG_ERROR)
    if args.score_shape and not args.random_weights:
        return fail(PROG, "--score-shape shapes the scores of --random-weights", CONFIG_ERROR)
    if args.local:
        with tempfile.TemporaryDirectory(prefix="moderator-bench-") as scratch:
            try:
                environ = worker_env(args, Path(scratch))
                port = free_port()
                local = start_local(port, environ)
            except ModeratorError as exc:
                return fail(PROG, exc)
            try:
                report = asyncio.run(_run(args, f"http://127.0.0.1:{port}"))
                report["peak_rss_mb"] = local.peak_rss_mb()
                report |= export_peak(local.events("worker"))
            finally:
                local.stop()
            if args.random_weights:
                report |= model_size(Path(scratch), report)
    else:
        report = asyncio.run(_run(args, args.url))
    _print(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _rate(value: str) -> float | str:
    if value == "half":
        return value
    try:
        rate = float(value)
    except ValueError:
        message = f"a number of comments per second, or half: {value!r}"
        raise argparse.ArgumentTypeError(message) from None
    if rate < 0:
        raise argparse.ArgumentTypeError("0 or more comments per second")
    return rate


async def _run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    rng = random.Random(args.seed)  # noqa: S311 - synthetic text, not secrets
    connector = aiohttp.TCPConnector(limit=args.connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def phase(rate: float, first: int) -> dict[str, Any]:
            comments = [synthetic_comment(rng, first + i) for i in range(args.count)]
            intake = await _send(session, url, comments, rate, args.duration)
            decided = await _await_decisions(session, url, intake["ids"], args.wait)
            return _summarise(rate, intake, decided)

        if args.rate != "half":
            return await phase(float(args.rate), 0)
        burst = await phase(0.0, 0)
        sustained = burst["worker_comments_per_s"]
        if not sustained:
            return burst | {"sustained": None}
        print(f"bench: the worker sustains {sustained}/s; now at half", file=sys.stderr)
        report = await phase(sustained / 2, args.count)
        p95 = (report["submit_to_decision_s"] or {}).get("p95")
        return report | {
            "sustained": {
                "worker_comments_per_s": sustained,
                "mean_s_per_comment": round(1 / sustained, 4),
                "accepted": burst["accepted"],
                "undecided": burst["undecided"],
                "submit_to_decision_s": burst["submit_to_decision_s"],
            },
            "p95_over_mean_s_per_comment": round(p95 * sustained, 2) if p95 else None,
        }


async def _send(
    session: aiohttp.ClientSession,
    url: str,
    comments: list[dict[str, str]],
    rate: float,
    duration_s: float,
) -> dict[str, Any]:
    started = time.perf_counter()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    ids: list[str] = []

    async def one(index: int, comment: dict[str, str]) -> None:
        if rate > 0:
            await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
        if time.perf_counter() - started > duration_s:
            return
        sent = time.perf_counter()
        async with session.post(f"{url}/v1/comments", json=comment) as response:
            body = await response.json(content_type=None)
            latencies.append(time.perf_counter() - sent)
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.status == 202:
                ids.append(body["id"])
        if len(latencies) % 100 == 0:
            print(f"bench: {len(latencies)} sent", file=sys.stderr, flush=True)

    await asyncio.gather(*(one(i, c) for i, c in enumerate(comments)))
    return {
        "ids": ids,
        "latencies": latencies,
        "statuses": statuses,
        "seconds": time.perf_counter() - started,
    }


async def _await_decisions(
    session: aiohttp.ClientSession, url: str, ids: list[str], wait_s: float
) -> list[dict[str, Any]]:
    """Each comment's public status once decided (server timestamps, no polling error)."""
    deadline = time.monotonic() + wait_s
    decided: dict[str, dict[str, Any]] = {}
    while len(decided) < len(ids) and time.monotonic() < deadline:
        for comment_id in [i for i in ids if i not in decided][:200]:
            async with session.get(f"{url}/v1/comments/{comment_id}") as response:
                status = await response.json()
            if status.get("status") != "pending":
                decided[comment_id] = status
        print(f"bench: {len(decided)}/{len(ids)} decided", file=sys.stderr, flush=True)
        if len(decided) < len(ids):
            await asyncio.sleep(0.5)
    return list(decided.values())


def _summarise(
    rate: float, intake: dict[str, Any], decided: list[dict[str, Any]]
) -> dict[str, Any]:
    latencies = sorted(intake["latencies"])
    waits = sorted(_seconds(d["decided_at"]) - _seconds(d["created_at"]) for d in decided)
    span = (
        (
            max(_seconds(d["decided_at"]) for d in decided)
            - min(_seconds(d["created_at"]) for d in decided)
        )
        if decided
        else 0.0
    )
    outcomes: dict[str, int] = {}
    for d in decided:
        outcomes[d["status"]] = outcomes.get(d["status"], 0) + 1
    return {
        "sent": len(latencies),
        "accepted": len(intake["ids"]),
        "statuses": {str(k): v for k, v in sorted(intake["statuses"].items())},
        "rate_asked": round(rate, 3) or None,
        "intake_requests_per_s": round(len(latencies) / intake["seconds"], 1),
        "intake_ms": _percentiles([x * 1000 for x in latencies]),
        "decided": len(decided),
        "undecided": len(intake["ids"]) - len(decided),
        "outcomes": outcomes,
        "worker_comments_per_s": round(len(decided) / span, 2) if span else None,
        "submit_to_decision_s": _percentiles(waits),
    }


def _percentiles(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1], 3),
        "mean": round(statistics.fmean(ordered), 3),
    }


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _print(report: dict[str, Any]) -> None:
    print(f"sent {report['sent']}, accepted {report['accepted']} {report['statuses']}")
    print(f"intake: {report['intake_requests_per_s']} requests/s, ms {report['intake_ms']}")
    print(
        f"decided {report['decided']} ({report['outcomes']}), undecided "
        f"{report['undecided']}, worker {report['worker_comments_per_s']} comments/s"
    )
    print(f"submit to decision, s: {report['submit_to_decision_s']}")
    if report.get("sustained"):
        sustained = report["sustained"]
        print(
            f"sustained {sustained['worker_comments_per_s']} comments/s "
            f"({sustained['mean_s_per_comment']} s each), sent at half: submit-to-decision "
            f"p95 = {report['p95_over_mean_s_per_comment']}x the time per comment"
        )
    if "peak_rss_mb" in report:
        print(f"peak memory, MB: {report['peak_rss_mb']}")
    if "export_peak_rss_mb" in report:
        print(f"export processes' peak memory, MB: {report['export_peak_rss_mb']}")
    if "model_mb" in report:
        included = report.get("peak_over_model_export_included")
        print(
            f"model {report['model_mb']} MB; worker peak "
            f"{report['worker_peak_over_model']}x the model"
            + (f", {included}x with its export" if included is not None else "")
        )


if __name__ == "__main__":
    raise SystemExit(main())
