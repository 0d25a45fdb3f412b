"""The `moderator` command: serve, dev, worker, models, shadow, stats, dead-letters, forget,
config, bench."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from moderator import logs
from moderator.errors import ModeratorError, SettingsError
from moderator.local.redis_server import PrivateRedis
from moderator.operations import commands as admin
from moderator.settings import Settings
from moderator.web.serve import serve


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    # `worker` and `models` hand their arguments over to the workers package as given.
    args, extra = parser.parse_known_args(argv)
    if extra and not hasattr(args, "passthrough"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if hasattr(args, "passthrough"):
        args.passthrough = [*extra, *args.passthrough]
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"moderator: configuration error: {exc}", file=sys.stderr)
        return 2
    # Command output goes to stdout; log lines of one-shot commands go to stderr
    # (serve and dev log to stdout, as services do).
    logs.configure(
        service="moderator-cli",
        fmt=settings.log_format,
        level=settings.log_level,
        stream=sys.stderr,
    )
    try:
        result: int = args.run(args, settings)
        return result
    except ModeratorError as exc:
        print(f"moderator: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moderator", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve_cmd = commands.add_parser("serve", help="run the HTTP service")
    _host_port(serve_cmd)
    serve_cmd.set_defaults(run=_serve)

    dev = commands.add_parser("dev", help="everything on one machine, with a private Redis")
    _host_port(dev)
    dev.set_defaults(run=_dev)

    _handed_over(
        commands,
        "worker",
        "workers",
        "one scoring worker process (--concurrency, --batch-size, --burst, --check)",
    )

    _handed_over(
        commands,
        "models",
        "workers.toxicity.cli",
        "model directory for offline servers: download, import, check",
    )

    _handed_over(
        commands,
        "shadow",
        "workers.shadow.cli",
        "try a candidate policy on past decisions or live; promote it (audited)",
    )

    stats = commands.add_parser("stats", help="queue depths, lag, held, workers, decisions")
    stats.add_argument("--json", action="store_true", help="JSON instead of a table")
    stats.add_argument("--window", type=int, default=3600, help="seconds of decisions (3600)")
    stats.set_defaults(run=_stats)

    dead = commands.add_parser("dead-letters", help="what the workers gave up on")
    dead_commands = dead.add_subparsers(required=True, metavar="ACTION")
    dead_list = dead_commands.add_parser("list", help="list dead letters with their errors")
    dead_list.add_argument("--json", action="store_true")
    dead_list.set_defaults(run=_dead_list)
    dead_retry = dead_commands.add_parser("retry", help="queue dead letters again")
    dead_retry.add_argument("ids", nargs="*", metavar="ID", help="dead-letter ids")
    dead_retry.add_argument("--all", action="store_true", help="every dead letter")
    dead_retry.set_defaults(run=_dead_retry)

    forget = commands.add_parser(
        "forget", help="take down and anonymise every comment of an e-mail address"
    )
    forget.add_argument(
        "email",
        help="the address, or - to read it from standard input "
        "(keeps it out of the shell's history)",
    )
    forget.set_defaults(run=_forget)

    config = commands.add_parser("config", help="print the effective configuration")
    config.set_defaults(run=_config)

    bench = commands.add_parser("bench", help="measure a local instance")
    bench_commands = bench.add_subparsers(required=True, metavar="BENCH")
    intake = bench_commands.add_parser(
        "intake", help="intake requests/s against a bare aiohttp handler, same machine"
    )
    intake.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    intake.add_argument("--connections", type=int, default=64)
    intake.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    intake.add_argument(
        "--appendfsync",
        choices=("everysec", "always", "no"),
        default="everysec",
        help="the private Redis's AOF fsync policy (default everysec)",
    )
    intake.set_defaults(run=_bench_intake)
    _handed_over(
        bench_commands,
        "load",
        "moderator.bench.load",
        "intake, worker throughput and submit-to-decision latency of an instance",
    )
    _handed_over(
        bench_commands,
        "scoring",
        "workers.bench.scoring",
        "the worker's scoring path against detoxify's predict() one at a time",
    )
    return parser


def _host_port(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="overrides MODERATOR_HOST")
    parser.add_argument("--port", type=int, help="overrides MODERATOR_PORT")


def _with_address(settings: Settings, args: argparse.Namespace) -> Settings:
    return dataclasses.replace(
        settings,
        host=args.host or settings.host,
        port=settings.port if args.port is None else args.port,
    )


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    settings = _with_address(settings, args)
    logs.configure(service="moderator-api", fmt=settings.log_format, level=settings.log_level)
    asyncio.run(serve(settings))
    return 0


def _dev(args: argparse.Namespace, settings: Settings) -> int:
    settings = _with_address(settings, args)
    logs.configure(service="moderator-dev", fmt=settings.log_format, level=settings.log_level)
    private = PrivateRedis() if settings.redis_url is None else None
    if private is not None:
        private.start()
        settings = dataclasses.replace(settings, redis_url=private.url)
    if not settings.moderator_tokens:
        token = secrets.token_urlsafe(24)
        settings = dataclasses.replace(settings, moderator_tokens=(("dev", token),))

    async def announce(url: str) -> None:
        lines = [
            "",
            "Moderator is running (development mode).",
            f"  submit a comment   POST {url}/v1/comments",
            f"  comment status     GET  {url}/v1/comments/{{id}}",
            f"  article feed       GET  {url}/v1/articles/{{article_id}}/comments",
            f"  health, readiness  GET  {url}/healthz  {url}/readyz",
            f"  API description    GET  {url}/v1/openapi.json",
            f"  Redis              {settings.effective_redis_url}"
            + ("  (private, deleted on exit)" if private else ""),
            f"  moderator token    {settings.moderator_tokens[0][1]}"
            f"  (name: {settings.moderator_tokens[0][0]})",
            "Press Ctrl-C to stop.",
            "",
        ]
        print("\n".join(lines), file=sys.stderr, flush=True)

    worker = _start_worker(settings.effective_redis_url)
    try:
        asyncio.run(serve(settings, on_started=announce))
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=settings.shutdown_timeout_s + 5)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        if private is not None:
            private.close()
    return 0


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(admin.stats(settings, as_json=args.json, window_s=args.window))


def _dead_list(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(admin.dead_letters_list(settings, as_json=args.json))


def _dead_retry(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(admin.dead_letters_retry(settings, args.ids, retry_all=args.all))


def _forget(args: argparse.Namespace, settings: Settings) -> int:
    email = sys.stdin.readline().strip() if args.email == "-" else args.email
    if not email:
        print("moderator forget: no address given", file=sys.stderr)
        return 2
    return asyncio.run(admin.forget(settings, email))


def _start_worker(redis_url: str) -> subprocess.Popen[bytes]:
    """`moderator dev`'s worker: where no model can be had it holds every comment with
    check_failed.toxicity instead of refusing to start."""
    env = {**os.environ, "MODERATOR_REDIS_URL": redis_url}
    env.setdefault("MODERATOR_TOXICITY_FALLBACK", "hold")
    return subprocess.Popen([sys.executable, "-m", "workers"], env=env)


def _config(args: argparse.Namespace, settings: Settings) -> int:
    print(json.dumps(settings.public_view(), indent=2, ensure_ascii=False))
    return 0


def _handed_over(commands: Any, name: str, module: str, help_text: str) -> None:
    """A command that hands its arguments, as given, to `python -m MODULE`."""
    command = commands.add_parser(name, help=help_text, add_help=False)
    command.add_argument("passthrough", nargs=argparse.REMAINDER)
    command.set_defaults(run=lambda args, settings: _hand_over(module, args.passthrough))


def _hand_over(module: str, argv: list[str]) -> NoReturn:
    """Replace this process with `python -m MODULE ARGV…`: commands that load the model
    run on the workers' side, and the service package never imports it."""
    os.execv(sys.executable, [sys.executable, "-m", module, *argv])  # noqa: S606


def _bench_intake(args: argparse.Namespace, settings: Settings) -> int:
    from moderator.bench.intake import run_intake_bench

    return run_intake_bench(
        duration_s=args.duration,
        connections=args.connections,
        json_path=args.json,
        appendfsync=args.appendfsync,
    )
