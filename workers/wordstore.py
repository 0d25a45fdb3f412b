"""Word lists in Redis for the workers: seeded once from the shipped files, read for
every batch (`moderator.storage.wordlists` stores them).

Moderators edit the lists at run time (the moderation API); the next batch
scored uses them. A list is rebuilt only when its terms or their languages changed.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from moderator.keys import Keys
from moderator.storage.wordlists import WordListStore, terms_of
from workers.wordlists import WORDLIST_KINDS, Lists, WordList, seed_terms


class WordLists:
    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._store = WordListStore(redis, keys)
        self._cache: dict[str, tuple[frozenset[tuple[str, str]], WordList]] = {}

    async def seed(self) -> None:
        """Fill each list from the shipped file the first time only: a list that
        moderators emptied stays empty."""
        for kind in WORDLIST_KINDS:
            await self._store.seed(kind, seed_terms(kind))

    async def current(self) -> Lists:
        """The banned, suspect and sensitive lists in force now."""
        lists = []
        for kind, stored in zip(WORDLIST_KINDS, await self._store.stored(), strict=True):
            frozen = frozenset(stored.items())
            cached = self._cache.get(kind)
            if cached is None or cached[0] != frozen:
                cached = (frozen, WordList(terms_of(stored)))
                self._cache[kind] = cached
            lists.append(cached[1])
        return Lists(*lists)
