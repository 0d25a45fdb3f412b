"""The site model in Redis: counts learned once, relabelled and forgotten exactly; it
publishes in a language only once moderators' decisions there prove it."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.errors import SettingsError
from moderator.keys import Keys
from moderator.settings import Settings
from moderator.storage import privacy
from moderator.storage.decisions import Reason
from moderator.storage.textcounts import GROUP_BITS, GROUPS, TextCounts
from moderator.storage.wordlists import Term
from tests.helpers import VALID, submit
from workers import textmodel
from workers.language import Language
from workers.policy import Checks, Policy, automatic_decision, rank
from workers.sitemodel import SiteModel, Verdict
from workers.spam.signals import SpamResult
from workers.wordlists import WordList, seed_terms


async def test_learning_is_idempotent_relabels_and_forgets_exactly(
    redis: aioredis.Redis, keys: Keys
) -> None:
    counts = TextCounts(redis, keys)
    buckets = list(textmodel.features("nta wahed l7mar"))
    assert await counts.learn("c1", "toxic", buckets)
    assert not await counts.learn("c1", "toxic", buckets)  # a redelivered verdict
    assert await counts.summary() == {"ham": 0, "spam": 0, "toxic": 1}
    assert await counts.learn("c1", "ham", buckets)  # the moderator changed their mind
    assert await counts.summary() == {"ham": 1, "spam": 0, "toxic": 0}
    assert await redis.hlen(keys.text_counts) == len(buckets)
    assert set(await redis.hvals(keys.text_counts)) == {"1 0 0"}
    assert await counts.forget(["c1", "never-learned"]) == 1
    assert await counts.summary() == {"ham": 0, "spam": 0, "toxic": 0}
    assert await redis.hlen(keys.text_counts) == 0
    assert await counts.learned("c1") is None


async def test_feature_totals_are_kept_per_group_through_relabels_and_forgetting(
    redis: aioredis.Redis, keys: Keys
) -> None:
    """Each label's feature total per group (Latin, Arabic script, skeletons) is what
    toxicity evidence is normalised by: it must follow every learn, relabel and forget."""
    counts = TextCounts(redis, keys)
    mixed = textmodel.features("هاد الحمار nta l7mar")
    latin = textmodel.features("bravo l'équipe")

    def per_group(*found: dict[int, str]) -> tuple[int, ...]:
        groups = [bucket >> GROUP_BITS for features in found for bucket in features]
        return tuple(groups.count(group) for group in range(GROUPS))

    assert all(per_group(mixed)) and per_group(latin)[textmodel.ARABIC] == 0
    await counts.learn("c1", "toxic", list(mixed))
    await counts.learn("c2", "toxic", list(latin))
    (read,) = await counts.read([list(mixed)])
    assert read.totals["toxic"] == per_group(mixed, latin)
    await counts.learn("c1", "ham", list(mixed))  # relabelled
    (read,) = await counts.read([list(mixed)])
    assert read.totals["toxic"] == per_group(latin)
    assert read.totals["ham"] == per_group(mixed)
    await counts.forget(["c1", "c2"])
    (read,) = await counts.read([list(mixed)])
    assert read.totals == {label: (0, 0, 0) for label in textmodel.CLASSES}


async def _teach(site: SiteModel, examples: list[tuple[str, str]], language: str = "ary") -> None:
    """Teach `examples` as comments in `language` (the model speaks of a language once
    taught enough comments in it; which words they hold is the tests' business)."""
    for n, (text, label) in enumerate(examples):
        await site.counts.learn(f"seed:{n}", label, list(textmodel.features(text)), language)


HAM = [f"Bravo pour cet article numéro {n} sur le tramway, merci beaucoup" for n in range(40)]
TOXIC = [f"espèce de chien {n}, tu es un âne et un voleur" for n in range(40)]


async def test_it_needs_examples_before_it_says_anything(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    site = SiteModel(redis, keys, replace(settings, site_model_min_examples=50))
    await _teach(site, [(text, "ham") for text in HAM[:10]], "fr")
    (verdict,) = await site.verdicts([textmodel.features("un âne et un voleur")], ["fr"])
    assert verdict is not None
    assert not verdict.toxic and not verdict.clean and not verdict.likely_fine


async def test_it_speaks_only_of_languages_it_was_taught(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    """Taught French and Darija, it says nothing of Spanish: its evidence there is noise
    (untaught, half of 30 Spanish comments of praise were held as toxic)."""
    site = SiteModel(redis, keys, replace(settings, site_model_min_examples=20))
    await _teach(site, [*((t, "ham") for t in HAM[:20]), *((t, "toxic") for t in TOXIC[:20])])
    toxic = textmodel.features("espèce de chien, tu es un âne et un voleur")
    in_darija, in_spanish, in_none = await site.verdicts([toxic] * 3, ["ary", "es", "und"])
    assert in_darija is not None and in_darija.toxic
    assert in_spanish is not None and not (in_spanish.toxic or in_spanish.clean)
    # No language (a link, a brand): read with all it learned, as tokens of every language
    assert in_none is not None and in_none.toxic
    assert await site.counts.languages() == {"ary": 40}
    await site.counts.learn("es-1", "ham", list(toxic), "es")
    await site.counts.learn("seed:0", "toxic", list(toxic), "es")  # relabelled, and moved
    await site.counts.forget(["seed:1"])
    assert await site.counts.languages() == {"ary": 38, "es": 2}


@pytest.mark.parametrize("body", ["👍👍👍", "🇲🇦🇲🇦 ❤️", "ⵣⵣⵣ"])
async def test_it_says_nothing_of_a_comment_with_nothing_it_has_learned(
    redis: aioredis.Redis, keys: Keys, settings: Settings, body: str
) -> None:
    """Emoji alone have no features: their evidence of 0 once held every one of them as
    toxic (the hold threshold is below 0), and could have published them as clean."""
    site = SiteModel(redis, keys, replace(settings, site_model_min_examples=10))
    await _teach(site, [*((t, "ham") for t in HAM), *((t, "toxic") for t in TOXIC)])
    (verdict,) = await site.verdicts([textmodel.features(body)], ["ary"])
    assert verdict is not None and verdict.prediction.known == 0
    assert not verdict.toxic and not verdict.clean and not verdict.likely_fine


async def _proven(site: SiteModel, languages: list[str]) -> dict[str, bool]:
    return {status.language: status.proven for status in await site.statuses(languages)}


def _small_site(
    redis: aioredis.Redis, keys: Keys, settings: Settings, *, decisions: int
) -> SiteModel:
    """A site model that speaks after 10 examples and is proven on `decisions` decisions,
    20 of them comments it would publish."""
    small = replace(
        settings,
        site_model_min_examples=10,
        site_model_min_decisions=decisions,
        site_model_min_would_publish=20,
    )
    return SiteModel(redis, keys, small, rng=random.Random(0))


async def test_it_publishes_only_once_proven_on_that_language(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    site = _small_site(redis, keys, settings, decisions=25)
    await _teach(site, [*((t, "ham") for t in HAM), *((t, "toxic") for t in TOXIC)])
    clean = textmodel.features("Bravo pour cet article sur le tramway, merci")
    (verdict,) = await site.verdicts([clean], ["ary"])
    assert verdict is not None and verdict.clean and not verdict.proven

    for _ in range(19):
        await site.record_outcome("ary", would_publish=True, approved=True)
    for _ in range(6):
        await site.record_outcome("ary", would_publish=False, approved=False)
    assert not (await _proven(site, ["ary"]))["ary"]  # 19 it would publish: not yet
    await site.record_outcome("ary", would_publish=True, approved=True)
    assert (await _proven(site, ["ary", "ar"])) == {"ary": True, "ar": False}
    for n in range(24):  # 20 approved of 20 it would publish, but 24 decisions in all
        await site.record_outcome("ar", would_publish=n < 20, approved=True)
    assert not (await _proven(site, ["ar"]))["ar"]
    await site.record_outcome("ary", would_publish=True, approved=False)  # a mistake
    (status,) = await site.statuses(["ary"])
    assert (status.decisions, status.would_publish, status.approved) == (27, 21, 20)
    assert not (await _proven(site, ["ary"]))["ary"]  # 95% < 99%


async def test_it_is_proven_per_language_at_the_confidence_its_decisions_show(
    redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    """A model that errs on the comments it is least sure of is proven on those it is
    surest of: per language, the loosest evidence at which the moderators approved 99% of
    what it would have published (at least `min_would_publish` of them). What it is
    less sure of is held as unproven; the level opens as it learns."""
    site = _small_site(redis, keys, settings, decisions=30)
    # 24 it was sure of (evidence -6), all approved; 6 it was less sure of (-4), 2 wrong
    for _ in range(24):
        await site.record_outcome("ary", would_publish=True, approved=True, evidence=-6.0)
    for n in range(6):
        await site.record_outcome("ary", would_publish=True, approved=n > 1, evidence=-4.0)
    (status,) = await site.statuses(["ary"])
    assert (status.would_publish, status.approved) == (30, 28)  # 93% at the clean threshold
    assert status.publish_below == -4.5 and status.proven_would_publish == 24
    assert status.to_dict()["publish_below"] == -4.5

    await _teach(site, [*((t, "ham") for t in HAM), *((t, "toxic") for t in TOXIC)])
    clean = textmodel.features("Bravo pour cet article sur le tramway, merci")
    (verdict,) = await site.verdicts([clean], ["ary"])
    assert verdict is not None and verdict.clean and verdict.publish_below == -4.5
    worst = max(verdict.prediction.evidence.values())
    assert worst <= -4.5 and verdict.proven
    assert verdict.to_dict()["publish_below"] == -4.5

    # Entries written before evidence was recorded: an approval counts at the clean
    # threshold only, a mistake at every level.
    await redis.delete(keys.site_model_outcomes("ar"))
    for n in range(30):
        await redis.lpush(keys.site_model_outcomes("ar"), "p1" if n else "p0")
    for _ in range(20):
        await site.record_outcome("ar", would_publish=True, approved=True, evidence=-9.0)
    (ar,) = await site.statuses(["ar"])
    assert ar.publish_below is None  # 50 of 51 at -3.5 (98%), 20 of 21 surer (95%)
    await site.record_outcome("ar", would_publish=True, approved=True, evidence=-9.0)
    for _ in range(80):
        await site.record_outcome("ar", would_publish=True, approved=True, evidence=-8.0)
    (ar,) = await site.statuses(["ar"])
    assert (ar.publish_below, ar.proven_would_publish, ar.proven_approved) == (-3.5, 131, 130)


def _verdict(*, clean: bool, proven: bool, toxic: bool = False, audit: bool = False) -> Verdict:
    evidence = {"spam": -3.0, "toxic": 2.0 if toxic else -3.0}
    prediction = textmodel.Prediction(evidence, (), examples=500, known=20)
    return Verdict(
        prediction=prediction,
        language="ary",
        toxic=toxic,
        spam=False,
        spam_threshold=2.0,
        spam_weak=False,
        clean=clean,
        likely_fine=clean,
        proven=proven,
        audit_sample=audit,
    )


def _decide(settings: Settings, verdict: Verdict | None, code: str = "ary") -> list[str]:
    policy = Policy.from_settings(settings, WordList([]), WordList([]))
    checks = Checks(
        language=Language(code, "latin"), toxicity={}, spam=SpamResult(0.0, ()), site=verdict
    )
    status, reasons = policy.decide(checks)
    return [status.value, *(r.code for r in reasons)]


def test_the_policy_follows_the_site_model(settings: Settings) -> None:
    assert _decide(settings, None) == ["held", "language.not_covered"]
    assert _decide(settings, _verdict(clean=False, proven=True)) == [
        "held",
        "language.not_covered",
    ]
    assert _decide(settings, _verdict(clean=True, proven=False)) == [
        "held",
        "site_model.unproven",
    ]
    assert _decide(settings, _verdict(clean=True, proven=True)) == ["published"]
    assert _decide(settings, _verdict(clean=True, proven=True, audit=True)) == [
        "held",
        "site_model.audit_sample",
    ]
    rank_only = replace(settings, site_model="rank")
    assert _decide(rank_only, _verdict(clean=True, proven=True)) == [
        "held",
        "site_model.unproven",
    ]
    # It holds what it finds toxic in any language, and never rejects.
    assert _decide(settings, _verdict(clean=False, proven=True, toxic=True), "fr") == [
        "held",
        "site_model.toxic",
    ]


def test_it_never_publishes_alone_a_link_or_what_names_a_group_or_violence(
    settings: Settings,
) -> None:
    """A generalisation about a group or a threat is made of ordinary words: whatever
    the site model says of it, a person reads it, ranked with the comments held for
    their language, the term and its meaning in the reason."""
    listed = WordList(seed_terms("sensitive"))
    policy = Policy.from_settings(settings, WordList([]), WordList([]), listed)
    proven = _verdict(clean=True, proven=True)

    def decide(body: str, code: str) -> tuple[str, list[Reason]]:
        sensitive = tuple(listed.matches(body, code))
        checks = Checks(
            language=Language(code, "arabic"),
            toxicity={},
            spam=SpamResult(0.0, ()),
            site=proven,
            sensitive=sensitive,
        )
        status, reasons = policy.decide(checks)
        return status.value, list(reasons)

    # A spam signal under the hold threshold (one link) is not the text model's call.
    linked = Checks(
        language=Language("ar", "arabic"),
        toxicity={},
        spam=SpamResult(0.1, ("links:1",)),
        site=proven,
    )
    assert [r.code for r in policy.decide(linked)[1]] == ["language.not_covered"]

    status, reasons = decide("اليهود هوما سبب المصايب كاملين", "ary")
    assert status == "held"
    assert [(r.code, r.match) for r in reasons] == [("site_model.sensitive", "يهود")]
    assert reasons[0].meaning and rank(reasons, proven) == "likely_fine"
    status, reasons = decide("ila chftou f Marrakech ghadi ndb7ou", "ary")  # a threat
    assert status == "held" and reasons[0].code == "site_model.sensitive"
    # A veiled threat has no violent word: the target's family, address or way home.
    for body, code, term in (
        ("li kteb had l'commentaire ydir balo melli ykhrej mn l'khdma", "ary", "ydir balo"),
        ("نعرف عنوانك جيدا، وسنرى من سيضحك في النهاية", "ar", "عنوانك"),
        ("برلمانيونا قطيع يرفعون أيديهم عند الطلب", "ar", "قطيع"),  # people called a herd
    ):
        status, reasons = decide(body, code)
        assert status == "held" and [(r.code, r.match) for r in reasons] == [
            ("site_model.sensitive", term)
        ], body
    assert decide("الله يرحم الوالدين، مقال زوين بزاف", "ary") == ("published", [])
    # Nor one that quotes an insult (reported speech): not held for the word, it is
    # not published alone either, the quoted term in the reason.
    quoting = Checks(
        language=Language("ary", "arabic"),
        toxicity={},
        spam=SpamResult(0.0, ()),
        site=proven,
        quoted=(Term.of("حمار", ["ar", "ary"], "« âne »"),),
    )
    status, reasons = policy.decide(quoting)
    assert status.value == "held"
    assert [(r.code, r.match, r.detail) for r in reasons] == [
        ("site_model.sensitive", "حمار", "quoted")
    ]
    # A language a toxicity model reads is not held for the word.
    assert decide("Les Juifs du Maroc fêtent la Mimouna", "fr") == ("published", [])


def test_held_comments_are_ranked() -> None:

    fine = _verdict(clean=True, proven=False)
    assert rank([Reason("site_model.unproven")], fine) == "likely_fine"
    assert rank([Reason("spam.likely"), Reason("language.not_covered")], fine) == "suspect"
    assert rank([Reason("language.not_covered")], _verdict(clean=False, proven=False)) == (
        "suspect"
    )
    assert rank([Reason("language.not_covered")], None) is None
    # A newsroom may want every comment naming a group or violence read one by one.
    sensitive = [Reason("site_model.sensitive", match="يهود")]
    assert rank(sensitive, fine) == "likely_fine"
    assert rank(sensitive, fine, sensitive_rank="suspect") == "suspect"
    assert rank([Reason("site_model.unproven")], fine, sensitive_rank="suspect") == "likely_fine"


def test_the_sensitive_rank_is_a_setting_and_part_of_the_policy() -> None:
    settings = Settings.from_env({"MODERATOR_SITE_MODEL_SENSITIVE_RANK": "suspect"})
    words = WordList(())
    strict = Policy.from_settings(settings, words, words)
    default = Policy.from_settings(Settings(), words, words)
    assert strict.sensitive_rank == "suspect" and default.sensitive_rank == "likely_fine"
    assert strict.digest() != default.digest()
    with pytest.raises(SettingsError, match="SITE_MODEL_SENSITIVE_RANK"):
        Settings.from_env({"MODERATOR_SITE_MODEL_SENSITIVE_RANK": "never"})
    # The decision record's rank follows it.
    checks = Checks(
        language=Language("ary", "arabic"),
        toxicity={},
        spam=SpamResult(0.0, ()),
        sensitive=(Term.of("يهود", ["ar", "ary"]),),
        site=_verdict(clean=True, proven=True),
    )
    ranks = [
        automatic_decision(policy, policy.digest(), checks, None).extra["rank"]
        for policy in (default, strict)
    ]
    assert ranks == ["likely_fine", "suspect"]


async def test_forgetting_a_reader_removes_what_their_comments_taught(
    client: TestClient, redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    comment_id = await submit(client, body="Un commentaire que le lecteur veut retirer")
    counts = TextCounts(redis, keys)
    await counts.learn(comment_id, "ham", list(textmodel.features("Un commentaire")))
    await counts.learn("seed:1", "ham", list(textmodel.features("Autre chose")))
    await privacy.forget(redis, keys, settings, VALID["email"], by="test")
    assert await counts.learned(comment_id) is None
    assert await counts.summary() == {"ham": 1, "spam": 0, "toxic": 0}  # the seed stays


def test_weak_spam_evidence_holds_only_beside_another_signal(settings: Settings) -> None:
    """Half the evidence of a `content` signal is `content_weak`: under the hold
    threshold alone, above it beside a phone number, or beside a single link."""
    from workers.spam.scorer import content_evidence
    from workers.spam.signals import combine, fire

    def verdict(spam: float) -> Verdict:
        evidence = {"spam": spam, "toxic": -3.0}
        prediction = textmodel.Prediction(evidence, ("whatsapp",), examples=500, known=20)
        return replace(
            _verdict(clean=False, proven=False),
            prediction=prediction,
            spam=spam >= 4.0,
            spam_threshold=4.0,
            spam_weak=spam >= 2.0,
        )

    assert content_evidence(verdict(1.0)) == []
    (weak,) = content_evidence(verdict(2.5))
    assert weak[0] == "content_weak:whatsapp"
    assert combine([weak]).score < settings.spam_hold_threshold
    assert combine([weak, fire("phone")]).score >= settings.spam_hold_threshold
    assert combine([weak, fire("links", 1)]).score >= settings.spam_hold_threshold
    assert [label for label, _ in content_evidence(verdict(9.0))] == ["content:whatsapp"]


def test_the_sensitive_list_is_matched_only_where_no_model_reads() -> None:
    """Elsewhere the site model never publishes alone: matching would cost time for
    nothing."""
    from moderator.domain import Comment, utc_now
    from workers.checks import run_text_checks
    from workers.wordlists import Lists

    lists = Lists(WordList([]), WordList([]), WordList(seed_terms("sensitive")))

    def sensitive(body: str) -> tuple[str, ...]:
        comment = Comment("c", "a", "Reader", "r@example.ma", "h", body, utc_now())
        found: dict[str, object] = {}
        run_text_checks(comment, lists, found, frozenset({"en", "fr", "und"}))
        return tuple(term.term for term in found["wordlists"][2])  # type: ignore[index]

    assert sensitive("Les Juifs du Maroc fêtent la Mimouna à Essaouira cette semaine.") == ()
    assert sensitive("اليهود ديال المغرب كيحتافلو بالميمونة فالصويرة") == ("يهود",)
