"""The site model's counts in Redis: what every worker reads, and what moderators teach.

The model (`workers.textmodel`) is naive Bayes over hashed n-grams, so its
whole state is counts: per label (`ham`, `spam`, `toxic`) how many comments it
learned, how many features they had, and how often each feature bucket came
up, and how many comments it learned in each language. A bucket's three counts
are one field ("3 0 1"), so the worker reads a comment's ~300 features with one
lookup each, not three. Learning a comment is
one script call that adds its buckets under its label and remembers what it
added (`Keys.text_learned`) and the language it was in (`Keys.text_languages`):
learning the same
comment again under the same label changes nothing (a redelivered verdict), a
new label first subtracts the old one (a moderator who changed their mind, a
take-down), and forgetting a reader subtracts exactly what their comments
added. The service uses `forget`; it never computes features (no model code
here), only moves numbers.

Counts kept before they were packed (one hash per label) are moved by `pack`, a
chunk at a time, when a worker starts; meanwhile every script first moves the
buckets it touches, so learning, forgetting and reading stay exact throughout.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import redis.asyncio as aioredis

from moderator.keys import Keys

LABELS: Final = ("ham", "spam", "toxic")
# A bucket number's high bits name its feature group (`workers.textmodel`: 0 Latin and
# other scripts, 1 Arabic script, 2 consonant skeletons): each label's feature total is
# kept per group, so a feature's likelihood is relative to its group's share of the label.
GROUP_BITS: Final = 20
GROUPS: Final = 3
PACK_CHUNK: Final = 2000  # buckets moved per script call: a few ms of Redis's time

# Shared by the scripts. Needs `totals`, `packed` and `legacy` (the per-label hashes of
# before, in the order of LABELS) set first. The vocabulary is the totals' "vocabulary"
# plus the fields still in `legacy`: a pair moved from there is counted here instead.
_PACKED = """
local call, match, max = redis.call, string.match, math.max
local vocab = 0
local has_legacy = call('EXISTS', legacy[1], legacy[2], legacy[3]) > 0
local function counts_of(bucket)
  local v = call('HGET', packed, bucket)
  if not v then return {0, 0, 0} end
  local h, s, t = match(v, '(%d+) (%d+) (%d+)')
  return {tonumber(h), tonumber(s), tonumber(t)}
end
local function store(bucket, c)
  if c[1] + c[2] + c[3] == 0 then
    call('HDEL', packed, bucket)
  else
    call('HSET', packed, bucket, c[1] .. ' ' .. c[2] .. ' ' .. c[3])
  end
end
local function fold(bucket, c)  -- move the bucket's counts of before into c
  local moved = false
  for i = 1, 3 do
    local v = call('HGET', legacy[i], bucket)
    if v then
      local n = tonumber(v)
      if n > 0 then
        if c[i] == 0 then vocab = vocab + 1 end
        c[i] = c[i] + n
      end
      call('HDEL', legacy[i], bucket)
      moved = true
    end
  end
  return moved
end
local function bump(bucket, i, delta)
  local c = counts_of(bucket)
  if has_legacy then fold(bucket, c) end
  local before = c[i]
  local after = max(before + delta, 0)
  if before == 0 and after > 0 then vocab = vocab + 1 end
  if before > 0 and after == 0 then vocab = vocab - 1 end
  c[i] = after
  store(bucket, c)
end
local function save_vocabulary()
  if vocab ~= 0 then call('HINCRBY', totals, 'vocabulary', vocab) end
end
"""

# KEYS: learned, totals, counts, languages, then the per-label counts of before
# ARGV: comment id, label ("" to forget), buckets as decimal numbers joined by spaces,
# the comment's language ("" when not known)
# Totals: "features:<label>" over every group (as before groups), "features:<label>:<g>"
# for the other groups; group 0's is the difference; "examples:<language>" per language.
_LEARN = (
    (
        """
local totals, packed, legacy = KEYS[2], KEYS[3], {KEYS[5], KEYS[6], KEYS[7]}
"""
        + _PACKED
        + """
local slot = {ham = 1, spam = 2, toxic = 3}
local groups = GROUPS
local function group(bucket)  -- 1-based: Lua tables
  return math.min(math.floor(tonumber(bucket) / GROUP_SIZE), groups - 1) + 1
end
local function counted()
  local n = {}
  for g = 1, groups do n[g] = 0 end
  return n
end
local function add_totals(label, n, sign)
  local all = 0
  for g = 1, groups do all = all + n[g] end
  redis.call('HINCRBY', totals, 'features:' .. label, sign * all)
  for g = 2, groups do
    if n[g] ~= 0 then
      redis.call('HINCRBY', totals, 'features:' .. label .. ':' .. (g - 1), sign * n[g])
    end
  end
end
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local sep = string.find(old, ' ', 1, true)
  local old_label = sep and string.sub(old, 1, sep - 1) or old
  if old_label == ARGV[2] then return 0 end
  local n = counted()
  if sep then
    for bucket in string.gmatch(string.sub(old, sep + 1), '%d+') do
      bump(bucket, slot[old_label], -1)
      local g = group(bucket)
      n[g] = n[g] + 1
    end
  end
  redis.call('HINCRBY', totals, 'docs:' .. old_label, -1)
  add_totals(old_label, n, -1)
  redis.call('HDEL', KEYS[1], ARGV[1])
  local old_language = redis.call('HGET', KEYS[4], ARGV[1])
  if old_language then
    redis.call('HINCRBY', totals, 'examples:' .. old_language, -1)
    redis.call('HDEL', KEYS[4], ARGV[1])
  end
end
if ARGV[2] == '' then
  save_vocabulary()
  if old then return 1 end
  return 0
end
local n = counted()
for bucket in string.gmatch(ARGV[3], '%d+') do
  bump(bucket, slot[ARGV[2]], 1)
  local g = group(bucket)
  n[g] = n[g] + 1
end
save_vocabulary()
redis.call('HINCRBY', totals, 'docs:' .. ARGV[2], 1)
add_totals(ARGV[2], n, 1)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3])
if ARGV[4] and ARGV[4] ~= '' then
  redis.call('HSET', KEYS[4], ARGV[1], ARGV[4])
  redis.call('HINCRBY', totals, 'examples:' .. ARGV[4], 1)
end
return 1
"""
    )
    .replace("GROUP_SIZE", str(1 << GROUP_BITS))
    .replace("GROUPS", str(GROUPS))
)

# KEYS: totals, counts, then the per-label counts of before
# ARGV: buckets. Moves those buckets' counts of before into the packed counts; returns
# how many buckets had any.
_PACK = (
    """
local totals, packed, legacy = KEYS[1], KEYS[2], {KEYS[3], KEYS[4], KEYS[5]}
"""
    + _PACKED
    + """
local moved = 0
for i = 1, #ARGV do
  local c = counts_of(ARGV[i])
  if fold(ARGV[i], c) then
    store(ARGV[i], c)
    moved = moved + 1
  end
end
save_vocabulary()
return moved
"""
)

TOTALS: Final = (
    *(f"docs:{label}" for label in LABELS),
    *(f"features:{label}" for label in LABELS),
    *(f"features:{label}:{g}" for g in range(1, GROUPS) for label in LABELS),
    "vocabulary",
)


@dataclass(frozen=True, slots=True)
class Counts:
    """What the model knows, for one comment: comments learned per label, the total of
    feature counts per label and feature group, and per label the counts of this
    comment's features."""

    docs: Mapping[str, int]
    totals: Mapping[str, Sequence[int]]  # label → per group (`GROUPS`)
    features: Mapping[str, Sequence[int]]  # label → counts, in the order of the buckets asked
    vocabulary: int  # distinct features learned, about (the smoothing's denominator)
    in_language: int = 0  # comments learned in this comment's language

    @property
    def examples(self) -> int:
        return sum(self.docs.values())


class TextCounts:
    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._learn = redis.register_script(_LEARN)
        self._pack = redis.register_script(_PACK)
        self._legacy = [keys.text_counts_per_label(x) for x in LABELS]

    def _script_keys(self) -> list[str]:
        keys = self._keys
        return [
            keys.text_learned,
            keys.text_totals,
            keys.text_counts,
            keys.text_languages,
            *self._legacy,
        ]

    async def learn(
        self, comment_id: str, label: str, buckets: Sequence[int], language: str = ""
    ) -> bool:
        """Learn a comment under `label`, in `language` (a code of `workers.language`;
        "" when not known); False when it had already taught exactly that label."""
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r}; expected one of {LABELS}")
        args = [comment_id, label, " ".join(map(str, buckets)), language]
        return bool(await self._learn(keys=self._script_keys(), args=args))

    async def learn_many(
        self, examples: Sequence[tuple[str, str, Sequence[int], str]], *, replace: bool = False
    ) -> int:
        """`learn` for many (comment id, label, buckets, language), a hundred per round
        trip; how many changed the counts. With `replace`, what each taught before is
        forgotten first, so the same label teaches these buckets instead (the features
        changed, not the verdict)."""
        learned = 0
        for start in range(0, len(examples), 100):
            async with self._redis.pipeline(transaction=False) as pipe:
                for comment_id, label, buckets, language in examples[start : start + 100]:
                    if label not in LABELS:
                        raise ValueError(f"unknown label {label!r}; expected one of {LABELS}")
                    if replace:
                        await self._learn(self._script_keys(), [comment_id, ""], client=pipe)
                    args = [comment_id, label, " ".join(map(str, buckets)), language]
                    await self._learn(keys=self._script_keys(), args=args, client=pipe)
                results = await pipe.execute()
                learned += sum(map(int, results[1::2] if replace else results))
        return learned

    async def pack(self) -> tuple[int, float]:
        """Move the counts kept before they were packed (one hash per label), a chunk of
        buckets per script call; how many buckets had any, and the seconds it took.
        Several workers may run it at once: a bucket is moved once."""
        started = time.perf_counter()
        moved = 0
        keys = [self._keys.text_totals, self._keys.text_counts, *self._legacy]
        while await self._redis.exists(*self._legacy):
            for legacy in self._legacy:
                cursor = 0
                while True:
                    cursor, found = await self._redis.hscan(legacy, cursor, count=PACK_CHUNK)
                    if found:
                        moved += int(await self._pack(keys=keys, args=list(found)))
                    if not cursor:
                        break
        return moved, time.perf_counter() - started

    async def labels(self) -> dict[str, str]:
        """Every comment that taught the model, with its label."""
        out: dict[str, str] = {}
        async for comment_id, value in self._redis.hscan_iter(self._keys.text_learned):
            out[str(comment_id)] = str(value).split(" ", 1)[0]
        return out

    async def forget(self, comment_ids: Sequence[str]) -> int:
        """Subtract what these comments taught; how many had taught anything."""
        forgotten = 0
        for comment_id in comment_ids:
            forgotten += int(await self._learn(keys=self._script_keys(), args=[comment_id, ""]))
        return forgotten

    async def learned(self, comment_id: str) -> str | None:
        """The label a comment taught, or None."""
        value = await self._redis.hget(self._keys.text_learned, comment_id)
        return str(value).split(" ", 1)[0] if value else None

    async def summary(self) -> dict[str, int]:
        """Comments learned per label."""
        raw = await self._redis.hmget(self._keys.text_totals, [f"docs:{x}" for x in LABELS])
        return {label: int(n or 0) for label, n in zip(LABELS, raw, strict=True)}

    async def languages(self) -> dict[str, int]:
        """Comments learned per language (those learned with one)."""
        totals = await self._redis.hgetall(self._keys.text_totals)
        return {
            str(name).removeprefix("examples:"): int(n)
            for name, n in totals.items()
            if str(name).startswith("examples:") and int(n) > 0
        }

    async def read(
        self, bucket_lists: Sequence[Sequence[int]], languages: Sequence[str] | None = None
    ) -> list[Counts]:
        """The counts each comment's buckets need, and the comments learned in its
        language (`languages`, one per comment), in one round trip: the totals, then one
        lookup per comment. While counts of before are still being moved (`pack`), the
        buckets asked are moved first and the vocabulary read in one transaction."""
        if not bucket_lists:
            return []
        if languages is None:
            languages = [""] * len(bucket_lists)
        codes = [code or "-" for code in languages]
        found = await self._read(bucket_lists, codes, moving=False)
        if found is None:
            wanted = sorted({str(bucket) for buckets in bucket_lists for bucket in buckets})
            keys = [self._keys.text_totals, self._keys.text_counts, *self._legacy]
            for start in range(0, len(wanted), PACK_CHUNK):
                await self._pack(keys=keys, args=wanted[start : start + PACK_CHUNK])
            found = await self._read(bucket_lists, codes, moving=True)
        assert found is not None
        return found

    async def _read(
        self, bucket_lists: Sequence[Sequence[int]], codes: Sequence[str], *, moving: bool
    ) -> list[Counts] | None:
        """None when counts of before are found and `moving` is False."""
        named = sorted(set(codes))
        async with self._redis.pipeline(transaction=moving) as pipe:
            pipe.hmget(self._keys.text_totals, [*TOTALS, *(f"examples:{c}" for c in named)])
            if moving:
                for legacy in self._legacy:
                    pipe.hlen(legacy)
            else:
                pipe.exists(*self._legacy)
            for buckets in bucket_lists:
                if buckets:
                    pipe.hmget(self._keys.text_counts, list(buckets))
            totals_raw, *rest = await pipe.execute()
        if moving:
            unmoved, rest = sum(rest[: len(LABELS)]), rest[len(LABELS) :]
        else:
            if rest[0]:
                return None
            unmoved, rest = 0, rest[1:]
        numbers = [int(n or 0) for n in totals_raw]
        size = len(LABELS)
        docs = dict(zip(LABELS, numbers[:size], strict=True))
        per_group = numbers[: len(TOTALS) - 1]
        totals = {}
        for index, label in enumerate(LABELS):
            whole, *others = per_group[size + index :: size]
            totals[label] = (whole - sum(others), *others)
        vocabulary = numbers[len(TOTALS) - 1] + unmoved
        examples = dict(zip(named, numbers[len(TOTALS) :], strict=True))
        values = iter(rest)
        counts = []
        for buckets, code in zip(bucket_lists, codes, strict=True):
            per_label: dict[str, Sequence[int]] = {label: [] for label in LABELS}
            if buckets:
                flat = " ".join(v or "0 0 0" for v in next(values)).split()
                per_label = {
                    label: list(map(int, flat[index::size])) for index, label in enumerate(LABELS)
                }
            counts.append(Counts(docs, totals, per_label, vocabulary, examples[code]))
        return counts
