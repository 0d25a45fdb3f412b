"""The spam signals of a comment's own text and form, their weights, and how they combine.

Every signal that fired is named and weighted, and the score is their noisy-OR,

    score = 1 - Π (1 - w_i) ** n_i

as if each signal were independent evidence of spam. A counted signal is n pieces
of evidence: `links:3` is three, `hosts:3` two (the hosts beyond the first),
`repeated_body:2` two. Nothing fired means 0; the score never reaches 1. This
module finds the signals that need nothing but the comment (`text_evidence`);
`workers.spam.scorer` adds those of the counters in Redis and of the Bayesian
model (`workers.spam.bayes`).

Choices:
- The `url` field (the commenter's website on WordPress forms) is not counted as
  a link; only a URL shortener there fires `shortener`.
- A bare domain ("example.com/promo") counts as a link when its top-level domain
  is in `BARE_TLDS` and written in lower case ("fini.Ma mère" is a typo, not a link).
- Links and contacts are looked for in the text as a reader sees it
  (`workers.folding.readable`): "ｃａｓｉｎｏ．ｃｏｍ", "what\u200bsapp" and "Whatsаpp"
  with a Cyrillic а are what they look like. Writing them so is a signal of its own
  (`disguised`): a word that mixes Latin letters with Cyrillic or Greek look-alikes,
  or that an invisible character or punctuation between tatweels ("تـ.ـواصـ.ـل")
  cuts.
- A phone number is also found written with one separator repeated between groups
  of any size ("0 6 1 2 3 4 5 6 7 8", "06/12/34/56/78", "0661-234567"), as long as
  its digits make a Moroccan or international number; a date and a time ("05/06/2023
  07") change separator and are not one.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Final

from moderator.domain import Comment
from workers.folding import (
    cuts_words,
    fold_alef_ya_taa,
    mixes_scripts,
    readable,
    without_harakat,
)

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
        "contact_me": 0.30,  # "écrivez-moi", "DM me", "link in bio", "ktb lia", "راسلني"
        "email_in_body": 0.20,
        "obfuscated": 0.50,  # an address written to get past filters: "x at gmail dot com"
        "disguised": 0.50,  # words written to get past filters: "cаsino" (Cyrillic а)
        "shouting": 0.15,  # mostly capitals (Latin letters)
        "repeated_chars": 0.10,  # "!!!!!!", "looooool"
        "honeypot": 0.90,  # the field hidden from people was filled
        "fast_form": 0.45,  # sent faster than a person types
        "repeated_body": 0.30,  # per other recent comment with the same body
        "burst_email": 0.40,  # more than burst_limit comments from one e-mail
        "burst_ip": 0.30,  # … from one IP (weaker: mobile carriers share IPs)
        "bayes": 0.60,  # the trained model says spam with confidence
        "content": 0.60,  # the site model reads spam in the text (per piece, two when strong)
        # … at half that evidence: alone under the hold threshold, beside another signal
        # (a number, a link, a repeat) above it.
        "content_weak": 0.45,
    }
)


SHOUT_MIN_LETTERS: Final = 20
SHOUT_MIN_UPPER_RATIO: Final = 0.7
FAST_FORM_BASE_S: Final = 2.0  # plus one second per FAST_FORM_CHARS_PER_S characters
FAST_FORM_CHARS_PER_S: Final = 20
FAST_FORM_MAX_S: Final = 15.0


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
# Digits in groups, one separator repeated between them (checked by `_is_phone_number`).
_SPACED_DIGITS_RE = re.compile(
    r"(?<![0-9])(?:\+|00)?[0-9]+(?P<sep>[ ./-]|\s?-\s?)[0-9]+(?:(?P=sep)[0-9]+)*"
)
# Moroccan numbers: 06…, 212 6…, 212 (0) 6…
_MOROCCAN_RE = re.compile(r"(?:0|212|2120)[5-7][0-9]{8}")
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_WHATSAPP_RE = re.compile(r"\b(?:wh?ats\s?app?|whatapp|wtsp|wa\.me)\b|واتس|وتساب", re.I)
_TELEGRAM_RE = re.compile(r"\b(?:telegram|t\.me)\b|تي?لي?[جغك]رام", re.I)
_HANDLE_RE = re.compile(r"(?<![\w@.])@[a-z][a-z0-9_]{4,31}\b", re.I)
# A reader asked to get in touch elsewhere, in each language the site receives: what
# a seller writes, not a reader answering another ("write to the ministry"), and "in
# private" ("فالخاص", "f lkhas": the price, the details, "send your name in private").
_CONTACT_ME_RE = re.compile(
    r"""\b(?:
        (?:contacte[zr]?|appele[zr]?|[ée]cri(?:ve)?[zs]?|envoye[zr]?)[- ]moi|mp\s+moi
      | en\s+(?:mp|priv[ée])|lien\s+en\s+bio
      | (?:contact|call|text|dm|message|inbox)\s+(?:me|us)|write\s+to\s+(?:me|us|her|him)
      | link\s+in\s+(?:my\s+)?bio|inbox|(?:en|par|in|on|via|f)\s+dm
      | (?:ktb|kteb|sift|sayft|3ayet|3iyet)\s*lia|twasel\s*m3a(?:ya|na)
      | f\s?l?(?:kh|5)ass?
    )\b
    | تواصل(?:وا)?\s+(?:معي|معنا|معايا)|راسل(?:ني|ونا|وني)|اتصل(?:وا)?\s+(?:بي|بنا)
    | (?:صيفط|كتب|عيط)(?:و)?\s+ليا|(?:في\s+|ف\s?)الخاص\b""",
    re.IGNORECASE | re.VERBOSE,
)
# Starts only where a run of address characters starts, and the local part is
# possessive: otherwise each position of a long run is a new start (quadratic).
_EMAIL_RE = re.compile(
    r"(?<![a-z0-9._%+-])[a-z0-9._%+-]++@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}", re.I
)
# "at" and "dot" as an address is written to get past filters: "amina [at] gmail [dot]
# com", "amina at gmail dot com", "site(.)ma", "arobase". A bare " at " is read as @
# only beside such a dot ("I read it at hespress.com" hides nothing), and a bare
# " . " or " point " never: sloppy punctuation ("fini . ma fille"), "la bulle point com".
# Each alternative starts only where a run of spaces starts (or at the bracket), so
# that a long run is scanned once, not once per position in it.
_OBFUSCATED_AT_RE = re.compile(
    r"(?<!\s)\s*[\[({<]\s*(?:at|@|arobase)\s*[\])}>]\s*|(?<!\s)\s+(?:arobase|@)\s+", re.I
)
_SPACED_AT_RE = re.compile(r"(?<!\s)\s+at\s+", re.I)
_OBFUSCATED_DOT_RE = re.compile(
    r"(?<!\s)\s*[\[({<]\s*(?:dot|point|\.)\s*[\])}>]\s*|(?<!\s)\s+dot\s+", re.I
)
# Six of one Latin letter or "!?$€*"; not h ("hhhhhh" is Darija laughter), not Arabic script.
_REPEATED_RE = re.compile(r"([a-gi-z!?$€*])\1{5,}", re.I)


Evidence = tuple[str, float]  # (signal as shown, its weight in the noisy-OR)


@dataclass(frozen=True, slots=True)
class SpamResult:
    score: float  # 0..1
    signals: tuple[str, ...]  # each signal that fired, e.g. "links:3", "bayes:0.97"

    def to_dict(self) -> dict[str, object]:
        return {"score": round(self.score, 3), "signals": list(self.signals)}


def fire(name: str, detail: object = None, times: int = 1) -> Evidence:
    """The evidence of signal `name` (shown as "name:detail"), fired `times` times."""
    label = name if detail is None else f"{name}:{detail}"
    return label, 1.0 - (1.0 - WEIGHTS[name]) ** times


def combine(evidence: Sequence[Evidence]) -> SpamResult:
    """Noisy-OR of the weights; the signals in the order they were found."""
    keep = 1.0
    for _, weight in evidence:
        keep *= 1.0 - weight
    return SpamResult(score=1.0 - keep, signals=tuple(label for label, _ in evidence))


_AFTER_LINK: Final = ".,;:!?…»\u060c\u061b\u061f"  # Latin and Arabic (، ؛ ؟) punctuation


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
        # Punctuation after a link is the sentence's ("https://men.gov.ma, puis…").
        host = host.lower().rstrip(_AFTER_LINK).strip(".").removeprefix("www.")
        if host:
            hosts.append(host)
    return hosts


def _is_shortener(host: str) -> bool:
    return any(host == s or host.endswith("." + s) for s in SHORTENERS)


def _link_evidence(body: str, url: str | None) -> list[Evidence]:
    """`body` as displayed (`readable`)."""
    hosts = link_hosts(body)
    evidence = []
    if hosts:
        evidence.append(fire("links", len(hosts), times=len(hosts)))
    distinct = len(set(hosts))
    if distinct > 1:
        evidence.append(fire("hosts", distinct, times=distinct - 1))
    if any(_is_shortener(host) for host in [*hosts, *link_hosts(url or "")]):
        evidence.append(fire("shortener"))
    return evidence


def _contact_evidence(body: str) -> list[Evidence]:
    """`body` as displayed (`readable`)."""
    evidence = []
    if _has_phone(body.translate(_DIGITS)):
        evidence.append(fire("phone"))
    if _WHATSAPP_RE.search(body):
        evidence.append(fire("whatsapp"))
    if _TELEGRAM_RE.search(body):
        evidence.append(fire("telegram"))
        if _HANDLE_RE.search(body):
            evidence.append(fire("handle"))
    if _CONTACT_ME_RE.search(body):
        evidence.append(fire("contact_me"))
    if _EMAIL_RE.search(body):
        evidence.append(fire("email_in_body"))
    if _has_obfuscated_address(body):
        evidence.append(fire("obfuscated"))
    return evidence


def _has_phone(text: str) -> bool:
    """Whether `text` (ASCII digits) holds a phone number: as `_PHONE_RE` writes one, or
    spaced out with one separator."""
    if _PHONE_RE.search(text):
        return True
    return any(_is_phone_number(match.group()) for match in _SPACED_DIGITS_RE.finditer(text))


def _is_phone_number(written: str) -> bool:
    digits = re.sub(r"[^0-9]", "", written)
    if written.startswith(("+", "00")):
        international = digits[2:] if written.startswith("00") else digits
        return 9 <= len(international) <= 15 and not international.startswith("0")
    return _MOROCCAN_RE.fullmatch(digits) is not None


def _disguise_evidence(body: str) -> list[Evidence]:
    if mixes_scripts(unicodedata.normalize("NFKC", body)) or cuts_words(body):
        return [fire("disguised")]
    return []


def _has_obfuscated_address(body: str) -> bool:
    """Whether reading "at" as @ and "dot" as "." finds an address the text hides."""
    dots = _OBFUSCATED_DOT_RE.search(body) is not None
    if not dots and not _OBFUSCATED_AT_RE.search(body):
        return False
    plain = _OBFUSCATED_AT_RE.sub("@", body)
    if dots:
        plain = _OBFUSCATED_DOT_RE.sub(".", _SPACED_AT_RE.sub("@", plain))
    emails = len(_EMAIL_RE.findall(plain)) > len(_EMAIL_RE.findall(body))
    return emails or len(link_hosts(plain)) > len(link_hosts(body))


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
        evidence.append(fire("shouting"))
    if _REPEATED_RE.search(body):
        evidence.append(fire("repeated_chars"))
    return evidence


def epoch(value: str) -> float | None:
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
        evidence.append(fire("honeypot"))
    rendered = epoch(comment.form_rendered_at) if comment.form_rendered_at else None
    created = epoch(comment.created_at)
    if rendered is not None and created is not None:
        elapsed = created - rendered  # negative: the site's clock is off, no judgement
        needed = FAST_FORM_BASE_S + len(comment.body) / FAST_FORM_CHARS_PER_S
        if 0 <= elapsed < min(needed, FAST_FORM_MAX_S):
            evidence.append(fire("fast_form", f"{int(elapsed)}s"))
    return evidence


def text_evidence(comment: Comment) -> list[Evidence]:
    """Every signal that needs nothing but the comment itself."""
    displayed = readable(comment.body)
    return [
        *_link_evidence(displayed, comment.url),
        *_contact_evidence(displayed),
        *_disguise_evidence(comment.body),
        *_style_evidence(comment.body),
        *_form_evidence(comment),
    ]


def normalise(text: str) -> str:
    """NFKC, case-folded, without invisible format characters, Arabic diacritics or
    tatweel, alef/yaa/taa marbuta variants folded (`workers.folding`), whitespace
    collapsed: the form repeated bodies are compared in, and tokens are cut from."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return " ".join(fold_alef_ya_taa(without_harakat(text)).split())
