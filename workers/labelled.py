"""Labelled comments (`tests/data/comments/`, a site's own export) and replaying them as a
moderator would decide them: what `moderator eval` and `moderator site-model replay` share.

A labelled set is JSON Lines: `body` and `label` (`ham`, `spam` or `toxic`)
required; `name`, `email`, `lang` (the group a report is broken down by) and
`tags` optional. A row without an e-mail is a reader of its own (an address made
from its body): an export without e-mails is not one reader posting hundreds of
comments in minutes, which the spam counters would flag (`burst_email`), and the
site model never publishes a comment beside a spam signal.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import redis.asyncio as aioredis

from moderator.domain import Comment, Status, new_comment_id, utc_now
from moderator.errors import ModeratorError
from moderator.keys import Keys
from moderator.settings import Limits, Settings
from moderator.storage.comments import Outcome, Store
from moderator.storage.review import Review
from moderator.web.validation import validate
from workers.consumer import Worker
from workers.toxicity.language_models import load_language_models
from workers.toxicity.loading import load_scorer
from workers.toxicity.scorer import ModelInfo, ToxicityScorer

LABELS: Final = ("ham", "spam", "toxic")
AUDIT_SEED: Final = 2026  # the site model's audit samples, drawn alike from run to run
CHUNK: Final = 64


class NoToxicity:
    """A toxicity model that finds nothing: what decides is then this project's own."""

    info = ModelInfo(name="none", checkpoint_sha256="")
    labels: tuple[str, ...] = ()

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return [{} for _ in texts]


def toxicity_for(settings: Settings) -> ToxicityScorer:
    """detoxify from `MODERATOR_MODEL_DIR` when it is set, run as the workers run it
    (precision, runtime, thresholds), else `NoToxicity`."""
    if settings.model_dir:
        return load_scorer(
            settings.toxicity_model,
            settings.model_dir,
            precision=settings.toxicity_precision,
            runtime=settings.toxicity_runtime,
            thresholds=settings.thresholds,
        )
    return NoToxicity()


def worker_for(redis: aioredis.Redis, settings: Settings, name: str) -> Worker:
    """A worker that decides as the workers do: detoxify (`toxicity_for`) and the
    languages' own models of `MODERATOR_LANGUAGE_MODELS`; its audit samples drawn from a
    seeded generator, so that a labelled set gets the same decisions from run to run."""
    language_models = load_language_models(
        settings.language_models, fallback=settings.toxicity_fallback
    )
    return Worker(
        redis,
        settings,
        toxicity=toxicity_for(settings),
        language_models=language_models,
        name=name,
        audit_rng=random.Random(AUDIT_SEED),  # noqa: S311 (sampling, not security)
    )


class LabelledSetError(ModeratorError):
    """A labelled set that cannot be read: the message names the line."""


@dataclass(frozen=True, slots=True)
class Labelled:
    body: str
    label: str
    lang: str = "und"
    name: str = "Reader"
    email: str = ""  # none given: a reader of its own (see the module's docstring)
    tags: tuple[str, ...] = field(default=())

    def comment(self, article_id: str) -> Comment:
        email = self.email or unknown_reader(self.body)
        email_hash = hashlib.sha256(email.encode()).hexdigest()[:32]
        return Comment(
            id=new_comment_id(),
            article_id=article_id,
            name=self.name,
            email=email,
            email_hash=email_hash,
            body=self.body,
            created_at=utc_now(),
        )


def unknown_reader(body: str) -> str:
    """The e-mail of a labelled comment that gives none: one per body, the same every run."""
    return f"reader-{hashlib.sha256(body.encode()).hexdigest()[:16]}@example.invalid"


def load(path: Path) -> list[Labelled]:
    """The rows of a labelled set, each body and name as intake would store them (a
    row intake would refuse is an error naming its line), each `lang` in the case
    BCP 47 writes it (`language_tag`)."""
    rows = []
    text = path.read_text(encoding="utf-8-sig")  # a byte-order mark some editors write
    # Lines end at "\n" alone (a "\r" before it is JSON's whitespace): `splitlines` would
    # also cut at U+2028 or NEL, which JSON writers leave unescaped inside a string.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            label = raw["label"]
            if label not in LABELS or not isinstance(raw["body"], str):
                raise ValueError(f"label must be one of {LABELS} and body a string")
            body, name = _as_intake_stores(raw["body"], raw.get("name") or "Reader")
            tags = raw.get("tags") or ()
            rows.append(
                Labelled(
                    body=body,
                    label=label,
                    lang=language_tag(str(raw.get("lang") or "und")),
                    name=name,
                    email=str(raw.get("email") or ""),
                    tags=(tags,) if isinstance(tags, str) else tuple(map(str, tags)),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise LabelledSetError(f"{path}:{number}: {exc}") from exc
    return rows


def _as_intake_stores(body: object, name: object) -> tuple[str, str]:
    """`body` and `name` as intake stores them (Unicode-normalised, control characters
    out, runs of spaces folded): the worker then reads what it reads in production.
    The e-mail is not checked: it only tells readers apart here."""
    checked = validate(
        {"article_id": "eval", "name": name, "email": "reader@example.com", "body": body},
        Limits(),
    )
    if isinstance(checked, list):
        raise ValueError(
            "intake would refuse it: " + ", ".join(f"{e.field}: {e.code}" for e in checked)
        )
    return checked.body, checked.name


def language_tag(tag: str) -> str:
    """A language tag in the case BCP 47 writes it, so that a set's "ARY-arab" or
    "ary_Latn" is the "ary-Arab" or "ary-Latn" the report groups by: the language in
    lower case, a script capitalised, a region in upper case."""
    parts = tag.strip().replace("_", "-").split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) == 2 and part.isalpha():
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


class Replayer:
    """Submits labelled comments through the store and the workers, and plays the
    moderator who agrees with their labels."""

    def __init__(self, redis: aioredis.Redis, settings: Settings, worker: Worker) -> None:
        self._redis = redis
        self._keys = Keys(settings.key_prefix)
        # Not readers' submissions: intake's per-address, e-mail and article limits would
        # turn most of a set away (every comment goes to one article).
        unlimited = dataclasses.replace(
            settings, rate_limit_ip=0, rate_limit_email=0, rate_limit_article=0
        )
        self._store = Store(redis, unlimited)
        self._review = Review(redis, self._keys, webhooks=False)
        self._worker = worker

    async def close(self) -> None:
        await self._store.close()

    async def submit(self, rows: Sequence[Labelled]) -> list[str]:
        """Store and queue the comments as intake would, and let the worker decide them."""
        ids = []
        for row in rows:
            comment = row.comment(article_id="eval")
            result = await self._store.submit(comment, None)
            if result.outcome != Outcome.CREATED:
                raise LabelledSetError(f"intake refused a labelled comment: {result.outcome}")
            ids.append(comment.id)
        await self._worker.drain()
        return ids

    async def decisions(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The current decision record of each comment."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for comment_id in ids:
                pipe.hget(self._keys.comment(comment_id), "decision")
            raw = await pipe.execute()
        return [json.loads(value) if value else {} for value in raw]

    async def replay(self, rows: Sequence[Labelled]) -> int:
        """Each comment decided by the workers, then by a moderator who agrees with its
        label: approved as ham, rejected (or taken down) as spam or as abusive, or left
        as the workers decided when they agree. The models learn every label (a
        labelled set is a record of moderators' verdicts), and the site model's
        precision is measured on them. Returns how many verdicts were replayed."""
        decided = 0
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            ids = await self.submit(chunk)
            for comment_id, row in zip(ids, chunk, strict=True):
                decided += await self._moderate(comment_id, row.label)
            await self._worker.drain()  # learns the verdicts before the next chunk
        await self._worker.remeasure()  # the last decisions count, as a worker's next step
        return decided

    async def _moderate(self, comment_id: str, label: str) -> int:
        """The moderator's verdict on one comment: the action when the workers decided
        otherwise, and in every case the label, which the models learn."""
        raw = await self._redis.hget(self._keys.comment(comment_id), "status")
        status = Status(str(raw)) if raw else None
        action = None
        if status == Status.HELD:
            action = "approve" if label == "ham" else "reject"
        elif status == Status.PUBLISHED and label != "ham":
            action = "takedown"
        elif status == Status.REJECTED and label == "ham":
            action = "approve"
        if action is not None:
            applied, _ = await self._review.decide(comment_id, action, status, "replay", None)
            if applied.outcome != "ok":
                return 0
        await self._review.train(comment_id, label)
        return 1
