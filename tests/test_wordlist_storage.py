"""Word lists in Redis (moderator/storage/wordlists.py): terms with their languages and
meanings, lists replaced (audited), seeded once, and the sets older versions wrote
merged on read. The same through the API: tests/test_moderation.py."""

from __future__ import annotations

import json

import pytest
import redis.asyncio as aioredis
from structlog.testing import capture_logs

from moderator.keys import Keys
from moderator.storage.wordlists import Term, WordListStore, languages_of, merged

CON = Term("con", ("fr",), "« imbécile »")
ZAMEL = Term("zamel", ("ary",), "injure homophobe")


@pytest.fixture
def store(redis: aioredis.Redis, keys: Keys) -> WordListStore:
    return WordListStore(redis, keys)


async def test_replacing_a_list_keeps_languages_and_meanings_and_is_audited(
    store: WordListStore, redis: aioredis.Redis, keys: Keys
) -> None:
    await store.replace("suspect", [CON, ZAMEL], by="moderator:amina")
    assert await store.read("suspect") == [CON, ZAMEL]
    assert json.loads(await redis.hget(keys.wordlist_terms("suspect"), "con")) == {
        "languages": ["fr"],
        "meaning": "« imbécile »",
    }
    await store.replace("suspect", [], by="moderator:amina")
    assert await store.read("suspect") == []
    assert await redis.get(keys.wordlist_seeded("suspect")) == "1"  # not seeded again
    entries = [fields for _, fields in await redis.xrange(keys.audit)]
    assert [(e["action"], e["by"], e["terms"]) for e in entries] == [
        ("wordlist.suspect.replace", "moderator:amina", "2"),
        ("wordlist.suspect.replace", "moderator:amina", "0"),
    ]


async def test_a_set_an_older_version_wrote_is_merged_in_every_language(
    store: WordListStore, redis: aioredis.Redis, keys: Keys
) -> None:
    await store.replace("banned", [CON], by="moderator:amina")
    await redis.sadd(keys.wordlist("banned"), "zorglub", "con")
    assert await store.read("banned") == [CON, Term("zorglub", ("*",), "")]
    assert not await redis.exists(keys.wordlist("banned"))  # merged once, then gone
    await store.replace("banned", [ZAMEL], by="moderator:amina")
    assert await store.read("banned") == [ZAMEL]


async def test_a_list_is_seeded_once_and_an_emptied_list_stays_empty(
    store: WordListStore,
) -> None:
    assert await store.seed("suspect", [CON])
    assert not await store.seed("suspect", [ZAMEL])
    assert await store.read("suspect") == [CON]
    await store.replace("suspect", [], by="moderator:amina")
    assert not await store.seed("suspect", [CON])
    assert await store.read("suspect") == []


async def test_edits_add_terms_as_given_and_remove_them_from_both_forms(
    store: WordListStore, redis: aioredis.Redis, keys: Keys
) -> None:
    await store.replace("suspect", [CON, ZAMEL], by="moderator:amina")
    await redis.sadd(keys.wordlist("suspect"), "bidule")
    async with redis.pipeline(transaction=True) as pipe:
        store.edit(pipe, "suspect", [Term("truc")], ["zamel", "bidule"])
        await pipe.execute()
    assert await store.read("suspect") == [CON, Term("truc")]


async def test_a_value_broken_by_hand_reads_as_the_term_in_every_language(
    store: WordListStore, redis: aioredis.Redis, keys: Keys
) -> None:
    await redis.hset(keys.wordlist_terms("suspect"), "truc", "{not json")
    with capture_logs() as logs:
        assert await store.read("suspect") == [Term("truc")]
    assert logs[0]["event"] == "wordlist_term_invalid"


def test_languages_are_checked_and_put_in_order() -> None:
    assert languages_of(["ary", "fr"]) == ("fr", "ary")
    assert languages_of(["fr", "*"]) == ("*",)
    assert languages_of(["es", "en"]) == ("en", "es")
    for wrong in ([], ["de"], ["fr", 1], "fr"):
        with pytest.raises(ValueError, match="languages"):
            languages_of(wrong)


def test_a_term_given_twice_is_merged() -> None:
    assert merged([Term("con", ("fr",)), ZAMEL, Term("con", ("en",), "escroc")]) == [
        Term("con", ("fr", "en"), "escroc"),
        ZAMEL,
    ]


def test_a_term_without_letters_or_digits_is_wordless() -> None:
    assert Term("🖕").wordless
    assert not Term("c0n").wordless
