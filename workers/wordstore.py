"""Word lists in Redis: seeded once from the shipped files, read for every batch.

Moderators edit the lists at run time (the moderation API); the next batch
scored uses them. A list is rebuilt only when its terms changed.
"""

from __future__ import annotations

from typing import cast

import redis.asyncio as aioredis

from moderator.keys import Keys
from workers.wordlists import WORDLIST_KINDS, WordList, seed_terms


class WordLists:
    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._cache: dict[str, tuple[frozenset[str], WordList]] = {}

    async def seed(self) -> None:
        """Fill each list from the shipped file the first time only: a list that
        moderators emptied stays empty."""
        for kind in WORDLIST_KINDS:
            if await self._redis.set(self._keys.wordlist_seeded(kind), "1", nx=True):
                terms = seed_terms(kind)
                if terms:
                    await self._redis.sadd(self._keys.wordlist(kind), *terms)

    async def current(self) -> tuple[WordList, WordList]:
        """The banned and suspect lists in force now."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for kind in WORDLIST_KINDS:
                pipe.smembers(self._keys.wordlist(kind))
            members = cast(list[set[str]], await pipe.execute())
        lists = []
        for kind, terms in zip(WORDLIST_KINDS, members, strict=True):
            frozen = frozenset(terms)
            cached = self._cache.get(kind)
            if cached is None or cached[0] != frozen:
                cached = (frozen, WordList(frozen))
                self._cache[kind] = cached
            lists.append(cached[1])
        banned, suspect = lists
        return banned, suspect
