"""`moderator site-model status|replay`: the model the site trains from its moderators.

- `status`: the comments it learned per label and, per language, the moderators'
  decisions on comments it scored (the last 500), its measured precision on
  those it would publish, and whether it publishes there.
- `replay --set FILE`: replay a labelled set (JSON lines of `body`, `label`,
  optional `name`, `email`, `lang`) into the configured Redis as moderators'
  decisions: each comment goes through the workers' decision path, then gets
  the verdict of its label, which the models learn and which measures the
  site model's precision. The replayed comments stay as stored comments,
  decided by the moderator "replay", on the article "eval". The workers score
  them with detoxify from `MODERATOR_MODEL_DIR` when it is set, else with a
  toxicity model that finds nothing. Comments are replayed in file order and
  the site model's precision is measured on each before it learns it, so the
  file should be in the order the decisions were taken (a site's export is),
  not grouped by label.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from moderator import entry
from moderator.keys import Keys
from moderator.settings import Settings
from moderator.storage.connection import connect
from workers.labelled import LabelledSetError, Replayer, load, worker_for
from workers.policy import Policy
from workers.sitemodel import SiteModel
from workers.wordlists import WordList

PROG = "moderator site-model"
LANGUAGES = ("ar", "ary", "mixed", "fr", "en", "und")


async def status(settings: Settings) -> dict[str, Any]:
    redis = connect(settings, timeout_s=30)
    try:
        site = SiteModel(redis, Keys(settings.key_prefix), settings)
        learned = await site.counts.summary()
        taught = await site.counts.languages()
        statuses = await site.statuses(LANGUAGES)
    finally:
        await redis.aclose()
    # Where a toxicity model reads the language, it decides publication; the site model
    # only holds what it finds toxic there, whatever its precision.
    read = Policy.from_settings(settings, WordList(()), WordList(())).covered_languages
    decides = {
        s.language: settings.language_not_covered == "hold" and s.language not in read
        for s in statuses
    }
    return {
        "mode": settings.site_model,
        "examples": learned,
        "languages": [
            {
                **s.to_dict(),
                "examples": taught.get(s.language, 0),
                "decides_publication": decides[s.language],
                "publishes": settings.site_model == "publish" and s.proven and decides[s.language],
            }
            for s in statuses
        ],
        "needs": {
            "examples": settings.site_model_min_examples,
            "decisions": settings.site_model_min_decisions,
            "would_publish": settings.site_model_min_would_publish,
            "precision": settings.site_model_precision,
            "clean_evidence": settings.site_model_clean_evidence,
        },
    }


async def replay(settings: Settings, path: Path) -> int:
    rows = load(path)
    redis = connect(settings, timeout_s=30)
    worker = worker_for(redis, settings, "site-model-replay")
    replayer = Replayer(redis, settings, worker)
    try:
        await worker.setup()
        return await replayer.replay(rows)
    finally:
        await replayer.close()
        await redis.aclose()


def _table(report: dict[str, Any]) -> str:
    examples = ", ".join(f"{label} {n}" for label, n in report["examples"].items())
    lines = [f"site model ({report['mode']}): learned {examples}", ""]
    lines.append(
        "language  examples  decisions  rescored  would publish  approved  precision  publishes"
    )
    for row in report["languages"]:
        precision = "-" if row["precision"] is None else f"{row['precision']:.3f}"
        publishes = (
            f"below {row['publish_below']} ({row['proven_approved']}/{row['proven_would_publish']})"
            if row["publishes"]
            else "no"
            if row["decides_publication"]
            else "no: a toxicity model reads it"
        )
        lines.append(
            f"{row['language']:<9} {row['examples']:>8}  {row['decisions']:>9}  "
            f"{row['rescored']:>8}  {row['would_publish']:>13}  {row['approved']:>8}  "
            f"{precision:>9}  {publishes}"
        )
    needs = report["needs"]
    lines.append(
        f"\nIt speaks of a language once taught {needs['examples']} comments in it."
        f"\nIt publishes in a language once moderators have decided {needs['decisions']} "
        f"comments it scored there, {needs['would_publish']} of them comments it would "
        f"publish at some confidence (evidence at or below {needs['clean_evidence']}, "
        f"or surer), and approved {needs['precision']:.0%} of those: it then publishes "
        "what it is that sure of."
        "\nEach decision on a comment that taught it is scored again (rescored) as today's"
        " model scores a comment it never learned: its precision is today's, not that of"
        " the younger models that decided."
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("status", help="what it learned, its precision per language")
    show.add_argument("--json", action="store_true", help="print JSON")
    again = commands.add_parser("replay", help="replay a labelled set as moderators' decisions")
    again.add_argument("--set", required=True, type=Path, help="labelled JSON-lines file")
    args = parser.parse_args(argv)
    settings = entry.start(PROG, service="moderator-site-model", stream=sys.stderr)
    if settings is None:
        return entry.CONFIG_ERROR
    if args.command == "status":
        report = asyncio.run(status(settings))
        print(json.dumps(report, indent=1) if args.json else _table(report))
        return 0
    try:
        replayed = asyncio.run(replay(settings, args.set))
    except (OSError, LabelledSetError) as exc:
        return entry.fail(PROG, exc, entry.CONFIG_ERROR)
    print(f"replayed {replayed} decisions; now:\n")
    print(_table(asyncio.run(status(settings))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
