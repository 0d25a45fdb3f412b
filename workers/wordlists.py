"""Word lists: the terms that reject a comment ("banned") or hold it ("suspect"), each
found only in the languages where it is an insult.

A term names its languages (`moderator.storage.wordlists.Term`: `fr`, `en`, `ar`,
`ary`, or `*` for all) and its meaning for moderators. `WordList.matches(text,
language)` takes the comment's language (`workers.language.detect`) and finds a term
only in a word that may be in one of the term's languages:

- in a comment in one language, every word is in that language: "con", a French
  insult, is not found in "He is a con man" (English);
- in a `mixed` comment, each clause is in its own language (`language.clauses`), and
  a clause with no clear language is in those of the other clauses;
- in an `und` comment (no word of any language: "Connard !", "T nul", emoji), every
  word is in every language. Such comments are short, and a short comment that is
  one insult is what the lists are for: a missed insult is published, while a term
  found where it is innocent holds the comment for a moderator (suspect terms), or
  rejects it only for a term no language of the site uses innocently (banned terms);
- the script overrides the comment's language: a word in Arabic letters is Arabic or
  Darija (even in a French comment), a Latin word French, English or Darija, and a
  Latin word spelt as only Darija spells ("l7mar") may be Darija in any comment.

Words are compared as `workers.wordforms` reads them (folding, spelt-out letters,
leetspeak, stretched letters, emoji as words, never inside another word); a term of
several words matches those words in a row, or written as one word ("filsdepute"),
in the languages of its first word. A term that names `ary` is looked up as Darija
writes it (`workers.darija`: digits as letters, 7~h, 9~q~k, 3~a, doubled letters,
the joined article, plurals), a term in Darija alone only so: no leetspeak.

The shipped seed lists are `workers/data/banned.txt` and `suspect.txt`, and
`sensitive.txt` (groups of people, violence), which holds nothing itself: it only keeps
the site model from publishing a comment alone (`workers.policy`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple

from moderator.storage.wordlists import ALL, KINDS, LANGUAGES, Term, merged
from workers import darija, wordforms
from workers.language import DARIJA, MIXED, UNDETERMINED, clauses, is_darija_spelling

WORDLIST_KINDS = KINDS

_EVERY = frozenset(LANGUAGES)
_ARABIC_SCRIPT = frozenset({"ar", DARIJA})
_LATIN_SCRIPT = frozenset({"fr", "en", "es", DARIJA})


@dataclass(frozen=True, slots=True)
class _Word:
    """A comment's word as matching tries it: its (spelling, collapsed key) pairs, its
    Darija keys (none unless it may be Darija), and the languages it may be in."""

    spellings: list[tuple[str, str]]
    darija: frozenset[str]
    languages: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Entry:
    """A listed term as matching sees it: its words as folded, and collapsed."""

    term: Term
    words: tuple[str, ...]
    keys: tuple[str, ...]

    def at(self, words: Sequence[_Word], start: int) -> bool:
        """Whether the comment's words from `start` on are this entry's words."""
        if start + len(self.words) > len(words):
            return False
        for offset, (listed, listed_key) in enumerate(zip(self.words, self.keys, strict=True)):
            for spelling, key in words[start + offset].spellings:
                if key == listed_key and wordforms.runs_fit(spelling, listed, key):
                    break
            else:
                return False
        return True


@dataclass(frozen=True, slots=True)
class _DarijaEntry:
    """A Darija term as matching sees it: the Darija keys of each of its words."""

    term: Term
    keys: tuple[frozenset[str], ...]

    def at(self, words: Sequence[_Word], start: int) -> bool:
        """Whether the comment's words from `start` on are this term's words, as Darija."""
        if start + len(self.keys) > len(words):
            return False
        for offset, keys in enumerate(self.keys):
            if words[start + offset].darija.isdisjoint(keys):
                return False
        return True


class WordList:
    """A list of terms and the lookup tables that find them in comments."""

    def __init__(self, terms: Iterable[str | Term]) -> None:
        """`terms` as moderators type them, plain (in every language) or as `Term`s; a
        term given twice is merged (`moderator.storage.wordlists.merged`). Blank ones are
        ignored; one with no letter, digit or emoji ("!!!") is kept but never matches."""
        if isinstance(terms, str):
            raise TypeError("WordList takes an iterable of terms, not one string")
        given = (Term(term) if isinstance(term, str) else term for term in terms)
        stripped = (Term(t.term.strip(), t.languages, t.meaning) for t in given)
        self._entries = tuple(merged(term for term in stripped if term.term))
        self._index: dict[str, list[_Entry]] = {}  # by the collapsed first word
        self._darija: dict[str, list[_DarijaEntry]] = {}  # by the first word's Darija keys
        for term in self._entries:
            for entry in _entries(term):
                if isinstance(entry, _DarijaEntry):
                    for key in entry.keys[0]:
                        self._darija.setdefault(key, []).append(entry)
                else:
                    self._index.setdefault(entry.keys[0], []).append(entry)

    @property
    def terms(self) -> tuple[str, ...]:
        """The terms, sorted and without duplicates, as given (without surrounding spaces)."""
        return tuple(term.term for term in self._entries)

    @property
    def entries(self) -> tuple[Term, ...]:
        """The terms with their languages and meanings, sorted by term."""
        return self._entries

    def matches(self, text: str, language: str) -> list[Term]:
        """The listed terms found in `text`, a comment in `language` (a code of
        `workers.language`; another code finds only terms in every language), sorted."""
        words = _read(text, language)
        found: dict[str, Term] = {}
        looked_up: dict[int, list[_Entry | _DarijaEntry]] = {}  # a word written again
        for start, word in enumerate(words):
            entries = looked_up.get(id(word))
            if entries is None:
                entries = looked_up[id(word)] = self._entries_of(word)
            for entry in entries:
                term = entry.term
                if (
                    term.term not in found
                    and _in_languages(term, word.languages)
                    and entry.at(words, start)
                ):
                    found[term.term] = term
        return [found[name] for name in sorted(found)]

    def _entries_of(self, word: _Word) -> list[_Entry | _DarijaEntry]:
        """The entries whose first word may be `word`."""
        entries: list[_Entry | _DarijaEntry] = []
        for _, key in word.spellings:
            entries += self._index.get(key, ())
        for key in word.darija:
            entries += self._darija.get(key, ())
        return entries


def normalise(text: str) -> str:
    """The words of `text` as matching compares them, joined by single spaces.

    Each word is folded, rejoined if spelt out and collapsed (`workers.wordforms`;
    de-leeting and article removal are tried on top of this form when matching), and
    emoji are left out: `normalise("C.O.N.N.A.R.D, très  CON")` is `"conard tres con"`.
    """
    found = wordforms.words([(text, _EVERY)], emoji=False)
    spellings = (wordforms.without_symbols(word) for word, _ in found)
    return " ".join(wordforms.collapse(spelling) for spelling in spellings if spelling)


# A quoted span: "…", “…”, «…», „…“, ‘…’, or '…' between spaces (not an elision:
# "l'arbitre c'est" quotes nothing). Bounded, so that a run of opening marks is cheap.
_QUOTED_RE = re.compile(
    r"\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”|«[^»\n]{1,300}»|„[^“”\n]{1,300}[“”]|‘[^’\n]{1,300}’"
    r"|(?<!\w)'[^'\n]{1,300}'(?!\w)"
)


_QUOTE_MARKS = frozenset('"“”«»„')  # not the apostrophe: "fils d'…" elides


def quoted_only(
    words: WordList, text: str, language: str
) -> tuple[tuple[Term, ...], tuple[Term, ...]]:
    """The terms of `words` found in `text`, apart: those found outside quotation marks,
    and those found only inside them (reported speech: «il m'a traité de connard» is
    about an insult, not one)."""
    found = words.matches(text, language)
    if not found or not _QUOTED_RE.search(text):
        return tuple(found), ()
    outside = set(words.matches(_QUOTED_RE.sub(" ", text), language))
    # A term that holds a quotation mark itself (markup, `onerror="…"`) is cut by taking
    # the quoted spans out, not reported: it stays the speaker's.
    outside.update(term for term in found if _QUOTE_MARKS.intersection(term.term))
    return (
        tuple(term for term in found if term in outside),
        tuple(term for term in found if term not in outside),
    )


def said_and_quoted(
    banned: WordList, suspect: WordList, text: str, language: str
) -> tuple[tuple[Term, ...], tuple[Term, ...], tuple[Term, ...]]:
    """The banned and the suspect terms found in `text` outside quotation marks, and those
    of either found only inside them (`quoted_only`)."""
    said_banned, quoted_banned = quoted_only(banned, text, language)
    said_suspect, quoted_suspect = quoted_only(suspect, text, language)
    return said_banned, said_suspect, quoted_banned + quoted_suspect


class Lists(NamedTuple):
    """The lists in force, one per kind (`WORDLIST_KINDS`)."""

    banned: WordList  # rejects
    suspect: WordList  # holds
    sensitive: WordList  # keeps the site model from publishing alone


def seed_terms(kind: str) -> list[Term]:
    """The shipped `kind` list ("banned", "suspect" or "sensitive"), in file order.

    One term per line in `workers/data/<kind>.txt`: `term | languages | meaning`,
    the languages separated by spaces ("fr ary", or "*"); a line with the term alone
    is in every language, with no meaning. Blank lines and lines starting with "#"
    are ignored.
    """
    if kind not in WORDLIST_KINDS:
        raise ValueError(f"unknown word list {kind!r}; expected one of {WORDLIST_KINDS}")
    text = (resources.files("workers") / "data" / f"{kind}.txt").read_text(encoding="utf-8")
    terms = []
    for line in map(str.strip, text.splitlines()):
        if line and not line.startswith("#"):
            term, _, rest = line.partition("|")
            languages, _, meaning = rest.partition("|")
            terms.append(Term.of(term.strip(), languages.split() or (ALL,), meaning.strip()))
    return terms


def _in_languages(term: Term, languages: frozenset[str]) -> bool:
    return term.languages == (ALL,) or not languages.isdisjoint(term.languages)


@functools.lru_cache(maxsize=64)
def _read(text: str, language: str) -> tuple[_Word, ...]:
    """The words of a comment in `language`, each with the languages it may be in. Kept
    for the next lists: the worker matches three (and again outside quotation marks) in
    the same comment, and reading it, not looking its words up, is most of the work
    (`moderator bench checks`: word lists 1.14 → 0.37 ms a comment)."""
    if language == MIXED:
        found = clauses(text)
        known = frozenset(code for _, code in found if code in _EVERY)
        parts = [(clause, _languages(code, known or _EVERY)) for clause, code in found]
    else:
        parts = [(text, _languages(language, _EVERY))]
    words = []
    read: dict[tuple[str, frozenset[str]], _Word] = {}  # a word written again is read once
    for tagged in wordforms.words(parts, emoji=True):
        if tagged not in read:
            word, clause_languages = tagged
            languages = _word_languages(word, clause_languages)
            spelt = DARIJA in languages and any(char.isalpha() for char in word)  # not "455"
            keys = darija.keys(word) if spelt else frozenset()
            read[tagged] = _Word(wordforms.spellings(word), keys, languages)
        words.append(read[tagged])
    return tuple(words)


def _languages(code: str, otherwise: frozenset[str]) -> frozenset[str]:
    """A clause's languages: its own, or `otherwise` when it has none (`und`, `mixed`)."""
    return otherwise if code in (UNDETERMINED, MIXED) else frozenset({code})


def _word_languages(word: str, languages: frozenset[str]) -> frozenset[str]:
    """The languages a word of a clause in `languages` may be in, given its script."""
    if darija.ARABIC_RE.search(word):
        script = _ARABIC_SCRIPT
    elif any(char.isalpha() for char in word):
        script = _LATIN_SCRIPT
    else:
        return languages  # a number, an emoji
    if languages <= _EVERY:  # languages of the site, maybe all of the other script
        languages = languages & script or script
    if script is _LATIN_SCRIPT and is_darija_spelling(word):
        languages |= {DARIJA}
    return languages


def _entries(term: Term) -> list[_Entry | _DarijaEntry]:
    """How a term is looked up: a Darija term as Darija writes it; a term in another
    language by its words in a row and, for several words, as one."""
    tagged = wordforms.words([(term.term, _EVERY)], emoji=True)
    words = tuple(filter(None, (wordforms.without_symbols(word) for word, _ in tagged)))
    if not words:
        return []
    entries: list[_Entry | _DarijaEntry] = []
    if DARIJA in term.languages:
        entries.append(_DarijaEntry(term, tuple(map(darija.term_keys, words))))
    if term.languages != (DARIJA,):
        collapsed = tuple(map(wordforms.collapse, words))
        entries.append(_Entry(term, words, collapsed))
        if len(words) > 1:
            joined = "".join(words)
            entries.append(_Entry(term, (joined,), (wordforms.collapse(joined),)))
    return entries
