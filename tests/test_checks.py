"""The worker's text checks: linear in the text, and under a time budget per comment.

A body of 2,000 "@" used to take 6 s in the language check's e-mail pattern
(5,000: ~100 s), inside the worker's event loop: one comment stopped every
worker. Each check is now tried with adversarial bodies up to the length
limit, and a check that overruns its budget holds the comment instead of
stalling the batch."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderator.domain import Comment
from moderator.keys import Keys
from moderator.settings import Limits, Settings
from tests.fakes import FakeToxicity
from tests.helpers import decision_of, submit
from workers import checks as checks_module
from workers import language, wordlists
from workers.consumer import Worker
from workers.spam import bayes
from workers.spam import signals as spam

MAX_BODY = Limits().body
# Generous: linear checks take tens of milliseconds at the limit here; the
# backtracking patterns they replace took from seconds to minutes.
CHECK_SECONDS = 1.0

# Characters the patterns care about: separators of e-mail addresses, links,
# phone numbers and clauses; letters that laughter, Darija spellings and word
# lists match; digits used as letters; Arabic letters and marks; spaces.
ADVERSARIAL = "@.:/-_+%#!?a1h loxwzé0235679AZ(),ماشكيتنوهال\u064e\u0640\u200b\n\tаο"
WORDS = wordlists.WordList([*wordlists.seed_terms("banned"), *wordlists.seed_terms("suspect")])

TEXT_CHECKS: dict[str, Callable[[str], object]] = {
    "language": language.detect,
    "spam_links": spam.link_hosts,
    "spam_text": lambda body: spam.text_evidence(_comment(body)),
    "spam_tokens": bayes.tokens,
    # As a mixed comment, matched clause by clause: the most work the lists do.
    "wordlists": lambda body: WORDS.matches(body, language.MIXED),
    "wordlists_quoted": lambda body: wordlists.quoted_only(WORDS, body, language.MIXED),
}


def _comment(body: str, **fields: Any) -> Comment:
    return Comment(
        id="c1",
        article_id="a1",
        name="Reader",
        email="reader@example.com",
        email_hash="e" * 16,
        body=body,
        created_at="2026-12-01T00:00:00+00:00",
        **fields,
    )


@st.composite
def adversarial_bodies(draw: st.DrawFn) -> str:
    """A short unit repeated up to the length limit, with a prefix and suffix that
    make a would-be match fail at the very end (the worst case for backtracking)."""
    unit = draw(st.text(alphabet=ADVERSARIAL, min_size=1, max_size=4))
    prefix = draw(st.text(alphabet=ADVERSARIAL, max_size=3))
    suffix = draw(st.text(alphabet=ADVERSARIAL, max_size=3))
    room = MAX_BODY - len(prefix) - len(suffix)
    return prefix + unit * (room // len(unit)) + suffix


KNOWN_WORST = [
    "@" * MAX_BODY,
    ".@" * (MAX_BODY // 2),
    "a@" * (MAX_BODY // 2),
    "a" * MAX_BODY,
    "lb" + "a" * (MAX_BODY - 3) + "é",
    "a." * (MAX_BODY // 2) + "@",
    "x@" + "a-" * (MAX_BODY // 2 - 2) + "a",
    "x" + " " * (MAX_BODY - 2) + "(",  # obfuscated "at" and "dot" after a run of spaces
    "a" + " at" * (MAX_BODY // 3 - 1) + " dot ",
    "(" + " " * (MAX_BODY - 2) + "x",
    "«" * MAX_BODY,  # opening marks with no closing one
    "« connard " * (MAX_BODY // 10),
    "'a " * (MAX_BODY // 3),
    "0 " * (MAX_BODY // 2),  # digits spaced out: one phone-number candidate, not thousands
    "06 -" * (MAX_BODY // 4),
    "ـ.ـ" * (MAX_BODY // 3),  # punctuation between tatweels
    "aа" * (MAX_BODY // 2),  # Latin and Cyrillic a
]


def _seconds(check: Callable[[str], object], body: str) -> float:
    started = time.perf_counter()
    check(body)
    return time.perf_counter() - started


@pytest.mark.parametrize("name", sorted(TEXT_CHECKS))
@pytest.mark.parametrize("body", KNOWN_WORST, ids=lambda body: repr(body[:6]))
def test_known_worst_bodies_are_checked_quickly(name: str, body: str) -> None:
    assert _seconds(TEXT_CHECKS[name], body) < CHECK_SECONDS


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(TEXT_CHECKS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=adversarial_bodies())
def test_adversarial_bodies_at_the_length_limit_are_checked_quickly(name: str, body: str) -> None:
    assert _seconds(TEXT_CHECKS[name], body) < CHECK_SECONDS


def test_email_patterns_still_find_addresses() -> None:
    """The linear rewrites find what the old patterns found."""
    assert language.detect("écrivez à contact@example.ma pour plus d'infos") == language.detect(
        "écrivez à pour plus d'infos"
    )
    assert spam.text_evidence(_comment("mon mail: promo.deals+1@shop-example.co.uk"))
    signals = [label for label, _ in spam.text_evidence(_comment("écrivez: a.b@ex.ma"))]
    assert "email_in_body" in signals
    assert not spam.text_evidence(_comment("rendez-vous @ 18h, salle 3"))


# --- the budget in the worker ---------------------------------------------------------------


@pytest.fixture
def budget_settings(settings: Settings) -> Settings:
    return replace(settings, check_budget_ms=200, worker_batch_size=8)


def _misbehave_on(monkeypatch: pytest.MonkeyPatch, marker: str, act: Callable[[], None]) -> None:
    """The language check goes wrong (`act`) on bodies with `marker`, as a bug would."""
    real_detect = language.detect

    def detect(text: str) -> language.Language:
        if marker in text:
            act()
        return real_detect(text)

    monkeypatch.setattr(checks_module, "detect", detect)


def _raise() -> None:
    raise ValueError("a bug in a check")


async def test_a_check_past_its_budget_holds_the_comment_and_the_batch_goes_on(
    client: TestClient,
    redis: aioredis.Redis,
    keys: Keys,
    budget_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _misbehave_on(monkeypatch, "STALL", lambda: time.sleep(3))  # far past the budget
    stalled = await submit(client, body="STALL this comment, please")
    ordinary = [await submit(client, body=f"Très bon article numéro {n}, merci.") for n in range(3)]
    worker = Worker(redis, budget_settings, name="w1", toxicity=FakeToxicity())
    await worker.setup()
    started = time.perf_counter()
    assert await worker.step(block_ms=0) == 4
    assert time.perf_counter() - started < 3  # did not wait for the stalled check

    held = await decision_of(redis, keys, stalled)
    assert held["decision"] == "held"
    codes = [reason["code"] for reason in held["reasons"]]
    assert codes == [
        "check_failed.language",
        "check_failed.wordlists",
        "check_failed.spam",
        "check_failed.site_model",
    ]
    for comment_id in ordinary:
        assert (await decision_of(redis, keys, comment_id))["decision"] == "published"


async def test_adversarial_comments_do_not_delay_ordinary_ones(
    client: TestClient, redis: aioredis.Redis, keys: Keys, budget_settings: Settings
) -> None:
    """The bodies that stalled every worker, posted through intake among ordinary
    comments: all are decided in one pass, ordinary ones as usual, within a second each."""
    hostile = [await submit(client, body=body) for body in KNOWN_WORST[:4]]
    ordinary = [await submit(client, body=f"Bravo pour ce reportage {n} !") for n in range(4)]
    worker = Worker(redis, budget_settings, name="w1", toxicity=FakeToxicity())
    await worker.setup()
    started = time.perf_counter()
    assert await worker.drain() == 8
    elapsed = time.perf_counter() - started
    assert elapsed < len(hostile + ordinary)  # within a second per comment, all told
    for comment_id in ordinary:
        assert (await decision_of(redis, keys, comment_id))["decision"] == "published"
    for comment_id in hostile:
        assert (await decision_of(redis, keys, comment_id))["decision"] in ("held", "published")


def test_a_body_of_arabic_marks_alone_is_read_without_error() -> None:
    """Found by the adversarial bodies: a fatha alone made the language check raise."""
    assert language.detect("ا \u064e ب").code in language.CODES


async def test_a_check_that_raises_holds_only_its_comment(
    client: TestClient,
    redis: aioredis.Redis,
    keys: Keys,
    budget_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _misbehave_on(monkeypatch, "BROKEN", _raise)
    broken = await submit(client, body="BROKEN comment")
    ordinary = await submit(client, body="Un commentaire ordinaire, merci.")
    worker = Worker(redis, budget_settings, name="w1", toxicity=FakeToxicity())
    await worker.setup()
    assert await worker.step(block_ms=0) == 2
    held = await decision_of(redis, keys, broken)
    assert next(r["code"] for r in held["reasons"]) == "check_failed.language"
    assert (await decision_of(redis, keys, ordinary))["decision"] == "published"
