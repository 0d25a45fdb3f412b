"""The `moderator` command: serve, dev, worker, models, shadow, stats, dead-letters, forget,
config, bench."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from moderator import entry
from moderator.errors import ModeratorError
from moderator.local.instance import HOLD_WITHOUT_MODEL, LocalInstance, Output
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
    # Command output goes to stdout; log lines of one-shot commands go to stderr
    # (serve and dev log to stdout, as services do).
    settings = entry.start("moderator", service="moderator-cli", stream=sys.stderr)
    if settings is None:
        return entry.CONFIG_ERROR
    try:
        result: int = args.run(args, settings)
        return result
    except ModeratorError as exc:
        return entry.fail("moderator", exc)
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

    _handed_over(
        commands,
        "eval",
        "workers.evaluate",
        "the decision path over a labelled set: per language and label, wrong decisions",
    )

    _handed_over(
        commands,
        "site-model",
        "workers.sitemodel_cli",
        "the model the site trains: status per language; replay labelled decisions",
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
        "checks",
        "workers.bench.checks",
        "what the worker's text checks (word lists, site model, spam) cost per comment",
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
    entry.configure_logging(settings, service="moderator-api")
    asyncio.run(serve(settings))
    return 0


def _dev(args: argparse.Namespace, settings: Settings) -> int:
    settings = _with_address(settings, args)
    entry.configure_logging(settings, service="moderator-dev")
    # A private Redis unless MODERATOR_REDIS_URL is set; the worker holds every comment
    # with check_failed.toxicity where no model can be had, instead of refusing to start.
    local = LocalInstance(redis_url=settings.redis_url, defaults=HOLD_WITHOUT_MODEL)
    private = local.private is not None
    settings = dataclasses.replace(settings, redis_url=local.redis_url)
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

    exited: list[int] = []

    async def started(url: str) -> None:
        await announce(url)
        watching.add(asyncio.create_task(_watch_worker(local.processes["worker"], exited)))

    watching: set[asyncio.Task[None]] = set()
    try:
        local.start()
        local.spawn("worker", ["-m", "workers"], output=Output.TERMINAL)
        asyncio.run(serve(settings, on_started=started))
    finally:
        local.stop(grace_s=settings.shutdown_timeout_s + 5)
    return 1 if exited else 0


async def _watch_worker(worker: subprocess.Popen[bytes], exited: list[int]) -> None:
    """Stop `moderator dev` when its worker exits: comments would otherwise wait, pending,
    behind a service that still answers 202 and reports itself healthy."""
    while (code := worker.poll()) is None:  # noqa: ASYNC110 - a Popen, not an asyncio process
        await asyncio.sleep(0.5)
    exited.append(code)
    print(
        f"moderator dev: the worker exited (code {code}): stopping, since no comment "
        "would be decided. Its output is above.",
        file=sys.stderr,
        flush=True,
    )
    os.kill(os.getpid(), signal.SIGTERM)


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


def _config(args: argparse.Namespace, settings: Settings) -> int:
    print(json.dumps(settings.public_view(), indent=2, ensure_ascii=False))
    return 0


def _handed_over(commands: Any, name: str, module: str, help_text: str) -> None:
    """A command that hands its arguments, as given, to `python -m MODULE`."""
    command = commands.add_parser(name, help=help_text, add_help=False)
    command.add_argument("passthrough", nargs=argparse.REMAINDER)
    command.set_defaults(run=lambda args, settings: _hand_over(module, args.passthrough))


# The commands that load the model, and the packages `pip install 'moderator[worker]'` adds
# for them (torch comes first, from the CPU index: scripts/setup.sh, deploy/Dockerfile).
_MODEL_COMMANDS = {
    "workers": "worker",
    "workers.toxicity.cli": "models",
    "workers.bench.scoring": "bench scoring",
}
_WORKER_EXTRA = ("torch", "detoxify", "onnxruntime", "onnx")


def _hand_over(module: str, argv: list[str]) -> NoReturn:
    """Replace this process with `python -m MODULE ARGV…`: commands that load the model
    run on the workers' side, and the service package never imports it. Without the
    workers' extra installed they stop here with a message instead of a traceback."""
    if module in _MODEL_COMMANDS:
        _require_worker_extra(_MODEL_COMMANDS[module])
    os.execv(sys.executable, [sys.executable, "-m", module, *argv])  # noqa: S606


def _require_worker_extra(command: str) -> None:
    missing = [name for name in _WORKER_EXTRA if importlib.util.find_spec(name) is None]
    if missing:
        raise ModeratorError(
            f"`moderator {command}` needs the workers' model stack, not installed here "
            f"(missing: {', '.join(missing)}): pip install 'moderator[worker]'"
        )


def _bench_intake(args: argparse.Namespace, settings: Settings) -> int:
    from moderator.bench.intake import run_intake_bench

    return run_intake_bench(
        duration_s=args.duration,
        connections=args.connections,
        json_path=args.json,
        appendfsync=args.appendfsync,
    )
