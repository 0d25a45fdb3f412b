"""Arabic and Latin letters folded alike, so that spellings of one word compare equal.

The text checks compare readers' words with markers and listed terms. Arabic is
written with or without its diacritics, stretched with the tatweel ("جميـــل"),
and with several forms of alef, ya, taa marbuta and hamza used interchangeably;
readers stretch letters in both scripts ("bzzzaaaf", "بزااااف"). The pieces here
are shared by the checks; each check picks the variant it has always used, named
below, so that a change of folding is a visible change of one check:

- language (`workers.language`): `without_marks`, `fold_letters`, `unstretch`;
- word lists (`workers.wordlists`): `fold_decomposed`, which also unfolds Latin
  accents and compatibility forms, and folds ؤ ئ by decomposing them;
- spam (`workers.spam`): `without_harakat` and `fold_alef_ya_taa`, which keep
  Quranic marks and ؤ ئ, so that the Bayesian model's tokens and the
  repeated-body digests stay those already counted in Redis; its links and
  contacts are looked for in `readable` text.

Both the word lists and the spam signals read Cyrillic and Greek letters that look
like Latin ones as those (`unconfuse`) inside a word that has Latin letters:
"cаsino" with a Cyrillic а is "casino". The site receives no Russian or Greek, a
word that mixes scripts is written to get past a filter, and a word written wholly
in Cyrillic or Greek is left as it is.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

# Character class contents (for use inside [...]) of what the folds remove.
HARAKAT: Final = "\u064b-\u065f\u0670"  # tashkeel (fatha, damma, kasra, shadda...), dagger alef
QURANIC_MARKS: Final = "\u0610-\u061a\u06d6-\u06ed"  # small signs above and below, high letters
TATWEEL: Final = "\u0640"
ARABIC_MARKS: Final = QURANIC_MARKS + HARAKAT + TATWEEL
# Combining marks that decomposition separates from Latin letters (é → e + ◌́).
LATIN_ACCENTS: Final = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
# Invisible characters: soft hyphen, zero-width space and joiners, LRM and RLM, the
# bidirectional embeddings, overrides and isolates (U+202E shows "draCnnoc" reversed),
# word joiner and invisible operators, BOM.
INVISIBLE: Final = "\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"

STRETCH: Final = 3  # a character written this many times in a row is stretched

# أ إ آ ٱ read as ا, ى as ي, ة as ه.
ALEF_YA_TAA: Final = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"}
# The hamza's seats: ؤ read as و, ئ as ي.
HAMZA_SEATS: Final = {"ؤ": "و", "ئ": "ي"}
# Look-alikes decomposition leaves alone: Persian kaf, ya and heh; Latin ligatures
# and letters with a stroke.
LOOK_ALIKES: Final = {"ک": "ك", "ی": "ي", "ھ": "ه"} | {
    "œ": "oe",
    "æ": "ae",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ı": "i",
}

# Cyrillic and Greek letters that look like a Latin letter (Unicode's confusables,
# the ones a reader cannot tell apart in a sans-serif font), both cases.
HOMOGLYPHS: Final = dict(
    zip(
        "аАВвеЕКкМмНнОоРрСсТтуУхХіІјЈѕЅԁһӏԛԝь" + "αΑΒβεΕΖηΗιΙΚκΜΝνΟοΡρΤτυΥχΧω",
        "aABbeEKkMmHhOoPpCcTtyYxXiIjJsSdhlqwb" + "aABbeEZnHiIKkMNvOoPpTtuYxXw",
        strict=True,
    )
)
# Invisible characters a word can be cut with: zero-width space, joiners, bidirectional
# controls, word joiner, BOM (not the soft hyphen, which word processors leave in
# ordinary text, nor LRM and RLM, which keyboards put between scripts).
WORD_CUTTERS: Final = "\u200b-\u200d\u202a-\u202e\u2060-\u2069\ufeff"

_MARKS_RE = re.compile(f"[{ARABIC_MARKS}]")
# Punctuation between two tatweels cuts an Arabic word and leaves it readable:
# "الكلـ.ـب" is "الكلب". The tatweel only ever joins letters of one word.
_TATWEEL_CUT_RE = re.compile(f"{TATWEEL}+[^\\w\\s{TATWEEL}]{{1,3}}{TATWEEL}+")
# …as an invisible character cuts a Latin word: "what\u200bsapp" (between Arabic letters
# the zero-width non-joiner and joiner are ordinary).
_INVISIBLE_CUT_RE = re.compile(f"[a-zà-ÿ][{WORD_CUTTERS}]+[a-zà-ÿ]", re.IGNORECASE)
_HARAKAT_RE = re.compile(f"[{HARAKAT}{TATWEEL}]")
_DECOMPOSED_MARKS_RE = re.compile(f"[{LATIN_ACCENTS}{ARABIC_MARKS}{INVISIBLE}]")
_STRETCH_RE = re.compile(rf"(.)\1{{{STRETCH - 1},}}")
_HOMOGLYPHS = str.maketrans(HOMOGLYPHS)
_HOMOGLYPH_RE = re.compile(f"[{''.join(HOMOGLYPHS)}]")
_WORD_RE = re.compile(r"[^\W\d_]+")
_INVISIBLE_RE = re.compile(f"[{INVISIBLE}]")
_LETTERS = str.maketrans(ALEF_YA_TAA | HAMZA_SEATS)
_ALEF_YA_TAA = str.maketrans(ALEF_YA_TAA)
# أ إ آ ؤ ئ never survive decomposition (their hamza or madda is a mark, removed):
# folding them too changes nothing, and keeps one table of Arabic letters.
_DECOMPOSED = str.maketrans(ALEF_YA_TAA | HAMZA_SEATS | LOOK_ALIKES)


def without_marks(text: str) -> str:
    """`text` without Arabic diacritics, Quranic marks and the tatweel."""
    return _MARKS_RE.sub("", text)


def without_harakat(text: str) -> str:
    """`text` without the tashkeel, the dagger alef and the tatweel (Quranic marks kept)."""
    return _HARAKAT_RE.sub("", text)


def fold_letters(text: str) -> str:
    """أ إ آ ٱ read as ا, ى and ئ as ي, ة as ه, ؤ as و."""
    return text.translate(_LETTERS)


def fold_alef_ya_taa(text: str) -> str:
    """أ إ آ ٱ read as ا, ى as ي, ة as ه; the hamza's seats ؤ ئ kept."""
    return text.translate(_ALEF_YA_TAA)


def fold_decomposed(text: str) -> str:
    """`text` decomposed (NFKD: compatibility forms unfolded, 𝐜𝐨𝐧 → con, Arabic
    presentation forms → letters), without combining marks (Latin accents; Arabic
    diacritics, hamza and madda, so أ إ آ → ا, ؤ → و, ئ → ي), the tatweel and
    invisible characters; ٱ → ا, ى → ي, ة → ه and the look-alikes folded."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", _TATWEEL_CUT_RE.sub("", text))
    return unconfuse(_DECOMPOSED_MARKS_RE.sub("", decomposed)).translate(_DECOMPOSED)


def unconfuse(text: str) -> str:
    """`text` with the Cyrillic and Greek look-alikes of Latin letters (`HOMOGLYPHS`) read
    as those letters, in each word that also has a Latin letter: "Whatsаpp" → "Whatsapp";
    "мир" and "λόγος" stay as they are."""
    if _HOMOGLYPH_RE.search(text) is None:
        return text
    return _WORD_RE.sub(_unconfused_word, text)


def mixes_scripts(text: str) -> bool:
    """Whether a word of `text` mixes Latin letters with look-alikes (`unconfuse`)."""
    if _HOMOGLYPH_RE.search(text) is None:
        return False
    return any(_unconfused_word(word) != word.group() for word in _WORD_RE.finditer(text))


def cuts_words(text: str) -> bool:
    """Whether `text` cuts a word with an invisible character ("what\u200bsapp") or with
    punctuation between tatweels ("تـ.ـواصـ.ـل"), as a text written to get past a
    filter does."""
    return bool(_INVISIBLE_CUT_RE.search(text) or _TATWEEL_CUT_RE.search(text))


def readable(text: str) -> str:
    """`text` as a reader sees it: compatibility forms unfolded (NFKC: ｗｗｗ, 𝐰𝐰𝐰 → www),
    invisible characters and punctuation between tatweels removed, look-alikes read as
    Latin letters (`unconfuse`). Case, accents and Arabic letters are kept."""
    if text.isascii():
        return text
    text = _TATWEEL_CUT_RE.sub("", _INVISIBLE_RE.sub("", unicodedata.normalize("NFKC", text)))
    return unconfuse(text)


def _unconfused_word(word: re.Match[str]) -> str:
    text = word.group()
    if not any("a" <= char <= "z" or "A" <= char <= "Z" for char in text):
        return text
    return text.translate(_HOMOGLYPHS)


def unstretch(text: str, *, keep: int = 1) -> str:
    """Each character written `STRETCH` or more times in a row written `keep` times."""
    return _STRETCH_RE.sub(r"\1" * keep, text)
