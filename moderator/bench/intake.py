"""`moderator bench intake`: intake throughput as a ratio of a bare aiohttp handler's.

Both servers run here, one process each, on 127.0.0.1, driven by `wrk` in the
same run on the same machine, so the ratio holds whatever the machine. Then a
run at half the intake's own rate measures latency. Every target is a port on
127.0.0.1 that this command opened itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import cast

from aiohttp import web

from moderator.errors import ModeratorError
from moderator.keys import Keys
from moderator.local.instance import LocalInstance, Output, answers
from moderator.local.redis_server import free_port
from moderator.records import QueuedComment
from moderator.settings import Settings

START_TIMEOUT_S = 20.0  # for each server to answer

COMMENT = {
    "article_id": "politique-2026-11-28",
    "name": "Amina El Idrissi",
    "email": "amina.elidrissi@example.ma",
    "body": "Merci pour cet article très clair sur la réforme. J'espère que les "
    "communes rurales en profiteront aussi, pas seulement Casablanca et Rabat. "
    "مقال مفيد، شكرا للكاتب.",
    "ip": "196.200.131.7",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
}

# Records what wrk measured as one JSON line; `delay` paces each connection.
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[BODY]]
local pace_ms = PACE_MS
function delay() return pace_ms end
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, '
    .. '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


@dataclass(frozen=True)
class Run:
    target: str
    connections: int
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int


def baseline_app() -> web.Application:
    """The yardstick: aiohttp answering a constant JSON body, nothing else."""
    body = json.dumps({"id": "01J0000000000000000000000", "status": "pending"}).encode()

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, status=202, content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/comments", handler)
    return app


def run_intake_bench(
    *, duration_s: float, connections: int, json_path: str | None, appendfsync: str = "everysec"
) -> int:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise ModeratorError("wrk is not installed: apt-get install wrk")
    baseline_port, intake_port = free_port(), free_port()
    env = {
        "MODERATOR_PORT": str(intake_port),
        "MODERATOR_LOG_FORMAT": "json",
        "MODERATOR_HASH_KEY": "bench",
        # One synthetic commenter posts everything: no rate limits here.
        "MODERATOR_RATE_LIMIT_IP": "0",
        "MODERATOR_RATE_LIMIT_EMAIL": "0",
        "MODERATOR_RATE_LIMIT_ARTICLE": "0",
    }
    with (
        LocalInstance(appendfsync=appendfsync, env=env) as local,
        tempfile.TemporaryDirectory() as tmp,
    ):
        local.spawn(
            "baseline", ["-m", "moderator.bench.intake", str(baseline_port)], output=Output.DISCARD
        )
        local.spawn("service", ["-m", "moderator", "serve"], output=Output.DISCARD)
        baseline_url = f"http://127.0.0.1:{baseline_port}/v1/comments"
        intake_url = f"http://127.0.0.1:{intake_port}/v1/comments"
        for url in (baseline_url, intake_url):
            health = url.rsplit("/v1/", 1)[0] + "/healthz"  # the bare handler answers 404
            local.wait_until(
                partial(answers, health),
                timeout_s=START_TIMEOUT_S,
                failure=f"server at {url} did not start",
            )
        _progress("warming up")
        _wrk(wrk, baseline_url, Path(tmp), connections, 2.0, 0)
        _wrk(wrk, intake_url, Path(tmp), connections, 2.0, 0)
        _progress(f"bare aiohttp handler, {duration_s:.0f} s")
        bare = _wrk(wrk, baseline_url, Path(tmp), connections, duration_s, 0, "bare")
        _progress(f"moderator intake, {duration_s:.0f} s")
        intake = _wrk(wrk, intake_url, Path(tmp), connections, duration_s, 0, "intake")
        half_rate = intake.requests_per_s / 2
        paced = 16
        _progress(f"moderator intake at {half_rate:.0f} requests/s, {duration_s:.0f} s")
        pace_ms = max(1, round(paced * 1000 / half_rate))
        latency = _wrk(
            wrk, intake_url, Path(tmp), paced, duration_s, pace_ms, "intake at half rate"
        )
        stored = _check_atomicity(local.redis_url)
    report = {
        "runs": [asdict(run) for run in (bare, intake, latency)],
        "ratio_intake_to_bare": round(intake.requests_per_s / bare.requests_per_s, 3),
        "atomicity": stored,
        "appendfsync": appendfsync,
    }
    _print_table(report, bare, intake, latency)
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _wrk(
    wrk: str,
    url: str,
    tmp: Path,
    connections: int,
    duration_s: float,
    pace_ms: int,
    label: str = "",
) -> Run:
    script = tmp / "post.lua"
    body = json.dumps(COMMENT, ensure_ascii=False)
    script.write_text(WRK_SCRIPT.replace("BODY", body).replace("PACE_MS", str(pace_ms)))
    result = subprocess.run(  # noqa: S603 - wrk against our own 127.0.0.1 port
        [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration_s))}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("{"))
    data = json.loads(line)
    return Run(
        target=label,
        connections=connections,
        requests_per_s=round(data["requests"] / (data["duration_us"] / 1e6), 1),
        p50_ms=data["p50_ms"],
        p90_ms=data["p90_ms"],
        p99_ms=data["p99_ms"],
        max_ms=data["max_ms"],
        non_2xx=data["non_2xx"],
        socket_errors=data["socket_errors"],
    )


def _check_atomicity(url: str) -> dict[str, int | bool]:
    """Every queued id has its comment and every comment is queued."""
    import redis

    client: redis.Redis = redis.Redis.from_url(url, decode_responses=True)
    try:
        names = Keys(Settings().key_prefix)
        entries = cast(list[tuple[str, dict[str, str]]], client.xrange(names.comments_stream))
        queued = {QueuedComment.from_fields(fields).comment_id for _, fields in entries}
        stored = {key.rsplit(":", 1)[1] for key in client.scan_iter(names.comment("*"), 1000)}
    finally:
        client.close()
    return {"queued": len(queued), "stored": len(stored), "intact": queued == stored}


def _progress(message: str) -> None:
    print(f"bench: {message}…", file=sys.stderr, flush=True)


def _print_table(report: dict[str, object], *runs: Run) -> None:
    print(f"{'run':<22}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
    for run in runs:
        print(
            f"{run.target:<22}{run.connections:>6}{run.requests_per_s:>10.0f}"
            f"{run.p50_ms:>9.2f}{run.p99_ms:>9.2f}{run.non_2xx + run.socket_errors:>9}"
        )
    print(f"intake / bare = {report['ratio_intake_to_bare']}   atomicity: {report['atomicity']}")


if __name__ == "__main__":
    web.run_app(
        baseline_app(), host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None
    )
