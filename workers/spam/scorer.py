"""Explainable spam score: every signal that fired is named, weighted and combined.

Signals come from the text (links, contact bait, style), from the form (honeypot,
typing time), from counters in Redis (the same body posted again, bursts from one
e-mail or IP) and from a Bayesian model that moderators' decisions train. Each
signal has one weight in `WEIGHTS`, and the score is their noisy-OR,

    score = 1 - Π (1 - w_i) ** n_i

as if each signal were independent evidence of spam. A counted signal is n pieces
of evidence: `links:3` is three, `hosts:3` two (the hosts beyond the first),
`repeated_body:2` two. Nothing fired means 0; the score never reaches 1.

Choices:
- The `url` field (the commenter's website on WordPress forms) is not counted as
  a link; only a URL shortener there fires `shortener`.
- A bare domain ("example.com/promo") counts as a link when its top-level domain
  is in `BARE_TLDS` and written in lower case ("fini.Ma mère" is a typo, not a link).
- Repeated bodies count only from `MIN_REPEAT_CHARS` normalised characters: short
  condolences and "bravo" are repeated by honest readers.
- Counters are sorted sets of comment ids scored by `created_at` and counted over
  (created_at - window, created_at]: scoring a comment again (a redelivery) neither
  counts it twice nor changes its result. Redis errors propagate unchanged.
- Bursts from one IP count IPv6 addresses by /64; the IP is keyed-hashed in key names.
- The Bayesian model only adds to the score ("bayes:0.97"); it never lowers it.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from moderator.domain import Comment
from moderator.keys import Keys
from moderator.logs import ip_digest
from moderator.settings import Settings

# signal name → weight in the noisy-OR (per piece of evidence for counted signals)
WEIGHTS: Final[Mapping[str, float]] = MappingProxyType(
    {
        "links": 0.10,  # per link in the body
        "hosts": 0.10,  # per distinct host beyond the first
        "shortener": 0.50,  # bit.ly & co. in the body or the url field
        "phone": 0.30,  # a Moroccan or international phone number
        "whatsapp": 0.30,  # whatsapp, wa.me, watsap, واتساب
        "telegram": 0.30,  # telegram, t.me, تيليجرام
        "handle": 0.30,  # an @handle next to a Telegram mention
        "email_in_body": 0.20,
        "shouting": 0.15,  # mostly capitals (Latin letters)
        "repeated_chars": 0.10,  # "!!!!!!", "looooool"
        "honeypot": 0.90,  # the field hidden from people was filled
        "fast_form": 0.45,  # sent faster than a person types
        "repeated_body": 0.30,  # per other recent comment with the same body
        "burst_email": 0.40,  # more than burst_limit comments from one e-mail
        "burst_ip": 0.30,  # … from one IP (weaker: mobile carriers share IPs)
        "bayes": 0.60,  # the trained model says spam with confidence
    }
)

MIN_REPEAT_CHARS: Final = 30
SHOUT_MIN_LETTERS: Final = 20
SHOUT_MIN_UPPER_RATIO: Final = 0.7
FAST_FORM_BASE_S: Final = 2.0  # plus one second per FAST_FORM_CHARS_PER_S characters
FAST_FORM_CHARS_PER_S: Final = 20
FAST_FORM_MAX_S: Final = 15.0
BAYES_MIN_EXAMPLES: Final = 5  # of each label before the model is used
BAYES_FIRES_AT: Final = 0.9
BAYES_MAX_CLUES: Final = 15  # the most interesting tokens
BAYES_MIN_DEVIATION: Final = 0.1  # |f - 0.5| below this is no clue
BAYES_PRIOR_STRENGTH: Final = 1.0  # Robinson's s, with x = 0.5
MAX_TOKENS: Final = 200


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SHORTENERS: Final = _words(
    """
    bit.ly bitly.com tinyurl.com t.co goo.gl ow.ly is.gd v.gd cutt.ly rebrand.ly buff.ly
    shorturl.at rb.gy tiny.cc t.ly s.id lnkd.in adf.ly shorte.st bl.ink short.io qrco.de
    clck.ru u.to surl.li urlz.fr linktr.ee
    """
)
BARE_TLDS: Final = _words(
    """
    com net org info biz ma fr me io co ly gl gd cc ws xyz top site online shop store
    club live app dev tv link click win bid vip pro news blog ru cn tk ml ga cf gq ae sa
    eg dz tn uk us eu ca ch nl pl tr
    """
)

_LINK_RE = re.compile(
    r"""(?<![\w@./-])
    (?: (?P<scheme>https?://)(?P<authority>[^\s/?#<>"'()\[\]{}]+)
      | (?P<host>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?P<tld>[a-z]{2,24}))(?![\w@-])
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_PHONE_RE = re.compile(
    r"""(?<![0-9+])
    (?: 0[5-7](?P<sep>[ .-]?)[0-9]{2}(?:(?P=sep)[0-9]{2}){3}   # 06 12 34 56 78, 0612345678
      | 0[5-7][0-9]{2}(?P<sep4>[ .-]?)[0-9]{2}(?:(?P=sep4)[0-9]{2}){2}  # 0661 23 45 67
      | (?:\+|00)[1-9](?:[ .-]?\(?[0-9]\)?){8,14}              # +212 6 12…, 0033 6…, +1 (555)…
      | 212[ .-]?[5-7](?:[ .-]?[0-9]){8}                       # 212612345678 (wa.me/212…)
    )(?![0-9])""",
    re.VERBOSE,
)
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_WHATSAPP_RE = re.compile(r"\b(?:wh?ats\s?app?|whatapp|wtsp|wa\.me)\b|واتس|وتساب", re.I)
_TELEGRAM_RE = re.compile(r"\b(?:telegram|t\.me)\b|تي?لي?[جغك]رام", re.I)
_HANDLE_RE = re.compile(r"(?<![\w@.])@[a-z][a-z0-9_]{4,31}\b", re.I)
# Starts only where a run of address characters starts, and the local part is
# possessive: otherwise each position of a long run is a new start (quadratic).
_EMAIL_RE = re.compile(
    r"(?<![a-z0-9._%+-])[a-z0-9._%+-]++@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}", re.I
)
# Six of one Latin letter or "!?$€*"; not h ("hhhhhh" is Darija laughter), not Arabic script.
_REPEATED_RE = re.compile(r"([a-gi-z!?$€*])\1{5,}", re.I)
_ARABIC_MARKS_RE = re.compile("[\u064b-\u065f\u0670\u0640]")  # harakat, dagger alef, tatweel
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_WORD_RE = re.compile(r"\w+")
_RUN_RE = re.compile(r"(.)\1{2,}")

Evidence = tuple[str, float]  # (signal as shown, its weight in the noisy-OR)


@dataclass(frozen=True, slots=True)
class SpamResult:
    score: float  # 0..1
    signals: tuple[str, ...]  # each signal that fired, e.g. "links:3", "bayes:0.97"

    def to_dict(self) -> dict[str, object]:
        return {"score": round(self.score, 3), "signals": list(self.signals)}


def _fire(name: str, detail: object = None, times: int = 1) -> Evidence:
    label = name if detail is None else f"{name}:{detail}"
    return label, 1.0 - (1.0 - WEIGHTS[name]) ** times


def combine(evidence: Sequence[Evidence]) -> SpamResult:
    """Noisy-OR of the weights; the signals in the order they were found."""
    keep = 1.0
    for _, weight in evidence:
        keep *= 1.0 - weight
    return SpamResult(score=1.0 - keep, signals=tuple(label for label, _ in evidence))


# --- the text ---------------------------------------------------------------------------


def link_hosts(text: str) -> list[str]:
    """The host of each link in `text`, lower case, without "www."."""
    hosts = []
    for match in _LINK_RE.finditer(text):
        if match["scheme"]:
            host = match["authority"].rpartition("@")[2].split(":")[0]
        else:
            host, tld = match["host"], match["tld"]
            bare = not host.lower().startswith("www.")
            if bare and (tld != tld.lower() or tld not in BARE_TLDS):
                continue
        host = host.lower().strip(".").removeprefix("www.")
        if host:
            hosts.append(host)
    return hosts


def _is_shortener(host: str) -> bool:
    return any(host == s or host.endswith("." + s) for s in SHORTENERS)


def _link_evidence(body: str, url: str | None) -> list[Evidence]:
    hosts = link_hosts(body)
    evidence = []
    if hosts:
        evidence.append(_fire("links", len(hosts), times=len(hosts)))
    distinct = len(set(hosts))
    if distinct > 1:
        evidence.append(_fire("hosts", distinct, times=distinct - 1))
    if any(_is_shortener(host) for host in [*hosts, *link_hosts(url or "")]):
        evidence.append(_fire("shortener"))
    return evidence


def _contact_evidence(body: str) -> list[Evidence]:
    evidence = []
    if _PHONE_RE.search(body.translate(_DIGITS)):
        evidence.append(_fire("phone"))
    if _WHATSAPP_RE.search(body):
        evidence.append(_fire("whatsapp"))
    if _TELEGRAM_RE.search(body):
        evidence.append(_fire("telegram"))
        if _HANDLE_RE.search(body):
            evidence.append(_fire("handle"))
    if _EMAIL_RE.search(body):
        evidence.append(_fire("email_in_body"))
    return evidence


def _is_shouting(text: str) -> bool:
    upper = lower = 0
    for char in text:
        if char < "\u0250" and char.isalpha():  # Latin letters only
            upper += char.isupper()
            lower += char.islower()
    letters = upper + lower
    return letters >= SHOUT_MIN_LETTERS and upper >= SHOUT_MIN_UPPER_RATIO * letters


def _style_evidence(body: str) -> list[Evidence]:
    evidence = []
    if _is_shouting(body):
        evidence.append(_fire("shouting"))
    if _REPEATED_RE.search(body):
        evidence.append(_fire("repeated_chars"))
    return evidence


def _epoch(value: str) -> float | None:
    """Seconds since 1970 of an ISO 8601 time (naive means UTC) or of a number."""
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        return number if math.isfinite(number) else None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _form_evidence(comment: Comment) -> list[Evidence]:
    evidence = []
    if comment.honeypot and comment.honeypot.strip():
        evidence.append(_fire("honeypot"))
    rendered = _epoch(comment.form_rendered_at) if comment.form_rendered_at else None
    created = _epoch(comment.created_at)
    if rendered is not None and created is not None:
        elapsed = created - rendered  # negative: the site's clock is off, no judgement
        needed = FAST_FORM_BASE_S + len(comment.body) / FAST_FORM_CHARS_PER_S
        if 0 <= elapsed < min(needed, FAST_FORM_MAX_S):
            evidence.append(_fire("fast_form", f"{int(elapsed)}s"))
    return evidence


def text_evidence(comment: Comment) -> list[Evidence]:
    """Every signal that needs nothing but the comment itself."""
    return [
        *_link_evidence(comment.body, comment.url),
        *_contact_evidence(comment.body),
        *_style_evidence(comment.body),
        *_form_evidence(comment),
    ]


def normalise(text: str) -> str:
    """NFKC, case-folded, without invisible format characters, Arabic diacritics or
    tatweel, alef/yaa/taa marbuta variants folded, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return " ".join(_ARABIC_MARKS_RE.sub("", text).translate(_ARABIC_FOLD).split())


def tokens(text: str) -> list[str]:
    """Distinct tokens for the Bayesian model: the hosts of links ("host:example.com"),
    then words of two or more characters with a letter, runs of a letter cut to two."""
    found = dict.fromkeys(f"host:{host}" for host in link_hosts(text))
    for word in _WORD_RE.findall(normalise(text)):
        word = _RUN_RE.sub(r"\1\1", word)
        if 2 <= len(word) <= 40 and any(char.isalpha() for char in word):
            found[word] = None
    return list(found)[:MAX_TOKENS]


# --- the Bayesian model -----------------------------------------------------------------


def _chi2q(chi2: float, dof: int) -> float:
    """P(X ≥ chi2) for a chi-squared variable with an even number of degrees of freedom."""
    m = chi2 / 2.0
    term = total = math.exp(-m)
    for i in range(1, dof // 2):
        term *= m / i
        total += term
    return min(total, 1.0)


def bayes_probability(counts: Sequence[tuple[int, int]], spam_total: int, ham_total: int) -> float:
    """Robinson's combination of (spam, ham) token counts: each token's f(w) with
    prior strength s and x = 0.5, then Fisher's inverse chi-squared over the most
    interesting tokens. 0.5 when no token is a clue."""
    clues = []
    for spam, ham in counts:
        if spam + ham == 0:
            continue
        spamminess = min(1.0, spam / spam_total)
        p = spamminess / (spamminess + min(1.0, ham / ham_total))
        n = spam + ham
        f = (BAYES_PRIOR_STRENGTH * 0.5 + n * p) / (BAYES_PRIOR_STRENGTH + n)
        if abs(f - 0.5) >= BAYES_MIN_DEVIATION:
            clues.append(f)
    clues = sorted(clues, key=lambda f: abs(f - 0.5), reverse=True)[:BAYES_MAX_CLUES]
    if not clues:
        return 0.5
    dof = 2 * len(clues)
    spam_side = 1.0 - _chi2q(-2.0 * sum(math.log(1.0 - f) for f in clues), dof)
    ham_side = 1.0 - _chi2q(-2.0 * sum(math.log(f) for f in clues), dof)
    return (1.0 + spam_side - ham_side) / 2.0


# --- the scorer -------------------------------------------------------------------------


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
        tokens=tuple(tokens(comment.body)),
        body=normalise(comment.body),
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
    spam_total, ham_total = totals
    if min(spam_total, ham_total) < BAYES_MIN_EXAMPLES:
        return []
    counts = [(int(s or 0), int(h or 0)) for s, h in zip(spam_counts, ham_counts, strict=True)]
    probability = bayes_probability(counts, spam_total, ham_total)
    if probability < BAYES_FIRES_AT:
        return []
    return [_fire("bayes", f"{probability:.2f}")]


class SpamScorer:
    def __init__(self, redis: aioredis.Redis, keys: Keys, settings: Settings) -> None:
        self._redis = redis
        self._keys = keys
        self._settings = settings
        self._ip_key = (settings.hash_key or "").encode()

    async def score(self, comment: Comment) -> SpamResult:
        return (await self.score_many([comment]))[0]

    async def score_many(
        self, comments: Sequence[Comment], signals: Sequence[TextSignals] | None = None
    ) -> list[SpamResult]:
        """Score a batch in one Redis round trip, recording each comment in the counters.
        `signals`: each comment's `text_signals`, when the caller has them already."""
        if not comments:
            return []
        if signals is None:
            signals = [text_signals(comment) for comment in comments]
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
                    *self._counter_evidence(plan, replies),
                    *_bayes_evidence(plan, replies, totals),
                ]
            )
            for plan in plans
        ]

    async def learn(self, text: str, *, spam: bool) -> None:
        """A moderator's decision: count the text's tokens under spam or ham."""
        label = "spam" if spam else "ham"
        async with self._redis.pipeline(transaction=True) as pipe:
            for token in tokens(text):
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
        at = _epoch(comment.created_at)
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
                evidence.append(_fire("repeated_body", count - 1, times=count - 1))
            elif kind != "body" and count > limit:
                evidence.append(_fire(f"burst_{kind}", count))
        return evidence

    def _ip_digest(self, ip: str) -> str:
        return ip_digest(self._ip_key, ip)
