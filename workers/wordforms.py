"""The words of a comment as the word lists compare them, and the ways each may be meant.

Terms and comments are compared word by word, never inside other words ("con" is
not found in "conseil", nor "ass" in "classe"), after the same normalisation (its
folding in `workers.folding.fold_decomposed`):

- case folded; compatibility forms unfolded (𝐜𝐨𝐧 → con, Arabic presentation
  forms → letters); Latin accents removed (é → e, ç → c, œ → oe);
- Arabic: diacritics (tashkeel, Quranic marks) and the tatweel removed;
  أ إ آ ٱ → ا, ؤ → و, ئ → ي, ى → ي, ة → ه (and the Persian look-alikes ک ی ھ);
- Cyrillic and Greek look-alikes in a word with Latin letters read as Latin ("cоnnard"
  with a Cyrillic о); punctuation between tatweels removed ("الكلـ.ـب" is "الكلب");
- zero-width characters removed; anything but letters, digits, @ and $ splits words;
  an emoji is a word of its own ("🖕🏽" is "🖕": skin tones are dropped);
- three or more letters written one by one ("c.o.n", "c o n", "c-o-n") rejoined;
- runs of a repeated character collapsed ("connnnard" and "connard" → "conard").

A comment's word that has letters is tried both as written and de-leeted (0 → o,
1 → i or l, 3 → e, 4 → a, 5 → s, 7 → t, @ → a, $ → s); a number stays a number
("455"). An Arabic word is also tried without its article (ال, وال, فال, بال, كال,
لل), or else without a joined conjunction (و, ف: "وعاهرة", three letters left), and as
the singular of a sound plural (-ون, -ين, -ات: "المهاجرون" is "مهاجر").
Collapsing runs would make "as" match "ass" and "Niger" a slur, so when a
term's collapsed word has fewer than six characters, each run in the comment's word
must be as long as in the term or stretched to three or more (`runs_fit`): "asss"
matches "ass", "as" does not. Longer words match whatever their runs.

Darija is read otherwise (`workers.darija`): there 3 and 7 are letters, not leetspeak.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from workers.darija import ARABIC_ARTICLES, arabic_singulars, without_conjunction
from workers.folding import STRETCH, fold_decomposed

# A word and what the caller tags it with (`workers.wordlists`: its languages).
Tagged = tuple[str, frozenset[str]]

MIN_SPELLED_OUT: Final = 3  # letters written one by one that are rejoined
LOOSE_MIN_CHARS: Final = 6  # collapsed words this long match whatever their runs

# Letters, digits, @ and $ in a row; or one emoji (pictographs, symbols, dingbats).
_TOKEN_RE = re.compile(r"(?:[^\W_]|[@$])+|[\U0001f000-\U0001faff\u2600-\u27bf]")
_EMOJI_MODIFIERS_RE = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")  # skin tones, emoji style
_RUN_RE = re.compile(r"(.)\1+")
_RUN_OR_SINGLE_RE = re.compile(r"(.)\1*")
_NO_SYMBOLS = str.maketrans("", "", "@$")
_LEET = str.maketrans({"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})


def words(parts: Iterable[Tagged], *, emoji: bool) -> list[Tagged]:
    """The folded words of each text of `parts`, each with the text's tag, and its emoji
    when `emoji`. Letters written one by one are rejoined across texts: the word takes
    the tag of its first letter."""
    found: list[Tagged] = []
    letters: list[Tagged] = []
    for text, tag in parts:
        folded = _EMOJI_MODIFIERS_RE.sub("", fold_decomposed(text.casefold()))
        for token in _TOKEN_RE.findall(folded):
            is_emoji = not (token[0].isalnum() or token[0] in "@$")
            if is_emoji and not emoji:
                continue
            if len(token) == 1 and not is_emoji:
                letters.append((token, tag))
                continue
            _add_letters(letters, found)
            found.append((token, tag))
    _add_letters(letters, found)
    return found


def spellings(word: str) -> list[tuple[str, str]]:
    """The ways a comment's word may be meant, as written, de-leeted and without an
    Arabic article, each with its collapsed key."""
    if word.isalpha() or not any(char.isalpha() for char in word):  # a number stays a number
        found = [word]
    else:
        leet = word.translate(_LEET)
        candidates = (without_symbols(word), leet.replace("1", "i"), leet.replace("1", "l"))
        found = [spelling for spelling in dict.fromkeys(candidates) if spelling]
    for article in ARABIC_ARTICLES:
        if word.startswith(article) and len(word) - len(article) >= 2:
            found.append(word[len(article) :])
            break
    else:
        found += without_conjunction(word)
    # and as the singular of a sound plural (its endings are Arabic letters)
    found += [singular for spelling in list(found) for singular in arabic_singulars(spelling)]
    return [(spelling, collapse(spelling)) for spelling in found]


def collapse(spelling: str) -> str:
    """`spelling` with each run of a character written once."""
    return _RUN_RE.sub(r"\1", spelling)


def without_symbols(word: str) -> str:
    return word.translate(_NO_SYMBOLS)


def runs_fit(spelling: str, term_word: str, key: str) -> bool:
    """Whether a comment's word with the same collapsed `key` as a term's word is that word.

    Short keys need each run as long as the term's or stretched to three or more
    ("as" is not "ass"; "asss" is); long keys match whatever the runs.
    """
    if len(key) >= LOOSE_MIN_CHARS or spelling == term_word:
        return True
    return all(
        found == listed or found >= STRETCH
        for found, listed in zip(_runs(spelling), _runs(term_word), strict=True)
    )


def _add_letters(letters: list[Tagged], found: list[Tagged]) -> None:
    """Moves a run of one-letter words to `found`, as one word if spelt out."""
    if len(letters) >= MIN_SPELLED_OUT:
        found.append(("".join(letter for letter, _ in letters), letters[0][1]))
    else:
        found.extend(letters)
    letters.clear()


def _runs(spelling: str) -> list[int]:
    return [len(match.group()) for match in _RUN_OR_SINGLE_RE.finditer(spelling)]
