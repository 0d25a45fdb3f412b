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
  repeated-body digests stay those already counted in Redis.
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
# Invisible characters: soft hyphen, zero-width space and joiners, LRM and RLM,
# word joiner, BOM.
INVISIBLE: Final = "\u00ad\u200b-\u200f\u2060\ufeff"

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

_MARKS_RE = re.compile(f"[{ARABIC_MARKS}]")
_HARAKAT_RE = re.compile(f"[{HARAKAT}{TATWEEL}]")
_DECOMPOSED_MARKS_RE = re.compile(f"[{LATIN_ACCENTS}{ARABIC_MARKS}{INVISIBLE}]")
_STRETCH_RE = re.compile(rf"(.)\1{{{STRETCH - 1},}}")
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
    decomposed = unicodedata.normalize("NFKD", text)
    return _DECOMPOSED_MARKS_RE.sub("", decomposed).translate(_DECOMPOSED)


def unstretch(text: str, *, keep: int = 1) -> str:
    """Each character written `STRETCH` or more times in a row written `keep` times."""
    return _STRETCH_RE.sub(r"\1" * keep, text)
