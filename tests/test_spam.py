"""The spam scorer against a real Redis: each signal, the counters, learning, calibration."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from moderator.domain import Comment, new_comment_id
from moderator.keys import Keys
from moderator.settings import Settings
from workers.spam.bayes import BAYES_MIN_EXAMPLES
from workers.spam.scorer import SpamScorer
from workers.spam.signals import WEIGHTS, SpamResult, link_hosts

BASE = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def iso(seconds: float = 0) -> str:
    moment = BASE + timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make(
    body: str,
    *,
    at: float = 0,
    article_id: str = "politique-1",
    email_hash: str | None = None,
    **fields: Any,
) -> Comment:
    """A comment from its own reader (a fresh e-mail hash) unless told otherwise."""
    return Comment(
        id=new_comment_id(),
        article_id=article_id,
        name="Amina",
        email="amina@example.ma",
        email_hash=email_hash or uuid.uuid4().hex,
        body=body,
        created_at=iso(at),
        **fields,
    )


@pytest.fixture
def scorer(redis: aioredis.Redis, keys: Keys, settings: Settings) -> SpamScorer:
    return SpamScorer(redis, keys, settings)


async def signals_of(scorer: SpamScorer, body: str, **fields: Any) -> tuple[str, ...]:
    return (await scorer.score(make(body, **fields))).signals


def test_to_dict_rounds_the_score_and_lists_the_signals() -> None:
    result = SpamResult(score=0.123456, signals=("links:1", "phone"))
    assert result.to_dict() == {"score": 0.123, "signals": ["links:1", "phone"]}


# --- no signal on ordinary comments -----------------------------------------------------

CLEAN = [
    "Très bon article, merci pour ce travail sur la politique de l'eau.",
    "Great piece on the new stadium, thanks for the reporting.",
    "هذا المقال مفيد جدا وشكرا للكاتب على هذا العمل",
    "wach had l9anon ghadi y7l lmochkil? bzaf dyal nas m9al9in",
    "وااااااو جميـــــــــل بزااااااف هههههههههه الله يحفظكم",
    "hhhhhhhhhh 3la had lmatch, Raja rb7at 3-1 f 2026!!!",
    "Le billet coûte 300 dh, 1 500 000 dh pour le stade, fin le 06.12.2026 à 10:30.",
    "Bravo à l'équipe, c'est cooool ! Merci @Amina_B pour la réponse.",
    "Node.js, e.g. 3.5 %, le fichier rapport.pdf, c'est fini.Ma mère est d'accord.",
    "L'ONU et l'OTAN ont réagi, selon la MAP.",
]


@pytest.mark.parametrize("body", CLEAN)
async def test_ordinary_comments_fire_no_signal(scorer: SpamScorer, body: str) -> None:
    result = await scorer.score(make(body))
    assert result.signals == ()
    assert result.score == 0.0


# --- links ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Source: https://www.hespress.com/politique/123.html", ("links:1",)),
        ("voir example.com/promo", ("links:1",)),
        ("chez www.x.ma demain", ("links:1",)),
        ("http://A.example.com/x et https://a.example.com/y", ("links:2",)),
        ("http://a.example.com https://b.example.org/x", ("links:2", "hosts:2")),
        ("http://host.example:8080/p www.host.example", ("links:2",)),
    ],
)
async def test_links_are_counted_with_their_distinct_hosts(
    scorer: SpamScorer, body: str, expected: tuple[str, ...]
) -> None:
    assert await signals_of(scorer, body) == expected


async def test_an_email_address_is_not_a_link(scorer: SpamScorer) -> None:
    assert await signals_of(scorer, "Écrivez à amina@example.ma") == ("email_in_body",)


@pytest.mark.parametrize(
    "body",
    [
        "Email: privatelender.fast at outlook dot com",
        "écrivez à amina [at] gmail [dot] com",
        "contact: ali(at)yahoo.fr",
        "ali arobase gmail.com",
        "ali @ gmail.com",
        "tout sur promo-maroc(.)ma",
        "visit cheap-pills (dot) com",
    ],
)
async def test_an_address_written_to_get_past_filters_fires(scorer: SpamScorer, body: str) -> None:
    assert "obfuscated" in await signals_of(scorer, body)


@pytest.mark.parametrize(
    "body",
    [
        "I read it at hespress.com this morning",  # a bare "at" before a real link
        "la bulle point com des années 2000",
        "c'est fini . ma fille dit pareil",
        "rendez-vous (at) 18h",
        "Je suis à Rabat (point de vue personnel)",
    ],
)
async def test_at_and_dot_in_ordinary_text_hide_no_address(scorer: SpamScorer, body: str) -> None:
    assert "obfuscated" not in await signals_of(scorer, body)


async def test_the_url_field_is_not_a_link_unless_it_is_a_shortener(scorer: SpamScorer) -> None:
    assert await signals_of(scorer, "Bon article.", url="https://amina.example.ma") == ()
    assert await signals_of(scorer, "Bon article.", url="https://bit.ly/abc") == ("shortener",)


@pytest.mark.parametrize(
    "link", ["bit.ly/abc", "https://tinyurl.com/x", "t.co/x", "goo.gl/x", "https://cutt.ly/x"]
)
async def test_url_shorteners_fire(scorer: SpamScorer, link: str) -> None:
    assert await signals_of(scorer, f"Regardez {link}") == ("links:1", "shortener")


# --- contact bait -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "06 12 34 56 78",
        "0612345678",
        "06-12-34-56-78",
        "0661 23 45 67",
        "+212 6 12 34 56 78",
        "+212612345678",
        "00212 612345678",
        "+33 6 12 34 56 78",
        "+1 (555) 123-4567",
        "٠٦١٢٣٤٥٦٧٨",
        # spaced out to get past filters: one separator, groups of any size
        "0 6 1 2 3 4 5 6 7 8",
        "06/12/34/56/78",
        "0661-234567",
        "06 612 345 67",
        "٠ ٧ ٦ ٢ ٨ ١ ٤ ٩ ٠ ٣",
        "０６１２３４５６７８",  # full-width digits
        "+212 6 6 1 2 3 4 5 6 7",
    ],
)
async def test_phone_numbers_fire(scorer: SpamScorer, number: str) -> None:
    assert await signals_of(scorer, f"Appelez le {number} pour plus d'infos") == ("phone",)


@pytest.mark.parametrize(
    "body",
    [
        *("en 2026", "300 dh", "score 3-1", "1 500 000 dh", "le 05/06/2024", "2019-2026"),
        *("+15 000", "le 05/06/2023 07:30", "2023-2024-2025", "7 - 0 - 5 - 3 - 2 - 1 - 8 - 9"),
        *("10/10/10/10/10/10", "les lois 06-99 et 31-13", "1990 1995 2000 2005 2010"),
    ],
)
async def test_numbers_that_are_not_phones_do_not_fire(scorer: SpamScorer, body: str) -> None:
    assert await signals_of(scorer, body) == ()


@pytest.mark.parametrize("body", ["Rendez-vous sur WhatsApp", "watsap", "whats app", "الواتس"])
async def test_whatsapp_fires(scorer: SpamScorer, body: str) -> None:
    assert await signals_of(scorer, body) == ("whatsapp",)


@pytest.mark.parametrize("body", ["Contactez-moi sur WhatsApp", "راسلني على واتساب"])
async def test_asking_for_a_whatsapp_message_is_two_signals_and_holds(
    scorer: SpamScorer, body: str
) -> None:
    result = await scorer.score(make(body))
    assert result.signals == ("whatsapp", "contact_me")
    assert result.score >= 0.5


async def test_wa_me_links_are_a_link_whatsapp_and_a_phone(scorer: SpamScorer) -> None:
    assert await signals_of(scorer, "wa.me/212612345678") == ("links:1", "phone", "whatsapp")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Gagnez au cаsino en ligne", ("disguised",)),  # Cyrillic а
        ("Gagnez au cαsino en ligne", ("disguised",)),  # Greek alpha
        ("écrivez sur WhatsАpp", ("whatsapp", "disguised")),  # Cyrillic А
        ("écrivez sur what\u200bsapp", ("whatsapp", "disguised")),  # zero-width space
        ("écrivez sur whats\u202eppa", ("disguised",)),  # a right-to-left override
        ("تـ.ـواصـ.ـل مـ.ـعـ.ـنـا لـ.ـلـ.ـحـ.ـصـ.ـول عـ.ـلـى قـ.ـرض", ("disguised",)),
        ("visitez ｃａｓｉｎｏ．ｃｏｍ", ("links:1",)),  # full-width: what a reader sees
        ("écrivez sur 𝐰𝐡𝐚𝐭𝐬𝐚𝐩𝐩", ("whatsapp",)),  # mathematical bold
        ("visitez casino\u200b.com", ("links:1",)),
    ],
)
async def test_words_disguised_to_get_past_filters_are_read_and_named(
    scorer: SpamScorer, body: str, expected: tuple[str, ...]
) -> None:
    assert await signals_of(scorer, body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "Le mot russe мир veut dire paix, et λόγος parole",  # whole words in their script
        "مي\u200cخواهم",  # the zero-width non-joiner between Arabic letters is ordinary
        "جميـــل جدا، شكرا",  # a stretched word
        "Il a dit « non » ; puis — silence.",
        "Family 👨\u200d👩\u200d👧 photo",  # the joiner inside an emoji sequence
    ],
)
async def test_ordinary_text_is_not_disguised(scorer: SpamScorer, body: str) -> None:
    assert "disguised" not in await signals_of(scorer, body)


@pytest.mark.parametrize(
    "body",
    [
        "Vente de numéros VIP, prix à discuter. Appelez-moi.",
        "Pour plus d'infos écrivez-moi en privé",
        "Free giveaways every week, link in bio",
        "DM me for the full list",
        "Envoie ta demande en DM",
        "je vends des followers, ktb lia",
        "للمزيد من المعلومات راسلني",
        "تواصلوا معنا للحصول على قرض",
        "صيفط ليا ونعطيك الثمن",
        "كريدي بلا كفيل، صيفط الاسم والمبلغ فالخاص",  # "in private"
        "الثمن في الخاص",
        "chi wa7ed bgha l'prix, f lkhas",
    ],
)
async def test_asking_to_be_contacted_elsewhere_fires(scorer: SpamScorer, body: str) -> None:
    assert "contact_me" in await signals_of(scorer, body)


@pytest.mark.parametrize(
    "body",
    [
        "Écrivez au ministère, c'est la seule solution.",
        "Write to your MP about it.",
        "Dmitri Medvedev a encore parlé.",
        "Les inboxes des administrations débordent.",
        "Mon fils a un DM de maths pour lundi.",  # a "devoir maison"
        "كتب المقال صحفي محترم",
    ],
)
async def test_ordinary_advice_is_no_contact_request(scorer: SpamScorer, body: str) -> None:
    assert "contact_me" not in await signals_of(scorer, body)


async def test_what_app_is_not_whatsapp(scorer: SpamScorer) -> None:
    assert await signals_of(scorer, "What app do you use to read the news?") == ()


async def test_telegram_fires_and_a_handle_counts_only_next_to_it(scorer: SpamScorer) -> None:
    assert await signals_of(scorer, "Rejoignez notre groupe telegram") == ("telegram",)
    assert await signals_of(scorer, "تابعونا على تيليجرام") == ("telegram",)
    assert await signals_of(scorer, "Telegram: @promo_cash") == ("telegram", "handle")
    assert await signals_of(scorer, "t.me/promo_cash") == ("links:1", "telegram")
    assert await signals_of(scorer, "Bien dit @Amina_B") == ()


# --- style ------------------------------------------------------------------------------


async def test_shouting_fires_on_mostly_capital_latin_letters(scorer: SpamScorer) -> None:
    assert await signals_of(scorer, "C'EST UNE HONTE TOTALE, CE GOUVERNEMENT") == ("shouting",)
    assert await signals_of(scorer, "OK MERCI") == ()  # too few letters to judge
    assert await signals_of(scorer, "هذا عار على الحكومة " * 3) == ()


@pytest.mark.parametrize("body", ["Incroyable!!!!!!!!", "loooooool", "$$$$$$ gratuit"])
async def test_repeated_characters_fire(scorer: SpamScorer, body: str) -> None:
    assert await signals_of(scorer, body) == ("repeated_chars",)


@pytest.mark.parametrize("body", ["Incroyable !!!", "Noooon", "جميـــــــــل", "هههههههههههه"])
async def test_short_runs_and_arabic_stretching_do_not_fire(scorer: SpamScorer, body: str) -> None:
    assert await signals_of(scorer, body) == ()


# --- the form ---------------------------------------------------------------------------


async def test_a_filled_honeypot_fires(scorer: SpamScorer) -> None:
    assert await signals_of(scorer, "Bon article.", honeypot="http://x") == ("honeypot",)
    assert await signals_of(scorer, "Bon article.", honeypot="") == ()
    assert await signals_of(scorer, "Bon article.", honeypot="  ") == ()


async def test_a_form_sent_faster_than_a_person_types_fires(scorer: SpamScorer) -> None:
    short = "Bon article."
    long = "Un commentaire plus long. " * 12  # 312 characters
    assert await signals_of(scorer, short, at=10, form_rendered_at=iso(8.5)) == ("fast_form:1s",)
    assert await signals_of(scorer, short, at=10, form_rendered_at=iso(0)) == ()
    # The time needed grows with the length of the body.
    assert await signals_of(scorer, long, at=10, form_rendered_at=iso(2)) == ("fast_form:8s",)
    other = "Un autre commentaire, plus long. " * 10
    assert await signals_of(scorer, other, at=30, form_rendered_at=iso(2)) == ()
    # Seconds since 1970 are understood; a form rendered "after" the comment is no judgement.
    rendered = str((BASE + timedelta(seconds=9)).timestamp())
    assert await signals_of(scorer, short, at=10, form_rendered_at=rendered) == ("fast_form:1s",)
    assert await signals_of(scorer, short, at=10, form_rendered_at=iso(20)) == ()
    assert await signals_of(scorer, short, at=10) == ()


# --- repeated bodies --------------------------------------------------------------------

PROMO = "Découvrez notre offre exceptionnelle pour gagner de l'argent"


async def test_the_same_body_on_other_articles_fires_repeated_body(scorer: SpamScorer) -> None:
    first = await scorer.score(make(PROMO, article_id="a-1"))
    second = await scorer.score(make(PROMO.upper(), article_id="a-2", at=60))
    third = await scorer.score(make(f"  {PROMO}\n\n ", article_id="a-3", at=120))
    assert "repeated_body:1" in second.signals
    assert third.signals == ("repeated_body:2",)
    assert first.signals == ()
    assert third.score == pytest.approx(1 - (1 - WEIGHTS["repeated_body"]) ** 2)


async def test_a_wave_with_look_alike_letters_is_one_body(scorer: SpamScorer) -> None:
    await scorer.score(make(PROMO, article_id="a-1"))
    disguised = PROMO.replace("o", "о", 2).replace("argent", "arg\u200bent")  # Cyrillic о
    second = await scorer.score(make(disguised, article_id="a-2", at=60))
    assert "repeated_body:1" in second.signals


async def test_a_body_outside_the_window_is_not_counted(
    scorer: SpamScorer, settings: Settings
) -> None:
    await scorer.score(make(PROMO))
    later = await scorer.score(make(PROMO, at=settings.spam_window_s + 1))
    assert later.signals == ()


async def test_short_bodies_are_not_counted_as_repeated(scorer: SpamScorer) -> None:
    condolence = "إنا لله وإنا إليه راجعون"
    for i in range(3):
        assert await signals_of(scorer, condolence, at=i) == ()


# --- bursts -----------------------------------------------------------------------------


async def test_more_than_burst_limit_from_one_email_fires(
    scorer: SpamScorer, settings: Settings
) -> None:
    email_hash = uuid.uuid4().hex
    results = [
        await scorer.score(make(f"Commentaire numéro {i}.", at=i * 10, email_hash=email_hash))
        for i in range(settings.burst_limit + 2)
    ]
    assert [r.signals for r in results[: settings.burst_limit]] == [()] * settings.burst_limit
    assert results[-2].signals == (f"burst_email:{settings.burst_limit + 1}",)
    assert results[-1].signals == (f"burst_email:{settings.burst_limit + 2}",)


async def test_a_burst_from_one_ip_fires_and_ipv6_counts_by_64(
    scorer: SpamScorer, settings: Settings
) -> None:
    limit = settings.burst_limit
    for i in range(limit):
        await scorer.score(make(f"Avis {i}", at=i, ip="196.200.131.7"))
    assert await signals_of(scorer, "Encore", at=9, ip="196.200.131.7") == (
        f"burst_ip:{limit + 1}",
    )
    assert await signals_of(scorer, "Ailleurs", at=9, ip="196.200.131.8") == ()
    for i in range(limit):
        await scorer.score(make(f"Avis {i}", at=i, ip=f"2a01:e0a:1:2::{i + 1}"))
    assert await signals_of(scorer, "Encore", at=9, ip="2a01:e0a:1:2:ffff::9") == (
        f"burst_ip:{limit + 1}",
    )


async def test_comments_spread_over_more_than_the_window_are_no_burst(
    scorer: SpamScorer, settings: Settings
) -> None:
    email_hash = uuid.uuid4().hex
    step = settings.burst_window_s / settings.burst_limit + 1
    for i in range(settings.burst_limit * 3):
        result = await scorer.score(make(f"Avis {i}", at=i * step, email_hash=email_hash))
        assert result.signals == ()


async def test_counters_expire_with_their_window(
    scorer: SpamScorer, redis: aioredis.Redis, settings: Settings
) -> None:
    await scorer.score(make(PROMO, ip="196.200.131.7"))
    keys = [key async for key in redis.scan_iter(f"{settings.key_prefix}:spam:*")]
    assert len(keys) == 3  # body, e-mail, IP
    for key in keys:
        ttl = await redis.ttl(key)
        assert 0 < ttl <= max(settings.spam_window_s, settings.burst_window_s)
    assert not any("196.200" in key for key in keys)


# --- idempotence ------------------------------------------------------------------------


async def test_scoring_the_same_comment_again_counts_it_once(
    scorer: SpamScorer, redis: aioredis.Redis, keys: Keys, settings: Settings
) -> None:
    email_hash = uuid.uuid4().hex
    comments = [
        make(PROMO, at=i, email_hash=email_hash, article_id=f"a-{i}")
        for i in range(settings.burst_limit + 1)
    ]
    first = [await scorer.score(comment) for comment in comments]
    again = [await scorer.score(comment) for comment in comments]
    again_batch = await scorer.score_many(comments)
    assert first == again == again_batch
    assert first[-1].signals == (
        f"repeated_body:{settings.burst_limit}",
        f"burst_email:{settings.burst_limit + 1}",
    )
    assert await redis.zcard(keys.spam_recent("email", email_hash)) == len(comments)


# --- the Bayesian model -----------------------------------------------------------------

SPAM = [
    "Gagnez de l'argent facile avec notre casino en ligne, bonus gratuit",
    "Casino en ligne: bonus gratuit, gagnez de l'argent facile ce soir",
    "Crypto trading: gagnez de l'argent facile, bonus gratuit garanti",
    "Bonus gratuit au casino, argent facile et rapide, inscrivez-vous",
    "Argent facile: casino crypto bonus gratuit, gagnez chaque jour",
    "اربح المال بسهولة في الكازينو مع مكافأة مجانية",
]
HAM = [
    "Le gouvernement doit expliquer la réforme de l'eau aux agriculteurs",
    "Article clair sur la réforme, merci au journaliste pour ce travail",
    "La réforme des retraites mérite un vrai débat au parlement",
    "Merci pour cet article sur l'eau, les agriculteurs souffrent",
    "Le parlement a voté la réforme, reste à voir son application",
    "شكرا على هذا المقال حول إصلاح الماء والفلاحة",
]


async def test_learning_trains_the_bayesian_model(
    scorer: SpamScorer, redis: aioredis.Redis, keys: Keys
) -> None:
    spam_like = "Bonus gratuit: gagnez de l'argent facile au casino"
    ham_like = "Merci pour cet article clair sur la réforme de l'eau"
    for text in SPAM[: BAYES_MIN_EXAMPLES - 1]:
        await scorer.learn(text, spam=True)
    for text in HAM:
        await scorer.learn(text, spam=False)
    assert not any(s.startswith("bayes") for s in await signals_of(scorer, spam_like))

    for text in SPAM[BAYES_MIN_EXAMPLES - 1 :]:
        await scorer.learn(text, spam=True)
    assert await redis.hgetall(keys.spam_totals) == {"spam": "6", "ham": "6"}
    assert await redis.hget(keys.spam_tokens("spam"), "casino") == "4"

    spam_signals = await signals_of(scorer, f"Ce soir: {spam_like}")
    assert len(spam_signals) == 1
    assert spam_signals[0].startswith("bayes:")
    assert float(spam_signals[0].split(":")[1]) >= 0.9
    assert await signals_of(scorer, ham_like) == ()
    # Arabic script is tokenised too (with diacritics and letter variants folded).
    assert (await signals_of(scorer, "اربح المال في الكازينو، مكافأة مجانيّة"))[0].startswith(
        "bayes:"
    )
    assert await signals_of(scorer, "شكرا على المقال حول الماء") == ()


async def test_an_untrained_model_stays_silent(scorer: SpamScorer) -> None:
    await scorer.learn(SPAM[0], spam=True)
    assert await signals_of(scorer, SPAM[0]) == ()


# --- batches ----------------------------------------------------------------------------


async def test_score_many_equals_score_one_by_one(
    redis: aioredis.Redis, settings: Settings
) -> None:
    one_by_one = SpamScorer(redis, Keys(f"{settings.key_prefix}:one"), settings)
    batched = SpamScorer(redis, Keys(f"{settings.key_prefix}:batch"), settings)
    for scorer in (one_by_one, batched):
        for text in SPAM[:5]:
            await scorer.learn(text, spam=True)
        for text in HAM[:5]:
            await scorer.learn(text, spam=False)
    email_hash = uuid.uuid4().hex
    comments = [
        make(PROMO, at=i, email_hash=email_hash, article_id=f"a-{i}", ip="196.200.131.7")
        for i in range(settings.burst_limit + 2)
    ]
    comments += [
        make(body, at=10 + i, url="https://bit.ly/x", form_rendered_at=iso(9))
        for i, body in enumerate([*CLEAN[:3], *SPAM[:2], "Appelez le 0612345678"])
    ]
    expected = [await one_by_one.score(comment) for comment in comments]
    assert await batched.score_many(comments) == expected
    assert await batched.score_many([]) == []


async def test_score_many_makes_one_round_trip(
    scorer: SpamScorer, redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipelines: list[bool] = []
    direct: list[object] = []
    make_pipeline = redis.pipeline

    def pipeline(transaction: bool = True, shard_hint: str | None = None) -> Any:
        pipelines.append(transaction)
        return make_pipeline(transaction=transaction, shard_hint=shard_hint)

    async def execute_command(*args: object, **options: object) -> object:
        direct.append(args)
        raise AssertionError("a command outside the pipeline")

    monkeypatch.setattr(redis, "pipeline", pipeline)
    monkeypatch.setattr(redis, "execute_command", execute_command)
    results = await scorer.score_many([make(body, ip="10.0.0.1") for body in [*CLEAN, *SPAM]])
    assert len(results) == len(CLEAN) + len(SPAM)
    assert pipelines == [False]
    assert direct == []


# --- calibration ------------------------------------------------------------------------

THREE_LINKS_WHATSAPP = (
    "Gagnez de l'argent vite! http://promo.example.com/a http://cash.example.net/b "
    "https://win.example.org/c WhatsApp +212 6 12 34 56 78"
)


async def test_a_normal_comment_with_one_news_link_scores_low(scorer: SpamScorer) -> None:
    body = "Le chiffre est confirmé ici : https://www.hespress.com/economie/123.html"
    result = await scorer.score(make(body))
    assert result.signals == ("links:1",)
    assert result.score < 0.3


@pytest.mark.parametrize("body", CLEAN[2:5])
async def test_clean_arabic_and_darija_score_low(scorer: SpamScorer, body: str) -> None:
    assert (await scorer.score(make(body))).score < 0.3


async def test_three_links_and_a_whatsapp_number_is_held(
    scorer: SpamScorer, settings: Settings
) -> None:
    result = await scorer.score(make(THREE_LINKS_WHATSAPP))
    assert result.signals == ("links:3", "hosts:3", "phone", "whatsapp")
    assert settings.spam_hold_threshold <= result.score < settings.spam_reject_threshold


async def test_three_links_on_one_host_and_a_whatsapp_number_is_held(
    scorer: SpamScorer, settings: Settings
) -> None:
    body = "http://promo.example.com/a http://promo.example.com/b http://promo.example.com/c"
    result = await scorer.score(make(f"{body} watsap 0612345678"))
    assert result.signals == ("links:3", "phone", "whatsapp")
    assert result.score >= settings.spam_hold_threshold


async def test_adding_a_shortener_a_phone_and_the_honeypot_is_near_certain(
    scorer: SpamScorer, settings: Settings
) -> None:
    body = f"{THREE_LINKS_WHATSAPP} bit.ly/gain ou appelez 0612345678"
    result = await scorer.score(make(body, honeypot="yes"))
    assert result.signals == ("links:4", "hosts:4", "shortener", "phone", "whatsapp", "honeypot")
    assert result.score >= settings.spam_reject_threshold


async def test_the_honeypot_alone_is_held_not_rejected(
    scorer: SpamScorer, settings: Settings
) -> None:
    result = await scorer.score(make("Bon article.", honeypot="x"))
    assert settings.spam_hold_threshold <= result.score < settings.spam_reject_threshold


async def test_shouting_with_repeated_characters_is_not_spam(
    scorer: SpamScorer, settings: Settings
) -> None:
    result = await scorer.score(make("C'EST UNE HONTE TOTALE CE GOUVERNEMENT!!!!!!!!"))
    assert result.signals == ("shouting", "repeated_chars")
    assert result.score < settings.spam_hold_threshold


async def test_thresholds_come_from_settings(redis: aioredis.Redis, settings: Settings) -> None:
    """A lower burst limit fires sooner (the scorer reads its limits from settings)."""
    strict = replace(settings, burst_limit=1)
    scorer = SpamScorer(redis, Keys(settings.key_prefix), strict)
    email_hash = uuid.uuid4().hex
    assert (await scorer.score(make("Un.", email_hash=email_hash))).signals == ()
    second = await scorer.score(make("Deux.", at=1, email_hash=email_hash))
    assert second.signals == ("burst_email:2",)


def test_the_punctuation_after_a_link_is_not_its_host() -> None:
    """One site written twice is one host: "https://men.gov.ma, puis men.gov.ma"."""
    text = "Voir https://men.gov.ma, puis men.gov.ma; et https://www.hcp.ma! ou https://cnss.ma،"
    assert link_hosts(text) == ["men.gov.ma", "men.gov.ma", "hcp.ma", "cnss.ma"]


def test_every_signal_reads_as_words_on_the_page_in_each_language() -> None:
    """The moderators' page shows each signal as a sentence (`strings.js`: French,
    English, Arabic): a new signal without one would show as its code."""
    strings = (Path(__file__).parent.parent / "moderator/web/static/strings.js").read_text()
    for name in WEIGHTS:
        assert strings.count(f"    signal_{name}: ") == 3, name
