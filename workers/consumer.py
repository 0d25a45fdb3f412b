"""The worker: reads comments off the stream in batches, scores them, decides, acknowledges.

Guarantees (DESIGN.md section 7):
- acknowledged only in the same atomic step that stores the decision
  (`DecisionStore.apply`), and that step is shielded from cancellation;
- decided once: the step is a compare-and-set from `pending`, so an entry
  delivered twice (a crash between decision and ack, a reclaim) is not
  decided again;
- entries a dead consumer left pending are reclaimed (XAUTOCLAIM) after
  `reclaim_idle_ms`; an entry that failed `max_deliveries` times goes to the
  dead-letter stream with its last error, and the rest of its batch goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import redis.asyncio as aioredis
import structlog
from redis.exceptions import ReadOnlyError, RedisError, ResponseError

from moderator.domain import Comment, Status, utc_now
from moderator.keys import TRAINERS_GROUP, Keys
from moderator.operations import fleet as ops
from moderator.records import DeadLetter, QueuedComment, stream_fields
from moderator.settings import Settings
from moderator.storage.decisions import DecisionStore
from workers import wordstore
from workers.checks import TextChecks, text_checks
from workers.policy import Checks, Policy, automatic_decision
from workers.shadow.live import LiveShadow
from workers.shadow.overrides import active_policy
from workers.shadow.trials import TrialRunner
from workers.sitemodel import SiteModel, Verdict
from workers.spam.scorer import SpamScorer, content_evidence
from workers.toxicity.reuse import ReusingScorer, scores_of
from workers.toxicity.routing import ToxicityRouter
from workers.toxicity.scorer import ModelInfo, ToxicityScorer
from workers.training import Trainer

log = structlog.get_logger()

FAILURE_TTL_S = 7 * 24 * 3600
MAX_BACKOFF_S = 5.0


@dataclass(frozen=True, slots=True)
class Entry:
    entry_id: str
    comment_id: str
    article_id: str
    deliveries: int = 1


class Worker:
    def __init__(
        self,
        redis: aioredis.Redis,
        settings: Settings,
        *,
        toxicity: ToxicityScorer | None,
        name: str,
        spam: SpamScorer | None = None,
        language_models: Mapping[str, ToxicityScorer | None] | None = None,
        audit_rng: random.Random | None = None,
    ) -> None:
        """`audit_rng` draws the site model's audit samples (a seeded one makes a
        replayed set's decisions the same from run to run: `moderator eval`)."""
        self.name = name
        self._redis = redis
        self._settings = settings
        self._keys = Keys(settings.key_prefix)
        # detoxify, and the model of each language of MODERATOR_LANGUAGE_MODELS.
        self._toxicity = ReusingScorer(
            ToxicityRouter.for_settings(settings, toxicity, language_models or {}),
            redis,
            self._keys,
            ttl_s=settings.spam_window_s,
        )
        self._spam = spam or SpamScorer(redis, self._keys, settings)
        self._decisions = DecisionStore(redis, self._keys, webhooks=bool(settings.webhook_url))
        self._lists = wordstore.WordLists(redis, self._keys)
        self._shadow = LiveShadow(redis, self._keys)
        self._site = (
            SiteModel(redis, self._keys, settings, rng=audit_rng)
            if settings.site_model != "off"
            else None
        )
        self._trainer = Trainer(
            redis, self._keys, settings, spam=self._spam, site=self._site, name=name
        )
        self._trials = TrialRunner(redis, self._keys, settings, name)
        self._stopping = asyncio.Event()

    async def setup(self) -> None:
        """Create the consumer group (an existing one is fine) and seed the word lists."""
        for stream, group in (
            (self._keys.comments_stream, self._keys.workers_group),
            (self._keys.spam_training, TRAINERS_GROUP),
        ):
            try:
                await self._redis.xgroup_create(stream, group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        await self._lists.seed()
        await self._trainer.seed()
        await self._trials.setup()

    def stop(self) -> None:
        """Finish the batch in hand, acknowledge it, then return from `run`."""
        self._stopping.set()

    async def stopping(self) -> None:
        """Return once `stop` was called."""
        await self._stopping.wait()

    async def run(self) -> None:
        """Process batches until `stop`; ride out Redis outages with jittered backoff."""
        backoff = 0.1
        ready = False
        while not self._stopping.is_set():
            try:
                if not ready:
                    await self.setup()
                    ready = True
                await ops.heartbeat(self._redis, self._keys, self.name)
                await self.step()
                backoff = 0.1
            except ResponseError as exc:
                if "NOGROUP" not in str(exc) and not isinstance(exc, ReadOnlyError):
                    raise
                # Redis lost the group (restarted without its data), or this primary
                # was demoted (without Sentinels to name the new one): set up again.
                ready = False
                if isinstance(exc, ReadOnlyError):
                    backoff = await self._wait(backoff, exc)
            except (RedisError, OSError) as exc:
                backoff = await self._wait(backoff, exc)
        with contextlib.suppress(RedisError, OSError):
            await self.remeasure()  # what it learned, measured before it goes
        with contextlib.suppress(RedisError, OSError):
            await ops.forget_worker(self._redis, self._keys, self.name)

    async def remeasure(self) -> list[str]:
        """Measure the site model's precision again, now, in the languages this worker
        recorded decisions in since it last did (`Trainer.remeasure`)."""
        return await self._trainer.remeasure(now=True)

    async def _wait(self, backoff: float, exc: Exception) -> float:
        """Redis is unreachable: wait about `backoff` seconds (less when stopped); the
        next wait is twice as long, up to MAX_BACKOFF_S."""
        log.warning("redis_unavailable", worker=self.name, error=repr(exc), retry_in_s=backoff)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(backoff * random.uniform(0.5, 1.5)):  # noqa: S311
                await self._stopping.wait()
        return min(backoff * 2, MAX_BACKOFF_S)

    async def step(self, *, block_ms: int | None = None) -> int:
        """One batch: reclaim what dead consumers left, read new entries, decide, ack.
        Returns how many entries it handled (tests drain the stream with it)."""
        await self._learn()
        batch = await self._reclaim()
        room = self._settings.worker_batch_size - len(batch)
        if room > 0:
            block = (self._settings.worker_block_ms if block_ms is None else block_ms) or None
            batch += await self._read(room, block=None if batch else block)
        if not batch:
            return 0
        await self._process(await self._with_deliveries(batch))
        return len(batch)

    async def drain(self) -> int:
        """Steps until the stream has nothing for this worker (burst mode, tests)."""
        total = 0
        while handled := await self.step(block_ms=0):
            total += handled
        return total

    async def _learn(self) -> None:
        """Learn moderators' verdicts before scoring the next batch (`workers.training`),
        and run a policy trial asked from the page (`workers.shadow.trials`)."""
        await self._trainer.step()
        await self._trials.step()

    async def _verdicts(self, texts: Sequence[TextChecks]) -> list[Verdict | None]:
        if self._site is None:
            return [None] * len(texts)
        return await self._site.verdicts(
            [t.features for t in texts], [t.language.code for t in texts]
        )

    async def _reclaim(self) -> list[Entry]:
        reply = await self._redis.xautoclaim(
            self._keys.comments_stream,
            self._keys.workers_group,
            self.name,
            min_idle_time=self._settings.reclaim_idle_ms,
            count=self._settings.worker_batch_size,
        )
        claimed = cast(list[tuple[str, dict[str, str] | None]], reply[1])
        return [_entry(entry_id, fields) for entry_id, fields in claimed if fields]

    async def _read(self, count: int, *, block: int | None) -> list[Entry]:
        response = await self._redis.xreadgroup(
            self._keys.workers_group,
            self.name,
            {self._keys.comments_stream: ">"},
            count=count,
            block=block,
        )
        streams = cast(list[tuple[str, list[tuple[str, dict[str, str]]]]], response or [])
        return [_entry(entry_id, fields) for _, entries in streams for entry_id, fields in entries]

    async def _with_deliveries(self, batch: list[Entry]) -> list[Entry]:
        pending = await self._redis.xpending_range(
            self._keys.comments_stream,
            self._keys.workers_group,
            min=min(e.entry_id for e in batch),
            max=max(e.entry_id for e in batch),
            count=len(batch) * 4,
            consumername=self.name,
        )
        counts = {p["message_id"]: int(p["times_delivered"]) for p in pending}
        return [
            Entry(e.entry_id, e.comment_id, e.article_id, counts.get(e.entry_id, 1)) for e in batch
        ]

    async def _process(self, batch: list[Entry]) -> None:
        live = []
        for entry in batch:
            if entry.deliveries > self._settings.max_deliveries:
                await self._dead_letter(entry, None)
            else:
                live.append(entry)
        comments = await self._load(live)
        todo: list[tuple[Entry, Comment]] = []
        for entry, comment in zip(live, comments, strict=True):
            if comment is None:
                await self._dead_letter(entry, "the comment is missing from Redis")
            elif comment.status != Status.PENDING:
                await self._redis.xack(
                    self._keys.comments_stream, self._keys.workers_group, entry.entry_id
                )
                log.info("comment_already_decided", comment_id=comment.id, status=comment.status)
            else:
                todo.append((entry, comment))
        if todo:
            await self._decide_all(todo)

    async def _load(self, batch: Sequence[Entry]) -> list[Comment | None]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry in batch:
                pipe.hgetall(self._keys.comment(entry.comment_id))
            rows = cast(list[dict[str, str]], await pipe.execute())
        return [Comment.from_fields(row) if row else None for row in rows]

    async def _decide_all(self, todo: list[tuple[Entry, Comment]]) -> None:
        started = time.perf_counter()
        comments = [comment for _, comment in todo]
        lists = await self._lists.current()
        # Settings, with promoted overrides (`moderator shadow --promote`) on top.
        policy = await active_policy(self._redis, self._keys, self._settings, lists)
        digest = policy.digest()
        shadow_policy = await self._shadow.policy(policy, digest)  # live shadow mode, or None
        budget_s = self._settings.check_budget_ms / 1000
        read = policy.covered_languages
        texts = [await text_checks(c, lists, budget_s=budget_s, read=read) for c in comments]
        verdicts = await self._verdicts(texts)
        spam = await self._spam.score_many(
            comments, [t.spam for t in texts], [content_evidence(v) for v in verdicts]
        )
        self._toxicity.use_thresholds(policy.thresholds)
        toxicity = await self._toxicity.score(
            [c.body for c in comments],
            [t.language.code for t in texts],
            skip=[policy.rejects_unscored(t.banned, s) for t, s in zip(texts, spam, strict=True)],
        )
        per_comment_ms = (time.perf_counter() - started) * 1000 / len(todo)
        outcomes: list[tuple[str, list[str]]] = []
        for (entry, comment), tox, spam_result, found, verdict in zip(
            todo, toxicity, spam, texts, verdicts, strict=True
        ):
            if isinstance(tox, BaseException):
                await self._record_failure(entry, tox)
                continue
            text = f"{comment.name}\n{comment.body}"
            path, scored = scores_of(tox)
            checks = Checks(
                language=found.language,
                toxicity=scored.scores if scored else None,
                toxicity_path=path,
                spam=spam_result,
                banned=found.banned,
                suspect=found.suspect,
                sensitive=found.sensitive,
                quoted=found.quoted,
                failed=found.failed,
                site=verdict,
            )
            model = scored.model if scored else None
            outcomes.append(
                await self._decide(entry, comment, policy, digest, checks, per_comment_ms, model)
            )
            if shadow_policy is not None:  # decides beside the policy, logs, never acts
                self._shadow.observe(policy, shadow_policy, comment.id, text, checks)
        await ops.record_batch(
            self._redis, self._keys, outcomes=outcomes, batch_s=time.perf_counter() - started
        )

    async def _decide(
        self,
        entry: Entry,
        comment: Comment,
        policy: Policy,
        digest: str,
        checks: Checks,
        duration_ms: float,
        model: ModelInfo | None,
    ) -> tuple[str, list[str]]:
        """Decide one comment; returns the decision and its reason codes (for metrics)."""
        decision = automatic_decision(policy, digest, checks, model)
        status, reasons = decision.decision, decision.reasons
        # Shielded: a SIGTERM or a cancelled batch never leaves a decision half-applied.
        applied = await asyncio.shield(
            self._decisions.apply(
                comment.id, comment.article_id, Status.PENDING, decision, entry_id=entry.entry_id
            )
        )
        if entry.deliveries > 1:  # only a failed earlier delivery leaves an error behind
            await self._redis.delete(self._keys.failure(entry.entry_id))
        log.info(
            "comment_decided",
            comment_id=comment.id,
            article_id=comment.article_id,
            email_hash=comment.email_hash,
            decision=status.value if applied.outcome == "ok" else applied.status,
            applied=applied.outcome,
            reasons=[r.code for r in reasons],
            language=checks.language.code,
            toxicity_max=max(checks.toxicity.values(), default=0.0) if checks.toxicity else None,
            spam=round(checks.spam.score, 3),
            deliveries=entry.deliveries,
            duration_ms=round(duration_ms, 2),
        )
        return status.value, [r.code for r in reasons]

    async def _record_failure(self, entry: Entry, error: BaseException) -> None:
        """Leave the entry pending (it is retried after `reclaim_idle_ms`) with its error."""
        text = f"{type(error).__name__}: {error}"[:1000]
        await self._redis.set(self._keys.failure(entry.entry_id), text, ex=FAILURE_TTL_S)
        log.warning(
            "comment_failed",
            comment_id=entry.comment_id,
            deliveries=entry.deliveries,
            max_deliveries=self._settings.max_deliveries,
            error=text,
        )

    async def _dead_letter(self, entry: Entry, error: str | None) -> None:
        keys = self._keys
        if error is None:
            recorded = await self._redis.get(keys.failure(entry.entry_id))
            error = str(recorded) if recorded else "unknown error"
        letter = DeadLetter(
            entry_id=entry.entry_id,
            comment_id=entry.comment_id,
            article_id=entry.article_id,
            deliveries=entry.deliveries,
            error=error,
            at=utc_now(),
            worker=self.name,
        )
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(keys.dead_letters, stream_fields(letter))
            pipe.xack(keys.comments_stream, keys.workers_group, entry.entry_id)
            pipe.delete(keys.failure(entry.entry_id))
            await pipe.execute()
        log.error(
            "comment_dead_lettered",
            comment_id=entry.comment_id,
            error=error,
            deliveries=entry.deliveries,
        )


def _entry(entry_id: str, fields: dict[str, str]) -> Entry:
    queued = QueuedComment.from_fields(fields)
    return Entry(entry_id, queued.comment_id, queued.article_id)
