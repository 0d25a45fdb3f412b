"""Shadow policy: a candidate replayed over real decisions from their stored scores,
live beside the active policy, and promoted as an audited action."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Sequence
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from moderator.domain import Status
from moderator.keys import Keys
from moderator.settings import Settings
from tests.fakes import GradedToxicity
from tests.helpers import env_for, submit
from workers.consumer import Worker
from workers.language import Language
from workers.policy import Checks, Policy
from workers.shadow.candidate import Candidate
from workers.shadow.evaluation import evaluate
from workers.shadow.live import LiveShadow, set_live
from workers.shadow.overrides import active_overrides, active_policy, clear_overrides, promote
from workers.spam.signals import SpamResult
from workers.wordlists import WordList

FRENCH = "Je pense que cet article est vraiment mauvais, note {} sur 100."
ENGLISH = "I think this article is really bad, I give it {} out of 100."
ARABIC = "هذا المقال مفيد جدا وشكرا للكاتب على هذا العمل {}"
# (template, insult score in percent): fr 70 and en 65 are held at 0.6; at 0.3, fr 35
# and 45 and en 40 are held too; Arabic is held (language.not_covered) under both.
COMMENTS = [
    (FRENCH, 10),
    (FRENCH, 35),
    (FRENCH, 45),
    (FRENCH, 70),
    (ENGLISH, 20),
    (ENGLISH, 40),
    (ENGLISH, 65),
    (ARABIC, 50),
]


async def submit_as(client: TestClient, n: int, body: str) -> str:
    return await submit(client, email=f"reader{n}@example.ma", body=body)  # no burst signal


async def decide(
    client: TestClient, redis: aioredis.Redis, settings: Settings, bodies: Sequence[str]
) -> list[str]:
    """Submit the comments through the app and decide them with the real worker."""
    worker = Worker(redis, settings, toxicity=GradedToxicity(), name="w")
    await worker.setup()
    ids = [await submit_as(client, n, body) for n, body in enumerate(bodies)]
    await worker.drain()
    return ids


@pytest.fixture
async def decided(client: TestClient, redis: aioredis.Redis, settings: Settings) -> list[str]:
    return await decide(client, redis, settings, [text.format(n) for text, n in COMMENTS])


async def test_a_stricter_insult_threshold_holds_more_by_language(
    decided: list[str], redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    report = await evaluate(redis, keys, settings, Candidate(thresholds={"insult": 0.3}))
    data = report.to_dict()
    assert data["evaluated"] == 8
    assert data["skipped"] == 0
    assert data["changed"] == 3
    assert data["transitions"] == {"published->held": 3}
    assert data["languages"] == {
        "ar": _counts(evaluated=1, held_now=1, held_candidate=1),
        "en": _counts(evaluated=3, held_now=1, held_candidate=2, changed=1),
        "fr": _counts(evaluated=4, held_now=1, held_candidate=3, changed=2),
    }
    examples = data["examples"]["published->held"]
    assert {e["comment_id"] for e in examples} == {decided[1], decided[2], decided[5]}
    example = next(e for e in examples if e["comment_id"] == decided[2])
    assert example == {
        "comment_id": decided[2],
        "language": "fr",
        "text": FRENCH.format(45),
        "before": {"decision": "published", "reasons": []},
        "after": {
            "decision": "held",
            "reasons": [{"code": "toxicity.insult", "score": 0.45, "threshold": 0.3}],
        },
    }
    assert data["candidate"] == {"thresholds": {"insult": 0.3}}
    assert data["active_policy"] != data["candidate_policy"]
    assert "@example.ma" not in json.dumps(data)


async def test_a_looser_insult_threshold_holds_fewer(
    decided: list[str], redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    report = await evaluate(redis, keys, settings, Candidate(thresholds={"insult": 0.8}))
    assert report.changed == 2
    assert dict(report.transitions) == {"held->published": 2}
    assert {code: c.changed for code, c in report.languages.items()} == {"ar": 0, "en": 1, "fr": 1}
    assert sum(c.held_candidate for c in report.languages.values()) == 1  # Arabic only


async def test_a_banned_word_turns_published_into_rejected(
    client: TestClient, redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    long_body = "Ce ministre est un zorglub. " + "Le reste est un long commentaire. " * 10
    ids = await decide(client, redis, settings, [long_body, FRENCH.format(10)])
    report = await evaluate(redis, keys, settings, Candidate(banned_add=("zorglub",)))
    assert dict(report.transitions) == {"published->rejected": 1}
    [example] = report.to_dict()["examples"]["published->rejected"]
    assert example["comment_id"] == ids[0]
    assert example["after"] == {
        "decision": "rejected",
        "reasons": [{"code": "wordlist.banned", "match": "zorglub", "languages": ["*"]}],
    }
    assert len(example["text"]) == 140
    assert example["text"].endswith("…")
    assert report.languages["fr"].rejected_candidate == 1


async def test_a_failed_toxicity_check_stays_held_under_any_threshold(
    client: TestClient, redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    worker = Worker(redis, settings, toxicity=None, name="w")
    await worker.setup()
    await submit_as(client, 1, FRENCH.format(10))
    await worker.drain()
    report = await evaluate(redis, keys, settings, Candidate(thresholds={"insult": 0.99}))
    assert (report.evaluated, report.changed) == (1, 0)
    assert report.languages["fr"].held_now == report.languages["fr"].held_candidate == 1


async def test_only_the_last_automatic_decisions_are_replayed(
    decided: list[str], client: TestClient, redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    # A moderator's entry on the audit stream is not an automatic decision: passed over.
    await redis.xadd(keys.audit, {"comment_id": decided[-1], "by": "moderator:amina"})
    report = await evaluate(redis, keys, settings, Candidate(thresholds={"insult": 0.3}), last=3)
    assert report.evaluated == 3  # the three newest comments: en 40, en 65, ar 50
    assert dict(report.transitions) == {"published->held": 1}
    assert set(report.languages) == {"en", "ar"}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"thresholds": {"insult": 1.5}}, "thresholds.insult"),
        ({"thresholds": {"insult": True}}, "thresholds.insult"),
        ({"thresholds": {"rudeness": 0.5}}, "thresholds"),
        ({"thresholds": [0.5]}, "thresholds"),
        ({"spam_hold": "high"}, "spam_hold"),
        ({"spam_reject": float("nan")}, "spam_reject"),
        ({"spam_hold": 0.9, "spam_reject": 0.5}, "spam_reject"),
        ({"language_not_covered": "skip"}, "language_not_covered"),
        ({"banned_add": "word"}, "banned_add"),
        ({"suspect_add": [""]}, "suspect_add"),
        ({"suspect_add": ["x" * 101]}, "suspect_add"),
        ({"banned_add": ["a"], "banned_remove": ["a"]}, "banned_remove"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_an_invalid_candidate_is_refused_naming_the_field(data: Any, field: str) -> None:
    with pytest.raises(ValueError, match=re.escape(field)):
        Candidate.from_dict(data)


def test_a_candidate_round_trips_and_applies_over_the_policy() -> None:
    data = {
        "thresholds": {"insult": 0.3},
        "spam_hold": 0.4,
        "language_not_covered": "score",
        "banned_add": ["zorglub"],
        "suspect_remove": ["bidule"],
    }
    candidate = Candidate.from_dict(data)
    assert candidate.to_dict() == data
    assert Candidate.from_json(candidate.to_json()) == candidate
    active = Policy.from_settings(Settings(), WordList(["con"]), WordList(["bidule", "truc"]))
    policy = candidate.apply(active)
    assert policy.thresholds["insult"] == 0.3
    assert policy.thresholds["toxicity"] == 0.8
    assert (policy.spam_hold, policy.spam_reject) == (0.4, 0.98)
    assert policy.language_not_covered == "score"
    assert policy.banned.terms == ("con", "zorglub")
    assert policy.suspect.terms == ("truc",)
    assert active.thresholds["insult"] == 0.6  # the active policy is left alone
    with pytest.raises(ValueError, match="spam_reject"):
        Candidate(spam_reject=0.3).apply(active)


async def test_promote_writes_the_overrides_the_word_lists_and_an_audit_entry(
    decided: list[str], redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    candidate = Candidate(thresholds={"insult": 0.3}, banned_add=("zorglub",))
    await promote(redis, keys, candidate, by="cli:amina")
    [(_, entry)] = await redis.xrevrange(keys.audit, count=1)
    assert entry["action"] == "policy.promote"
    assert entry["by"] == "cli:amina"
    assert json.loads(entry["candidate"]) == candidate.to_dict()
    assert json.loads(await redis.get(keys.policy_overrides)) == {"thresholds": {"insult": 0.3}}
    assert await redis.hexists(keys.wordlist_terms("banned"), "zorglub")
    assert await active_overrides(redis, keys) == Candidate(thresholds={"insult": 0.3})
    assert (await active_policy(redis, keys, settings)).thresholds["insult"] == 0.3
    # The promoted policy is now the active one: trying it again changes nothing.
    assert (await evaluate(redis, keys, settings, candidate)).changed == 0

    await promote(redis, keys, Candidate(spam_hold=0.4), by="cli:amina")
    assert await active_overrides(redis, keys) == Candidate(
        thresholds={"insult": 0.3}, spam_hold=0.4
    )
    assert await clear_overrides(redis, keys, by="cli:amina")
    assert await active_overrides(redis, keys) is None
    [(_, entry)] = await redis.xrevrange(keys.audit, count=1)
    assert entry["action"] == "policy.overrides_cleared"
    assert await redis.hexists(keys.wordlist_terms("banned"), "zorglub")  # lists stay edited


async def test_live_shadow_logs_the_candidate_decision_when_it_differs(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    active = Policy.from_settings(settings, WordList([]), WordList([]))
    live = LiveShadow(redis, keys)
    assert await live.policy(active) is None
    await set_live(redis, keys, Candidate(thresholds={"insult": 0.3}, suspect_add=("bidule",)))
    shadow = await live.policy(active)
    assert shadow is not None
    calm = Checks(
        language=Language("fr", "latin"),
        toxicity={"insult": 0.1},
        spam=SpamResult(0.0, ()),
    )
    with capture_logs() as logs:
        assert (
            live.observe(active, shadow, "c1", "Amina\nbonne analyse", calm)[0] == Status.PUBLISHED
        )
        status, reasons = live.observe(active, shadow, "c2", "Amina\nun bidule", calm)
    assert status == Status.HELD
    assert [r.code for r in reasons] == ["wordlist.suspect"]
    assert logs == [
        {
            "event": "shadow_decision",
            "log_level": "info",
            "comment_id": "c2",
            "active": "published",
            "shadow": "held",
            "active_reasons": [],
            "shadow_reasons": ["wordlist.suspect"],
            "language": "fr",
            "changed": True,
        }
    ]
    await redis.set(keys.shadow_candidate, '{"thresholds": {"insult": 2}}')
    with capture_logs() as logs:
        assert await live.policy(active) is None
    assert [entry["event"] for entry in logs] == ["shadow_candidate_invalid"]
    await set_live(redis, keys, None)
    assert await redis.get(keys.shadow_candidate) is None


async def run_cli(settings: Settings, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workers.shadow",
        *args,
        env=env_for(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_command_line_reports_as_json_and_as_a_table(
    decided: list[str], redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    code, out, err = await run_cli(settings, "--threshold", "insult=0.3", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["transitions"] == {"published->held": 3}
    assert report["languages"]["fr"]["held_candidate"] == 3

    code, out, err = await run_cli(settings, "--threshold", "insult=0.3", "--last", "4")
    assert code == 0, err
    assert "would change     1" in out  # the four newest: fr 70, en 20, en 40, en 65
    assert re.search(r"^en\s+3\s+1\s+2\s+0\s+0\s+1$", out, re.MULTILINE), out

    code, out, err = await run_cli(settings, "--threshold", "insult=1.5")
    assert code == 2
    assert "thresholds.insult" in err

    code, out, err = await run_cli(settings, "--threshold", "insult=0.3", "--live")
    assert code == 0, err
    assert json.loads(await redis.get(keys.shadow_candidate)) == {"thresholds": {"insult": 0.3}}
    assert (await run_cli(settings, "--live-off"))[0] == 0
    assert await redis.get(keys.shadow_candidate) is None

    code, out, err = await run_cli(
        settings, "--threshold", "insult=0.3", "--promote", "--by", "cli:amina"
    )
    assert code == 0, err
    assert "threshold insult: 0.6 -> 0.3" in out
    [(_, entry)] = await redis.xrevrange(keys.audit, count=1)
    assert (entry["action"], entry["by"]) == ("policy.promote", "cli:amina")


def _counts(**given: int) -> dict[str, int]:
    names = ("evaluated", "held_now", "held_candidate", "rejected_now", "rejected_candidate")
    return {name: given.get(name, 0) for name in (*names, "changed")}
