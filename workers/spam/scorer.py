"""The spam check: a comment's text signals, Redis counters and the Bayesian model, combined.

Signals come from the text and the form (`workers.spam.signals`), from counters in
Redis (the same body posted again, bursts from one e-mail or IP) and from a
Bayesian model that moderators' decisions train (`workers.spam.bayes`); the score
is their noisy-OR (`combine`).

Choices:
- Repeated bodies count only from `MIN_REPEAT_CHARS` normalised characters: short
  condolences and "bravo" are repeated by honest readers. They are compared as a
  reader sees them (`workers.folding.readable`): a wave that changes one letter for
  its Cyrillic look-alike, or adds invisible characters, is one body. (The Bayesian
  model's tokens are not read so: their counts in Redis would no longer match.)
- Counters are sorted sets of comment ids scored by `created_at` and counted over
  (created_at - window, created_at]: scoring a comment again (a redelivery) neither
  counts it twice nor changes its result. Redis errors propagate unchanged.
- Bursts from one IP count IPv6 addresses by /64; the IP is keyed-hashed in key names.
- The Bayesian model only adds to the score ("bayes:0.97"); it never lowers it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from moderator.domain import Comment
from moderator.keys import Keys
from moderator.logs import ip_digest
from moderator.settings import Settings
from workers.folding import readable
from workers.sitemodel import Verdict
from workers.spam import bayes
from workers.spam.signals import (
    Evidence,
    SpamResult,
    combine,
    epoch,
    fire,
    normalise,
    text_evidence,
)

MIN_REPEAT_CHARS: Final = 30


@dataclass(frozen=True, slots=True)
class TextSignals:
    """What the spam check reads from a comment's own text: pure CPU work, which the
    worker runs off the event loop under its check budget (`workers.checks`)."""

    evidence: tuple[Evidence, ...]
    tokens: tuple[str, ...]
    body: str  # normalised, for the repeated-body counter


def text_signals(comment: Comment) -> TextSignals:
    return TextSignals(
        evidence=tuple(text_evidence(comment)),
        tokens=tuple(bayes.tokens(comment.body)),
        body=normalise(readable(comment.body)),
    )


# What a comment whose text check timed out still gets: the counters, no text evidence.
NO_TEXT_SIGNALS: Final = TextSignals(evidence=(), tokens=(), body="")


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one comment needs from Redis, and the evidence it already has."""

    comment: Comment
    at: float  # created_at, seconds since 1970
    evidence: list[Evidence]
    counters: list[tuple[str, str, int]]  # (kind, key, window in seconds)
    tokens: list[str]


def _bayes_evidence(plan: _Plan, replies: Iterator[Any], totals: tuple[int, ...]) -> list[Evidence]:
    """Read the token counts queued for `plan`; fire when a trained model says spam."""
    if not plan.tokens:
        return []
    spam_counts, ham_counts = next(replies), next(replies)
    counts = [(int(s or 0), int(h or 0)) for s, h in zip(spam_counts, ham_counts, strict=True)]
    spam_total, ham_total = totals
    return bayes.evidence(counts, spam_total, ham_total)


class SpamScorer:
    def __init__(self, redis: aioredis.Redis, keys: Keys, settings: Settings) -> None:
        self._redis = redis
        self._keys = keys
        self._settings = settings
        self._ip_key = (settings.hash_key or "").encode()

    async def score(self, comment: Comment) -> SpamResult:
        return (await self.score_many([comment]))[0]

    async def score_many(
        self,
        comments: Sequence[Comment],
        signals: Sequence[TextSignals] | None = None,
        extra: Sequence[Sequence[Evidence]] | None = None,
    ) -> list[SpamResult]:
        """Score a batch in one Redis round trip, recording each comment in the counters.
        `signals`: each comment's `text_signals`, when the caller has them already;
        `extra`: more evidence per comment (what the site model reads in the text)."""
        if not comments:
            return []
        if signals is None:
            signals = [text_signals(comment) for comment in comments]
        if extra is None:
            extra = [()] * len(comments)
        plans = [self._plan(c, s) for c, s in zip(comments, signals, strict=True)]
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hmget(self._keys.spam_totals, ["spam", "ham"])
            for plan in plans:
                self._queue(pipe, plan)
            replies = iter(await pipe.execute())
        totals = tuple(int(n or 0) for n in next(replies))
        return [
            combine(
                [
                    *plan.evidence,
                    *more,
                    *self._counter_evidence(plan, replies),
                    *_bayes_evidence(plan, replies, totals),
                ]
            )
            for plan, more in zip(plans, extra, strict=True)
        ]

    async def learn(self, text: str, *, spam: bool) -> None:
        """A moderator's decision: count the text's tokens under spam or ham."""
        label = "spam" if spam else "ham"
        async with self._redis.pipeline(transaction=True) as pipe:
            for token in bayes.tokens(text):
                pipe.hincrby(self._keys.spam_tokens(label), token, 1)
            pipe.hincrby(self._keys.spam_totals, label, 1)
            await pipe.execute()

    def _plan(self, comment: Comment, signals: TextSignals) -> _Plan:
        keys, burst_s = self._keys, self._settings.burst_window_s
        counters = []
        if len(signals.body) >= MIN_REPEAT_CHARS:
            digest = hashlib.sha256(signals.body.encode()).hexdigest()[:32]
            counters.append(
                ("body", keys.spam_recent("body", digest), self._settings.spam_window_s)
            )
        counters.append(("email", keys.spam_recent("email", comment.email_hash), burst_s))
        if comment.ip:
            counters.append(("ip", keys.spam_recent("ip", self._ip_digest(comment.ip)), burst_s))
        at = epoch(comment.created_at)
        return _Plan(
            comment=comment,
            at=at if at is not None else datetime.now(UTC).timestamp(),
            evidence=list(signals.evidence),
            counters=counters,
            tokens=list(signals.tokens),
        )

    def _queue(self, pipe: Pipeline, plan: _Plan) -> None:
        """Record the comment in each counter (idempotent: member = id), trim, count."""
        for _, key, window in plan.counters:
            pipe.zadd(key, {plan.comment.id: plan.at})
            pipe.zremrangebyscore(key, "-inf", plan.at - window)
            pipe.expire(key, window)
            pipe.zcount(key, f"({plan.at - window}", plan.at)
        if plan.tokens:
            pipe.hmget(self._keys.spam_tokens("spam"), plan.tokens)
            pipe.hmget(self._keys.spam_tokens("ham"), plan.tokens)

    def _counter_evidence(self, plan: _Plan, replies: Iterator[Any]) -> list[Evidence]:
        evidence = []
        limit = self._settings.burst_limit
        for kind, _, _ in plan.counters:
            next(replies), next(replies), next(replies)  # zadd, zremrangebyscore, expire
            count = int(next(replies))  # this comment included
            if kind == "body" and count > 1:
                evidence.append(fire("repeated_body", count - 1, times=count - 1))
            elif kind != "body" and count > limit:
                evidence.append(fire(f"burst_{kind}", count))
        return evidence

    def _ip_digest(self, ip: str) -> str:
        return ip_digest(self._ip_key, ip)


def content_evidence(verdict: Verdict | None) -> list[Evidence]:
    """What the site model reads in the text, as spam evidence: "content:casino, bonus"
    (the n-grams that weighed most), one piece, two when the evidence is strong;
    "content_weak" at half the evidence, which holds only beside another signal."""
    if verdict is None:
        return []
    clues = ", ".join(verdict.prediction.clues) or None
    if verdict.spam:
        strong = verdict.prediction.evidence["spam"] >= 2 * verdict.spam_threshold
        return [fire("content", clues, times=2 if strong else 1)]
    if verdict.spam_weak:
        return [fire("content_weak", clues)]
    return []
