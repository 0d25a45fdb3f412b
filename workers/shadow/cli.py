"""`moderator shadow` (`python -m workers.shadow`): the command line of the shadow policy.

Try a candidate policy (`workers.shadow.candidate`) on past decisions
(`workers.shadow.evaluation`), run it live beside the active one (`workers.shadow.live`),
promote it (audited) or clear promoted overrides (`workers.shadow.overrides`).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import json
import sys
from collections.abc import Sequence

from redis.exceptions import RedisError

from moderator import entry
from moderator.keys import Keys
from moderator.settings import DEFAULT_THRESHOLDS, Settings
from moderator.storage.connection import connect
from workers.shadow.candidate import RULES, Candidate
from workers.shadow.evaluation import LanguageCounts, ShadowReport, evaluate
from workers.shadow.live import set_live
from workers.shadow.overrides import active_policy, changes, clear_overrides, promote


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    settings = entry.start("moderator shadow", service="moderator-shadow", stream=sys.stderr)
    if settings is None:
        return entry.CONFIG_ERROR
    try:
        candidate = _candidate(args)
    except ValueError as exc:
        parser.error(str(exc))
    if candidate.empty and not (args.live_off or args.clear_overrides):
        parser.error("give at least one change: --threshold, --spam-hold, --ban, …")
    try:
        return asyncio.run(_run(args, settings, candidate))
    except ValueError as exc:  # the candidate does not fit the policy in force
        print(f"moderator shadow: {exc}", file=sys.stderr)
        return 2
    except (RedisError, OSError) as exc:
        print(f"moderator shadow: Redis is unreachable: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="moderator shadow",
        description="Try a candidate policy on the last decided comments, without acting.",
    )
    add = parser.add_argument
    add("--threshold", action="append", default=[], metavar="LABEL=VALUE",
        help=f"a detoxify threshold ({', '.join(DEFAULT_THRESHOLDS)}); repeatable")  # fmt: skip
    add("--spam-hold", type=float, metavar="SCORE", help="spam score that holds")
    add("--spam-reject", type=float, metavar="SCORE", help="spam score that rejects")
    add("--language-not-covered", choices=RULES, help="languages the model does not read")
    for kind, verb in (("ban", "banned"), ("suspect", "suspect")):
        add(f"--{kind}", action="append", default=[], metavar="WORD", help=f"add to {verb}")
        add(f"--un{kind}", action="append", default=[], metavar="WORD", help=f"remove from {verb}")
    add("--last", type=int, default=1000, metavar="N", help="decisions to replay (default 1000)")
    add("--json", action="store_true", help="the report as JSON")
    add("--by", metavar="NAME", help="who promotes, for the audit (default cli:<user name>)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--live", action="store_true", help="also run the candidate on new comments")
    mode.add_argument("--live-off", action="store_true", help="stop live shadow mode")
    mode.add_argument("--promote", action="store_true", help="make the candidate the policy")
    mode.add_argument(
        "--clear-overrides", action="store_true", help="back to the settings' thresholds"
    )
    return parser


def _candidate(args: argparse.Namespace) -> Candidate:
    thresholds: dict[str, object] = {}
    for item in args.threshold:
        label, sep, value = item.partition("=")
        try:
            thresholds[label.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--threshold: expected LABEL=VALUE, got {item!r}") from None
        if not sep:
            raise ValueError(f"--threshold: expected LABEL=VALUE, got {item!r}")
    if args.last < 1:
        raise ValueError("--last: must be at least 1")
    return Candidate.from_dict(
        {
            "thresholds": thresholds,
            "spam_hold": args.spam_hold,
            "spam_reject": args.spam_reject,
            "language_not_covered": args.language_not_covered,
            "banned_add": args.ban,
            "banned_remove": args.unban,
            "suspect_add": args.suspect,
            "suspect_remove": args.unsuspect,
        }
    )


async def _run(args: argparse.Namespace, settings: Settings, candidate: Candidate) -> int:
    redis = connect(settings, timeout_s=10)
    keys = Keys(settings.key_prefix)
    try:
        if args.live_off:
            await set_live(redis, keys, None)
            print("live shadow mode off")
        elif args.clear_overrides:
            cleared = await clear_overrides(redis, keys, by=_by(args))
            print("overrides cleared" if cleared else "no overrides were promoted")
        elif args.promote:
            active = await active_policy(redis, keys, settings)
            candidate.apply(active)  # refuses a candidate that does not fit
            await promote(redis, keys, candidate, by=_by(args))
            print("\n".join(["promoted:", *(changes(active, candidate) or ["nothing changed"])]))
        elif args.live:
            candidate.apply(await active_policy(redis, keys, settings))
            await set_live(redis, keys, candidate)
            print(f"live shadow mode on: {candidate.to_json()}")
        else:
            report = await evaluate(redis, keys, settings, candidate, last=args.last)
            print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if args.json
                  else render(report))  # fmt: skip
    finally:
        await redis.aclose()
    return 0


def _by(args: argparse.Namespace) -> str:
    return str(args.by or f"cli:{getpass.getuser()}")


def render(report: ShadowReport) -> str:
    """The report as a table by language, then the examples."""
    lines = [
        f"candidate        {report.candidate.to_json()}",
        f"policy           {report.active_policy[:12]} (active) -> "
        f"{report.candidate_policy[:12]} (candidate)",
        f"replayed         {report.evaluated} automatic decisions ({report.skipped} skipped)",
        f"would change     {report.changed}",
        *(f"  {name:<22} {n}" for name, n in report.transitions.most_common()),
        "",
        f"{'language':<9}{'comments':>9}{'held now':>10}{'held cand.':>12}"
        f"{'rejected now':>14}{'rejected cand.':>16}{'changes':>9}",
    ]
    rows = [*sorted(report.languages.items()), ("total", _total(report))]
    for code, c in rows:
        lines.append(
            f"{code:<9}{c.evaluated:>9}{c.held_now:>10}{c.held_candidate:>12}"
            f"{c.rejected_now:>14}{c.rejected_candidate:>16}{c.changed:>9}"
        )
    for name, examples in sorted(report.examples.items()):
        lines += ["", f"{name}:"]
        for e in examples:
            before = ",".join(r.code for r in e.before[1]) or "-"
            after = ",".join(r.code for r in e.after[1]) or "-"
            lines.append(f"  {e.comment_id} [{e.language}] {before} -> {after}")
            lines.append(f"    {e.text}")
    return "\n".join(lines)


def _total(report: ShadowReport) -> LanguageCounts:
    total = LanguageCounts()
    for counts in report.languages.values():
        for name, value in dataclasses.asdict(counts).items():
            setattr(total, name, getattr(total, name) + value)
    return total


if __name__ == "__main__":  # `python -m workers.shadow.cli`
    raise SystemExit(main())
