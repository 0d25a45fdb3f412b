"""Word lists in Redis: each term with the languages it insults in and its meaning.

A list, `banned` (reject), `suspect` (hold) or `sensitive` (the site model does not publish
alone), is a hash at `keys.wordlist_terms(kind)`:
term -> JSON `{"languages": ["fr"], "meaning": "insulte grossière (« idiot »)"}`. The
languages are codes of `LANGUAGES`, or `ALL` ("*") for a term that insults in any.

Lists written before terms had languages are sets at `keys.wordlist(kind)`. Reading a
list merges such a set into the hash, each of its terms in every language (`ALL`) and
with no meaning, a term already in the hash keeping its own, then deletes the set: one
atomic script, so a term an older writer added is neither lost nor kept in two places.

The moderation API reads and replaces the lists here; the workers seed them from their
shipped files and match them (`workers.wordstore`, `workers.wordlists`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import redis.asyncio as aioredis
import structlog

from moderator.domain import utc_now
from moderator.keys import Keys
from moderator.records import AuditEntry, stream_fields

log = structlog.get_logger()

KINDS: Final = ("banned", "suspect", "sensitive")
ALL: Final = "*"
LANGUAGES: Final = ("fr", "en", "ar", "ary", "es")  # the languages a term can name, in order
MAX_MEANING_CHARS: Final = 200

# KEYS: (legacy set, hash) for each list read. ARGV[1]: the value of a migrated term.
# Returns the HGETALL of each hash, in order.
_READ_SCRIPT = """
local lists = {}
for i = 1, #KEYS, 2 do
  local legacy = redis.call('SMEMBERS', KEYS[i])
  for _, term in ipairs(legacy) do redis.call('HSETNX', KEYS[i + 1], term, ARGV[1]) end
  if #legacy > 0 then redis.call('DEL', KEYS[i]) end
  lists[#lists + 1] = redis.call('HGETALL', KEYS[i + 1])
end
return lists
"""


def languages_of(languages: Iterable[object]) -> tuple[str, ...]:
    """Language codes checked and put in `LANGUAGES` order; `ALL` among them is all of
    them. ValueError for none, or for one that is not a code."""
    given = list(languages)
    if not given or not all(isinstance(code, str) and code in (ALL, *LANGUAGES) for code in given):
        raise ValueError(f"languages must be some of {(ALL, *LANGUAGES)}, got {given!r}")
    if ALL in given:
        return (ALL,)
    return tuple(code for code in LANGUAGES if code in given)


@dataclass(frozen=True, slots=True)
class Term:
    """A listed term, where it is an insult (`languages`; `(ALL,)`: in any language) and
    what it means, for moderators: a few words in English or French, or nothing."""

    term: str
    languages: tuple[str, ...] = (ALL,)
    meaning: str = ""

    @classmethod
    def of(cls, term: str, languages: Iterable[object] = (ALL,), meaning: str = "") -> Term:
        """A term with its languages checked and in order (`languages_of`)."""
        return cls(term, languages_of(languages), meaning)

    @property
    def wordless(self) -> bool:
        """No letter or digit: an emoji ("🖕"), which never rejects a comment alone."""
        return not any(char.isalnum() for char in self.term)

    def to_dict(self) -> dict[str, Any]:
        return {"term": self.term, "languages": list(self.languages), "meaning": self.meaning}

    def stored(self) -> str:
        """The term's value in its list's hash."""
        value = {"languages": list(self.languages), "meaning": self.meaning}
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_stored(cls, term: str, value: str) -> Term:
        """A term from its hash value. A value a hand edit broke is logged and read as
        the term in every language, with no meaning: never dropped."""
        try:
            data = json.loads(value)
            return cls.of(term, data["languages"], str(data.get("meaning") or ""))
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("wordlist_term_invalid", term=term, value=value)
            return cls(term)


def merged(terms: Iterable[Term]) -> list[Term]:
    """One entry per term, sorted: a term given twice insults in the languages of both
    and keeps the first meaning given."""
    by_term: dict[str, Term] = {}
    for term in terms:
        seen = by_term.get(term.term)
        if seen is not None:
            languages = (*seen.languages, *term.languages)
            term = Term.of(term.term, languages, seen.meaning or term.meaning)
        by_term[term.term] = term
    return [by_term[name] for name in sorted(by_term)]


def terms_of(stored: Mapping[str, str]) -> list[Term]:
    """The terms of a list's hash, sorted."""
    return [Term.from_stored(term, stored[term]) for term in sorted(stored)]


class WordListStore:
    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def stored(self, kinds: Sequence[str] = KINDS) -> list[dict[str, str]]:
        """Each list's hash as stored (term -> JSON), older sets merged in first."""
        keys = [key for kind in kinds for key in self._legacy_and_hash(kind)]
        lists = await self._redis.eval(_READ_SCRIPT, len(keys), *keys, Term("").stored())
        return [
            dict(zip(flat[::2], flat[1::2], strict=True)) for flat in cast(list[list[str]], lists)
        ]

    async def read(self, kind: str) -> list[Term]:
        """A list's terms, sorted."""
        (stored,) = await self.stored((kind,))
        return terms_of(stored)

    async def replace(self, kind: str, terms: Sequence[Term], *, by: str) -> None:
        """Replace a list, audited (`wordlist.<kind>.replace` with how many terms); a list
        replaced is never seeded again, even when emptied."""
        legacy, stored = self._legacy_and_hash(kind)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(legacy, stored)
            if terms:
                pipe.hset(stored, mapping={term.term: term.stored() for term in terms})
            pipe.set(self._keys.wordlist_seeded(kind), "1")
            entry = AuditEntry(
                action=f"wordlist.{kind}.replace", by=by, at=utc_now(), terms=len(terms)
            )
            pipe.xadd(self._keys.audit, stream_fields(entry))
            await pipe.execute()

    async def seed(self, kind: str, terms: Sequence[Term]) -> bool:
        """Fill a list with `terms` the first time only (a list that moderators emptied
        stays empty); True when it did."""
        if not await self._redis.set(self._keys.wordlist_seeded(kind), "1", nx=True):
            return False
        if terms:
            await self._redis.hset(
                self._keys.wordlist_terms(kind),
                mapping={term.term: term.stored() for term in terms},
            )
        return True

    def edit(
        self, pipe: aioredis.client.Pipeline, kind: str, add: Sequence[Term], remove: Sequence[str]
    ) -> None:
        """Queue on `pipe` (a transaction) adding `add`, as given, and removing `remove`."""
        legacy, stored = self._legacy_and_hash(kind)
        if add:
            pipe.hset(stored, mapping={term.term: term.stored() for term in add})
        if remove:
            pipe.hdel(stored, *remove)
            pipe.srem(legacy, *remove)

    def _legacy_and_hash(self, kind: str) -> tuple[str, str]:
        return self._keys.wordlist(kind), self._keys.wordlist_terms(kind)
