"""Which language a comment is in: a fast heuristic you can explain, with no model.

Comments come in French, English, Modern Standard Arabic and Moroccan Darija,
which is written in Arabic script or in Latin letters with digits for Arabic
sounds (3 = ع, 7 = ح, 9 = ق, 2 = ء, 5 = خ: "3afak", "l9anon", "7ta"), and a few
in Spanish (northern Morocco, visitors): those are `es`, so that a French word
list does not read "con" ("with") as an insult, and a Spanish comment is not
taken for French or Darija.

`detect` works in three steps (measured on tests/data/languages.tsv):

1. **Script.** Links, e-mail addresses and @mentions are dropped, then Latin and
   Arabic letters are counted. Text with neither (emoji, punctuation, digits,
   another script) is `und` in script `none`; text with fewer than
   `MIN_LETTERS` letters is `und`. Laughter ("hhhh", "lol", "mdr", "هههه") counts
   for the script but is no word of any language.
   When each script has at least `MIXED_SHARE` of the letters the script is
   `mixed` and each part's language is found on its own: the same language in
   both parts (Darija in both scripts) is that language, two languages are
   `mixed`, and a part with no clear language (a name, "Bravo") leaves the other.
   An Arabic part with no Modern Standard marker beside Darija in Latin letters
   ("bravo 3likom, تبارك الله عليكم") is read as Darija.
2. **Latin words** are compared with French, English, Darija and Spanish markers
   (common function words; for Darija also words spelt with 3/7/9, the negation
   "ma…ch", the article joined to a noun, "lwazir", and verbs whose prefix no French or
   English word starts with, "kaydir", "ymchi", "nchriw"); a word with a French
   accent counts as French, one with á í ó ú ñ as Spanish. A word two of these
   languages share ("la", "que", "y", "se", "es", "con") is no marker; "de",
   "un", "son", "entre" and words whose only accent is é count as French unless
   the text has a Spanish marker. The text is cut into clauses at punctuation: a
   language *carries* a clause when it has the most markers there and at least
   `CLAUSE_MIN_MARKERS` of them or the clause has `CLAUSE_MIN_WORDS` words. Two
   languages carrying clauses make the text `mixed`. Otherwise the language with
   the most markers wins; it is `mixed` when the runner-up has at least
   `MIXED_MIN_MARKERS` markers and half as many as the winner, and `und` when no
   marker is found or two languages tie and no clause decides.
3. **Arabic words** are compared with Darija markers (ديال، بزاف، واش …, the
   negation ما…ش written joined or apart) and Modern Standard Arabic markers
   (هذا، الذي، ليس، هل …). Darija verb forms (كيضحكو، كنتسنى، يحفظو) are weaker
   evidence and count half a marker. Darija writers borrow MSA words far more than
   the reverse, so a Darija marker counts twice: Darija (`ary`) wins when it has
   at least one marker's worth and twice its markers are at least the MSA count;
   otherwise the text is MSA (`ar`).

Words are compared case folded, with Arabic diacritics and the tatweel removed,
أ إ آ ٱ read as ا, ة as ه, ى and ئ as ي, ؤ as و, and letters stretched to three
or more ("bzzzaaaf", "بزااااف") read once (`workers.folding`). An Arabic word is
also tried without a joined و ف ب ل ("وهذا", "فهادشي").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from workers.folding import ARABIC_MARKS, fold_letters, unstretch, without_marks
from workers.language_markers import (
    DARIJA_ARABIC_WORDS,
    DARIJA_LATIN_WORDS,
    ENGLISH_WORDS,
    FRENCH_SPANISH_WORDS,
    FRENCH_WORDS,
    MSA_WORDS,
    SPANISH_WORDS,
)

# Language codes (ISO 639: "ary" is Moroccan Arabic) and scripts.
FRENCH = "fr"
ENGLISH = "en"
ARABIC = "ar"
DARIJA = "ary"
SPANISH = "es"
MIXED = "mixed"
UNDETERMINED = "und"
CODES = (FRENCH, ENGLISH, ARABIC, DARIJA, SPANISH, MIXED, UNDETERMINED)

LATIN_SCRIPT = "latin"
ARABIC_SCRIPT = "arabic"
MIXED_SCRIPT = "mixed"
NO_SCRIPT = "none"
SCRIPTS = (LATIN_SCRIPT, ARABIC_SCRIPT, MIXED_SCRIPT, NO_SCRIPT)

MIN_LETTERS = 3  # fewer Latin and Arabic letters than this: undetermined
MIXED_SHARE = 0.25  # share of the letters each script needs for a mixed script
MIXED_MIN_MARKERS = 2  # markers the second language needs for mixed Latin text
CLAUSE_MIN_MARKERS = 2  # a language with this many markers in a clause carries it
CLAUSE_MIN_WORDS = 3  # ... or with the most markers in a clause of this many words


@dataclass(frozen=True, slots=True)
class Language:
    """A comment's language `code` and `script` (one of `CODES` and `SCRIPTS`)."""

    code: str
    script: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "script": self.script}


_LATIN_LETTERS = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
# Arabic letters in the Arabic, Arabic Supplement, Extended-A and presentation
# form blocks; not digits, punctuation, diacritics or the tatweel.
_ARABIC_LETTERS = (
    "\u0621-\u063a\u0641-\u064a\u066e\u066f\u0671-\u06d3\u06d5\u06ee\u06ef\u06fa-\u06fc"
    "\u0750-\u077f\u08a0-\u08c9\ufb50-\ufdfb\ufe70-\ufefc"
)
_LATIN_RUN_RE = re.compile(f"[{_LATIN_LETTERS}]+")
_ARABIC_RUN_RE = re.compile(f"[{_ARABIC_LETTERS}]+")
_LATIN_WORD_RE = re.compile(f"[0-9{_LATIN_LETTERS}]+")
# A word with its diacritics (tashkeel, Quranic marks) and tatweel, removed later.
_ARABIC_WORD_RE = re.compile(f"[{_ARABIC_LETTERS}{ARABIC_MARKS}]+")
_FRENCH_ACCENT_RE = re.compile("[àâçéèêëîïôûùüÿœæ]")
_FRENCH_ONLY_ACCENT_RE = re.compile("[àâçèêëîïôûùÿœæ]")  # not é, which Spanish writes too
_SPANISH_ACCENT_RE = re.compile("[áíóúñ]")

# Not words of any language: links, e-mail addresses, @mentions; laughter.
# Each pattern runs in time linear in the text: a link's `\S+` and a mention's
# `\w+` never backtrack, and e-mail addresses are found token by token
# (`_without_email`) rather than with `\S+@\S+`, which backtracks on "@@@@…".
_LINK_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_AT_TOKEN_RE = re.compile(r"(?<!\S)\S*@\S*")  # a whole token, from its start
_DOT_WORD_RE = re.compile(r"\.\w")
_WORD_CHARS_RE = re.compile(r"\w+")
_MENTION_RE = re.compile(r"@\w+")
_LAUGHTER_RE = re.compile(
    r"\b(?:h{3,}|(?:ha|he|hi|xa){2,}h?|lo+l|l+o+l+|mdr+|ptdr+|xd+|هه{2,}|(?:ها){2,}|خخخ+)\b"
)
# Where a clause ends: sentence punctuation, commas, brackets, quotes, dashes.
_CLAUSE_END_RE = re.compile(r"[.!?;:,…()«»\"“”—–¿¡،؛؟\n]+|\s-\s")

# A word spelt with the digits Darija uses for Arabic sounds ("3afak", "l9a7ba",
# "ta3"), a digit between letters or at one end, never two digits in a row.
_DARIJA_DIGITS_RE = re.compile(r"[a-z]*(?:[23579][a-z]+)+|[a-z]+(?:[23579][a-z]+)*[23579]")
# Ordinals and units that would pass for such words: "2eme", "3rd", "5g", "2h".
_ORDINAL_RE = re.compile(r"\d+(?:e|er|ere|eme|em|nd|rd|th|st|h|g|gb|km|kg|mn|min|dh|mad|ans?)")
# The Darija negation around a verb: "makaynch", "mabghitch", "mafhamtch".
_DARIJA_NEGATION_RE = re.compile(r"ma[a-z0-9]{3,}ch")
_NAMES_LIKE_DARIJA = frozenset({"marrakech", "marrakch"})  # the city, in every language
# Beginnings no French or English word has: the article joined to a noun
# ("lwazir", "lmochkil"), the verb prefixes y-, n- ("ymchi", "nchriw") and
# kan-/kat-/kay- before a consonant ("kaydir", "kandi3"); with a vowel after.
# (No vowel before the first vowel, so the pattern never backtracks.)
_DARIJA_PREFIX_RE = re.compile(
    r"(?:[lyn]|ka[nty])[bcdfghjkmnpqrstvwxz][b-df-hj-np-tv-z0-9]*[aeiou][a-z0-9]*"
)
_DARIJA_ARABIC_NEGATION_RE = re.compile("ما.{2,}ش")
# Darija verbs: the present with كـ ("كيضحكو", "كنتسنى", "كتسمع"), and the
# present with the plural or object ending -و where MSA writes -وا or -ه
# ("يحفظو", "يتحاسبو"). Not MSA nouns that start alike, nor months in -يو.
_DARIJA_PRESENT_RE = re.compile("ك[يتن]..+")
_DARIJA_VERB_ENDING_RE = re.compile("[يتن]..+[^ي]و")
_MSA_LOOKALIKE_STARTS = ("كتاب", "كتيب", "كيفي", "كيلو", "كيان", "كنيس")
_ARABIC_PROCLITICS = "وفبل"  # "and", "so"/"in", "with", "to" written joined


_LATIN_MARKERS = {
    **dict.fromkeys(SPANISH_WORDS, SPANISH),
    **dict.fromkeys(DARIJA_LATIN_WORDS, DARIJA),
    **dict.fromkeys(ENGLISH_WORDS, ENGLISH),
    **dict.fromkeys(FRENCH_WORDS, FRENCH),
}
_LATIN_LANGUAGES = (FRENCH, ENGLISH, DARIJA, SPANISH)


def detect(text: str) -> Language:
    """The language and script of a comment (see the module docstring)."""
    text = _without_not_text(text)
    latin = _letter_count(_LATIN_RUN_RE, text)
    arabic = _letter_count(_ARABIC_RUN_RE, text)
    letters = latin + arabic
    if letters == 0:
        return Language(UNDETERMINED, NO_SCRIPT)
    script = _script(latin, arabic)
    if letters < MIN_LETTERS:
        return Language(UNDETERMINED, script)
    folded = unstretch(_LAUGHTER_RE.sub(" ", text.casefold()))  # "bzzzaaaf", "بزااااف"
    if script == LATIN_SCRIPT:
        return Language(_latin_language(folded), script)
    if script == ARABIC_SCRIPT:
        return Language(_ArabicScore.of(folded).code, script)
    return Language(_combine(_latin_language(folded), _ArabicScore.of(folded)), script)


def clauses(text: str) -> list[tuple[str, str]]:
    """The clauses of `text`, cut where `detect` cuts Latin text into clauses, each with
    the language `detect` finds in it alone (often `und`: a clause has few words). The
    word lists match a `mixed` comment clause by clause (`workers.wordlists`)."""
    pieces = _CLAUSE_END_RE.split(text)
    return [(clause, detect(clause).code) for clause in pieces if clause.strip()]


def _without_not_text(text: str) -> str:
    """`text` without links, e-mail addresses and @mentions (each replaced by a space)."""
    text = _LINK_RE.sub(" ", text)
    return _MENTION_RE.sub(" ", _AT_TOKEN_RE.sub(_without_email, text))


def _without_email(token: re.Match[str]) -> str:
    """A token without the e-mail address it starts with, as `\\S+@\\S+\\.\\w+` would
    find it (greedy: up to the word after the last dot that follows a later "@"),
    in one pass: the last ".x" of the token, then the last "@" before it."""
    text = token.group()
    dot = -1
    for match in _DOT_WORD_RE.finditer(text):
        dot = match.start()
    at = text.rfind("@", 1, dot - 1) if dot > 1 else -1
    if at < 1:
        return text
    end = _WORD_CHARS_RE.match(text, dot + 1)
    return " " + text[end.end() if end else dot + 1 :]


def _letter_count(pattern: re.Pattern[str], text: str) -> int:
    return sum(map(len, pattern.findall(text)))


def _script(latin: int, arabic: int) -> str:
    if min(latin, arabic) >= MIXED_SHARE * (latin + arabic):
        return MIXED_SCRIPT
    return LATIN_SCRIPT if latin > arabic else ARABIC_SCRIPT


def _latin_language(folded: str) -> str:
    total: Counter[str] = Counter()
    carried: set[str] = set()
    clauses = [
        [word for word in _LATIN_WORD_RE.findall(clause) if not word.isdigit()]
        for clause in _CLAUSE_END_RE.split(folded)
    ]
    # Spanish words, not accents alone: "España", "Bouñou" are names in any sentence.
    spanish = any(word in SPANISH_WORDS for words in clauses for word in words)
    for words in clauses:
        counts = Counter(filter(None, (_latin_marker(word, spanish=spanish) for word in words)))
        total.update(counts)
        carrier = _clause_carrier(counts, len(words))
        if carrier is not None:
            carried.add(carrier)
    if len(carried) > 1:
        return MIXED
    (best_code, best), (_, second) = sorted(
        ((code, total[code]) for code in _LATIN_LANGUAGES), key=lambda item: -item[1]
    )[:2]
    if best == 0:
        return UNDETERMINED
    if second >= MIXED_MIN_MARKERS and 2 * second >= best:
        return MIXED
    if second == best:
        return carried.pop() if carried else UNDETERMINED
    return best_code


def _clause_carrier(counts: Counter[str], words: int) -> str | None:
    """The language a clause is written in, when its markers say so clearly."""
    ranked = counts.most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[1][1] == ranked[0][1]):
        return None
    code, markers = ranked[0]
    return code if markers >= CLAUSE_MIN_MARKERS or words >= CLAUSE_MIN_WORDS else None


def _latin_marker(word: str, *, spanish: bool = False) -> str | None:
    """The language `word` marks. With `spanish` (the text has a Spanish word), a word
    with á í ó ú ñ is Spanish, and a word French and Spanish share, or whose only accent
    is é, is not French; without, an accent of Spanish marks nothing ("España")."""
    shared = word in FRENCH_SPANISH_WORDS or _is_e_acute_only(word)
    if spanish and shared and word not in SPANISH_WORDS:
        return SPANISH if _SPANISH_ACCENT_RE.search(word) else None
    marker = _LATIN_MARKERS.get(word)
    if marker is not None:
        return marker
    if is_darija_spelling(word):
        return DARIJA
    if _FRENCH_ACCENT_RE.search(word):
        return FRENCH
    if spanish and _SPANISH_ACCENT_RE.search(word):
        return SPANISH
    return None


def _is_e_acute_only(word: str) -> bool:
    return "é" in word and not _FRENCH_ONLY_ACCENT_RE.search(word)


def is_darija_spelling(word: str) -> bool:
    """Whether a case-folded Latin word is spelt as only Darija spells words: with
    digits for Arabic sounds ("l7mar"), the negation ma…ch (not "marrakech", a name
    in every language), or a prefix no French or English word starts with ("lwazir",
    "kaydir")."""
    if word in _NAMES_LIKE_DARIJA:
        return False
    if _DARIJA_NEGATION_RE.fullmatch(word) or _DARIJA_PREFIX_RE.fullmatch(word):
        return True
    return (
        _DARIJA_DIGITS_RE.fullmatch(word) is not None
        and sum(char.isalpha() for char in word) >= 2
        and _ORDINAL_RE.fullmatch(word) is None
    )


@dataclass(frozen=True, slots=True)
class _ArabicScore:
    """Darija evidence (two per marker, one per verb form) and MSA markers."""

    darija: int
    msa: int
    words: int

    @classmethod
    def of(cls, folded: str) -> _ArabicScore:
        darija = msa = 0
        words = _arabic_words(folded)
        for previous, word in zip(["", *words], words, strict=False):
            forms = {word, _without_proclitic(word)}
            if forms & DARIJA_ARABIC_WORDS or _is_darija_negation(previous, word):
                darija += 2
            elif forms & MSA_WORDS:
                msa += 1
            elif any(map(_is_darija_verb, forms)):
                darija += 1
        return cls(darija, msa, len(words))

    @property
    def code(self) -> str:
        if not self.words:
            return UNDETERMINED
        return DARIJA if self.darija >= 2 and self.darija >= self.msa else ARABIC


def _arabic_words(folded: str) -> list[str]:
    """The folded Arabic words; a run of marks alone (a stray fatha) is no word."""
    words = (without_marks(word) for word in _ARABIC_WORD_RE.findall(folded))
    return [fold_letters(word) for word in words if word]


def _without_proclitic(word: str) -> str:
    return word[1:] if word[0] in _ARABIC_PROCLITICS and len(word) > 3 else word


def _is_darija_negation(previous: str, word: str) -> bool:
    """ما…ش joined ("ماكاينش") or apart ("ما جاتش")."""
    if _DARIJA_ARABIC_NEGATION_RE.fullmatch(word):
        return True
    return previous == "ما" and len(word) >= 3 and word.endswith("ش")


def _is_darija_verb(word: str) -> bool:
    if word.startswith(_MSA_LOOKALIKE_STARTS):
        return False
    return bool(_DARIJA_PRESENT_RE.fullmatch(word) or _DARIJA_VERB_ENDING_RE.fullmatch(word))


def _combine(latin: str, arabic: _ArabicScore) -> str:
    """The language of a text in two scripts, from the language of each part."""
    arabic_code = arabic.code
    if latin == DARIJA and arabic_code == ARABIC and arabic.msa == 0:
        arabic_code = DARIJA  # Arabic words Darija and MSA share, written by a Darija writer
    codes = {latin, arabic_code} - {UNDETERMINED}
    if not codes:
        return UNDETERMINED
    return codes.pop() if len(codes) == 1 else MIXED
