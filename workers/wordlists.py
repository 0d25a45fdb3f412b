"""Word lists: the terms that reject a comment ("banned") or hold it for review ("suspect").

Terms and comments are compared word by word, never inside other words ("con"
is not found in "conseil", nor "ass" in "classe"), after the same
normalisation (`normalise`):

- case folded; compatibility forms unfolded (𝐜𝐨𝐧 → con, Arabic presentation
  forms → letters); Latin accents removed (é → e, ç → c, œ → oe);
- Arabic: diacritics (tashkeel U+064B–U+065F, U+0670) and the tatweel removed;
  أ إ آ ٱ → ا, ؤ → و, ئ → ي, ى → ي, ة → ه (and the Persian look-alikes ک ی ھ);
- zero-width characters removed; anything but letters, digits, @ and $ splits words;
- three or more letters written one by one ("c.o.n", "c o n", "c-o-n") rejoined;
- runs of a repeated character collapsed ("connnnard" and "connard" → "conard").

When matching, a comment's word that has letters is tried both as written and
de-leeted (0 → o, 1 → i or l, 3 → e, 4 → a, 5 → s, 7 → t, @ → a, $ → s), because
Darija in Latin letters uses 3, 7 and 9 as letters ("3afak"); a number stays a
number ("455"). An Arabic word is also tried without its article (ال, وال, فال,
بال, كال, لل). A term of several words matches those words in a row, or written
as one word ("filsdepute").

Collapsing runs would make "as" match "ass" and "Niger" a slur, so when a term's
collapsed word has fewer than six characters, each run in the comment's word must
be as long as in the term or stretched to three or more: "asss" matches "ass",
"as" does not. Longer words match whatever their runs ("conard" is "connard").

The shipped seed lists are `workers/data/banned.txt` and `suspect.txt`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

WORDLIST_KINDS = ("banned", "suspect")

# Combining marks (Latin accents once decomposed, Arabic tashkeel and Quranic
# marks), the tatweel, and invisible characters (soft hyphen, zero-width space
# and joiners, LRM and RLM, word joiner, BOM).
_REMOVED_RE = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640"
    "\u00ad\u200b-\u200f\u2060\ufeff]"
)
# Letters that decomposition leaves alone. أ إ آ ؤ ئ decompose to a letter and
# a hamza or madda mark, which `_REMOVED_RE` removes.
_FOLD = str.maketrans(
    {"ٱ": "ا", "ى": "ي", "ة": "ه", "ک": "ك", "ی": "ي", "ھ": "ه"}
    | {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ı": "i"}
)
_WORD_RE = re.compile(r"(?:[^\W_]|[@$])+")
_RUN_RE = re.compile(r"(.)\1+")
_RUN_OR_SINGLE_RE = re.compile(r"(.)\1*")
_NO_SYMBOLS = str.maketrans("", "", "@$")
_LEET = str.maketrans({"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_ARABIC_ARTICLES = ("وال", "فال", "بال", "كال", "لل", "ال")
_MIN_SPELLED_OUT = 3  # letters written one by one that are rejoined
_LOOSE_MIN_CHARS = 6  # collapsed words this long match whatever their runs
_STRETCH = 3  # a run this long is a stretched letter, whatever the term has

# A comment's word as matching tries it: (spelling, collapsed key) pairs.
_Spellings = list[tuple[str, str]]


def normalise(text: str) -> str:
    """The words of `text` as matching compares them, joined by single spaces.

    Each word is folded, rejoined if spelt out and collapsed, as the module
    docstring describes (de-leeting and article removal are tried on top of this
    form when matching): `normalise("C.O.N.N.A.R.D, très  CON")` is `"conard tres con"`.
    """
    spellings = map(_without_symbols, _words(text))
    return " ".join(_collapse(spelling) for spelling in spellings if spelling)


@dataclass(frozen=True, slots=True)
class _Entry:
    """A listed term as matching sees it: its words as folded, and collapsed."""

    term: str
    words: tuple[str, ...]
    keys: tuple[str, ...]


class WordList:
    """A list of terms and the lookup table that finds them in comments."""

    def __init__(self, terms: Iterable[str]) -> None:
        """`terms` as moderators type them; blank ones are ignored, and one with no
        letter or digit ("!!!") is kept in `terms` but can never match."""
        if isinstance(terms, str):
            raise TypeError("WordList takes an iterable of terms, not one string")
        self._terms = tuple(sorted({term.strip() for term in terms} - {""}))
        self._index: dict[str, list[_Entry]] = {}
        for term in self._terms:
            for entry in _entries(term):
                self._index.setdefault(entry.keys[0], []).append(entry)

    @property
    def terms(self) -> tuple[str, ...]:
        """The terms, sorted and without duplicates, as given (without surrounding spaces)."""
        return self._terms

    def matches(self, text: str) -> list[str]:
        """The listed terms found in `text`, as listed, sorted and unique."""
        words = [_spellings_and_keys(word) for word in _words(text)]
        found: set[str] = set()
        for start, spellings in enumerate(words):
            for _, key in spellings:
                for entry in self._index.get(key, ()):
                    if entry.term not in found and _entry_at(entry, words, start):
                        found.add(entry.term)
        return sorted(found)


def seed_terms(kind: str) -> list[str]:
    """The shipped `kind` list ("banned" or "suspect"), in file order.

    One term per line in `workers/data/<kind>.txt`; blank lines and lines
    starting with "#" are ignored.
    """
    if kind not in WORDLIST_KINDS:
        raise ValueError(f"unknown word list {kind!r}; expected one of {WORDLIST_KINDS}")
    text = (resources.files("workers") / "data" / f"{kind}.txt").read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _fold(text: str) -> str:
    folded = text.casefold()
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return _REMOVED_RE.sub("", decomposed).translate(_FOLD)


def _words(text: str) -> list[str]:
    """The folded words of `text`, with runs of single letters rejoined."""
    words: list[str] = []
    letters: list[str] = []
    for word in _WORD_RE.findall(_fold(text)):
        if len(word) == 1:
            letters.append(word)
            continue
        _add_letters(letters, words)
        words.append(word)
    _add_letters(letters, words)
    return words


def _add_letters(letters: list[str], words: list[str]) -> None:
    """Moves a run of one-letter words to `words`, as one word if spelt out."""
    if len(letters) >= _MIN_SPELLED_OUT:
        words.append("".join(letters))
    else:
        words.extend(letters)
    letters.clear()


def _collapse(spelling: str) -> str:
    return _RUN_RE.sub(r"\1", spelling)


def _spellings(word: str) -> list[str]:
    """The ways a comment's word may be meant: as written, de-leeted, without an article."""
    if word.isalpha() or not any(char.isalpha() for char in word):  # a number stays a number
        spellings = [word]
    else:
        leet = word.translate(_LEET)
        candidates = (_without_symbols(word), leet.replace("1", "i"), leet.replace("1", "l"))
        spellings = [spelling for spelling in dict.fromkeys(candidates) if spelling]
    for article in _ARABIC_ARTICLES:
        if word.startswith(article) and len(word) - len(article) >= 2:
            spellings.append(word[len(article) :])
            break
    return spellings


def _spellings_and_keys(word: str) -> _Spellings:
    return [(spelling, _collapse(spelling)) for spelling in _spellings(word)]


def _entries(term: str) -> list[_Entry]:
    """How a term is looked up: by its words in a row and, for several words, as one."""
    words = tuple(spelling for spelling in map(_without_symbols, _words(term)) if spelling)
    if not words:
        return []
    entries = [_Entry(term, words, tuple(map(_collapse, words)))]
    if len(words) > 1:
        joined = "".join(words)
        entries.append(_Entry(term, (joined,), (_collapse(joined),)))
    return entries


def _without_symbols(word: str) -> str:
    return word.translate(_NO_SYMBOLS)


def _entry_at(entry: _Entry, words: Sequence[_Spellings], start: int) -> bool:
    """Whether the comment's words from `start` on are the entry's words."""
    if start + len(entry.words) > len(words):
        return False
    return all(
        any(
            key == entry_key and _runs_fit(spelling, entry_word, key)
            for spelling, key in words[start + offset]
        )
        for offset, (entry_word, entry_key) in enumerate(zip(entry.words, entry.keys, strict=True))
    )


def _runs_fit(spelling: str, term_word: str, key: str) -> bool:
    """Whether a comment's word with the same collapsed `key` as a term's word is that word.

    Short keys need each run as long as the term's or stretched to three or more
    ("as" is not "ass"; "asss" is); long keys match whatever the runs.
    """
    if len(key) >= _LOOSE_MIN_CHARS or spelling == term_word:
        return True
    return all(
        found == listed or found >= _STRETCH
        for found, listed in zip(_runs(spelling), _runs(term_word), strict=True)
    )


def _runs(spelling: str) -> list[int]:
    return [len(match.group()) for match in _RUN_OR_SINGLE_RE.finditer(spelling)]
