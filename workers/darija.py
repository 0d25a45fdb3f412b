"""How Darija writes a word, so that a listed Darija term is found in its spellings.

Darija has no fixed spelling in Latin letters. Writers use digits for Arabic sounds
(3 = ع, 7 = ح, 9 = ق, 2 = ء, 5 = خ, 8 = غ) or letters for the same sounds ("7mar" and
"hmar", "9a7ba", "qahba" and "kahba"), double letters for length or emphasis
("7maaar", "zzamel"), join the article to the word ("l7mar", "el7mar", "al7mar";
in Arabic script "الحمار") and make plurals with -in, -at or -s ("mkelkhin",
"9a7bat"; in Arabic script -ين, -ات). Broken plurals ("zwamel") are other words:
they are listed as terms of their own.

A comment's word is a term's word when their `keys` meet. A key is the word with
the sounds of `_SOUNDS` read alike (7~h, 9~q~k, 3~a, 5~kh, 8~gh, ch~sh, ou~o~u),
without the short vowel e, which Latin Darija writes or leaves out as it likes
("zamel", plural "zamlin"; "kelb", "klb"; "9e7ba", "q7ba"), and every run of a
letter read once; the digits stay letters, never leetspeak (3 is
never e, 7 never t). A comment's word is also tried without its article and as the
singular of a plural, a term's word without its article ("wld l9a7ba" is found in
"wld 9a7ba"); in Arabic script, a comment's word is also tried without the conjunction
و or ف joined to it ("وعاهرة", `without_conjunction`). What is left keeps `MIN_STEM`
letters ("lin" is not "in"; after the Arabic article two, as in "الزب").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

MIN_STEM: Final = 3  # letters a word keeps once its article or plural ending is off
# The Arabic article and the particles written joined before it ("والقحبة"), longest
# first; used for Modern Standard Arabic as well. What is left keeps two letters.
ARABIC_ARTICLES: Final = ("وال", "فال", "بال", "كال", "لل", "ال")
# The conjunctions written joined to a word without an article ("وعاهرة", "فابن"). What
# is left keeps `MIN_STEM` letters, and the word is read whole as well: "وزير" is still
# "وزير", and "وسخ" is never "سخ".
ARABIC_CONJUNCTIONS: Final = ("و", "ف")
_LATIN_ARTICLES = ("al", "el", "l")
# Plural endings, each with the singular endings it replaces ("9a7bat" -> "9a7ba").
_ARABIC_PLURALS: Final = (("ين", ("",)), ("ون", ("",)), ("ات", ("", "ه")))  # ون: MSA's
_PLURALS = (("in", ("",)), ("at", ("", "a")), ("s", ("",)), *_ARABIC_PLURALS)
# Sounds written in several ways, each read as one; two-letter spellings first, so
# that "kh" is never read as k then h. Upper case cannot clash with folded text.
_SOUNDS = (
    ("kh", "X"),
    ("5", "X"),
    ("gh", "G"),
    ("8", "G"),
    ("sh", "C"),
    ("ch", "C"),
    ("ou", "u"),
    ("o", "u"),
    ("7", "h"),
    ("9", "q"),
    ("k", "q"),
    ("3", "a"),
)
_RUN_RE = re.compile(r"(.)\1+")
ARABIC_RE: Final = re.compile("[\u0600-\u06ff]")  # a letter of the Arabic script


def keys(word: str) -> frozenset[str]:
    """The keys a comment's folded word is looked up by: as written, without its
    article (or joined conjunction), as a singular, and without both."""
    word = _once(word)
    forms = {word, *(_without_article(word) or without_conjunction(word))}
    forms.update(singular for form in list(forms) for singular in _singulars(form))
    return frozenset(map(_key, forms))


def term_keys(word: str) -> frozenset[str]:
    """The keys a term's folded word is listed under: as written and without its article."""
    word = _once(word)
    return frozenset(map(_key, {word, *_without_article(word)}))


def _key(form: str) -> str:
    for spelling, sound in _SOUNDS:
        form = form.replace(spelling, sound)
    return _once(form.replace("e", ""))


def _once(word: str) -> str:
    return _RUN_RE.sub(r"\1", word)


def _without_article(word: str) -> list[str]:
    arabic = ARABIC_RE.search(word) is not None
    for article in ARABIC_ARTICLES if arabic else _LATIN_ARTICLES:
        if word.startswith(article) and len(word) - len(article) >= (2 if arabic else MIN_STEM):
            return [word[len(article) :]]
    return []


def without_conjunction(word: str) -> list[str]:
    """An Arabic-script word of a comment without the conjunction joined to it ("وعاهرة"
    is also tried as "عاهرة", "ومكلخين" as "مكلخين"), if three letters are left. Only a
    comment's words: a term's word is listed as it is meant."""
    if word[:1] in ARABIC_CONJUNCTIONS and len(word) - 1 >= MIN_STEM:
        return [word[1:]]
    return []


def arabic_singulars(word: str) -> list[str]:
    """The singulars an Arabic-script word may be the sound plural of ("المهاجرون" is
    tried as "المهاجر"; "مسلمات" as "مسلم" and "مسلمه"), its stem three letters or more."""
    return _singulars(word, _ARABIC_PLURALS)


def _singulars(word: str, plurals: Sequence[tuple[str, tuple[str, ...]]] = _PLURALS) -> list[str]:
    for plural, endings in plurals:
        stem = word.removesuffix(plural)
        if stem != word and len(stem) >= MIN_STEM:
            return [stem + ending for ending in endings]
    return []


# The consonant skeleton (`skeleton`): each Arabic letter as the Latin letter or digit
# Darija writes it with; alef, waw, ya and hamza left out, as Latin vowels are.
_ARABIC_SKELETON = str.maketrans(
    {
        **dict.fromkeys("اأإآٱءئؤىوية", ""),
        **dict(zip("بتثجحخدذرزسشصضطظعغفقكلمنهگڭپڤ", "bttjhxddrzsCsdtd3gfqklmnhggpv", strict=True)),
    }
)
# Latin Darija: the digits and pairs for Arabic sounds, as the Arabic letters above.
_LATIN_SKELETON = (("kh", "x"), ("gh", "g"), ("ch", "C"), ("sh", "C"))
_LATIN_DIGITS = str.maketrans({"7": "h", "9": "q", "5": "x", "8": "g", "2": "", "3": "3"})
_LATIN_VOWELS_RE = re.compile("[aeiouwy]")
_LATIN_WORD_RE = re.compile("[a-z0-9]+")


def skeleton(word: str) -> str:
    """The consonants of a folded word as both of Darija's scripts write them, so that
    the Latin and Arabic spellings of a word meet: "7mar", "hmar" and "حمار" are "hmr";
    "l7mar" and "الحمار" are "lhmr"; "bzaf" and "بزاف" are "bzf". Vowels (and in Arabic
    the letters that write them: alef, waw, ya), the final taa marbuta (folded to ه),
    hamza and runs of a letter are left out. A word that is neither Arabic letters
    nor Latin letters and digits, or only digits, has none ("")."""
    if ARABIC_RE.search(word):
        return _once(word.removesuffix("ه").translate(_ARABIC_SKELETON))
    if not _LATIN_WORD_RE.fullmatch(word) or word.isdigit():
        return ""
    for spelling, sound in _LATIN_SKELETON:
        word = word.replace(spelling, sound)
    return _once(_LATIN_VOWELS_RE.sub("", word.translate(_LATIN_DIGITS)))
