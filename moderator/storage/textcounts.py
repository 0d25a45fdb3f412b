"""The site model's counts in Redis: what every worker reads, and what moderators teach.

The model (`workers.textmodel`) is naive Bayes over hashed n-grams, so its
whole state is counts: per label (`ham`, `spam`, `toxic`) how many comments it
learned, how many features they had, and how often each feature bucket came
up, and how many comments it learned in each language. Learning a comment is
one script call that adds its buckets under its label and remembers what it
added (`Keys.text_learned`) and the language it was in (`Keys.text_languages`):
learning the same
comment again under the same label changes nothing (a redelivered verdict), a
new label first subtracts the old one (a moderator who changed their mind, a
take-down), and forgetting a reader subtracts exactly what their comments
added. The service uses `forget`; it never computes features (no model code
here), only moves numbers.
"""

from __future__ import annotations

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

# KEYS: learned, totals, counts:ham, counts:spam, counts:toxic, languages
# ARGV: comment id, label ("" to forget), buckets as decimal numbers joined by spaces,
# the comment's language ("" when not known)
# Totals: "features:<label>" over every group (as before groups), "features:<label>:<g>"
# for the other groups; group 0's is the difference; "examples:<language>" per language.
_LEARN = """
local slot = {ham = 3, spam = 4, toxic = 5}
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
  redis.call('HINCRBY', KEYS[2], 'features:' .. label, sign * all)
  for g = 2, groups do
    if n[g] ~= 0 then
      redis.call('HINCRBY', KEYS[2], 'features:' .. label .. ':' .. (g - 1), sign * n[g])
    end
  end
end
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local sep = string.find(old, ' ', 1, true)
  local old_label = sep and string.sub(old, 1, sep - 1) or old
  if old_label == ARGV[2] then return 0 end
  local key = KEYS[slot[old_label]]
  local n = counted()
  if sep then
    for bucket in string.gmatch(string.sub(old, sep + 1), '%d+') do
      if redis.call('HINCRBY', key, bucket, -1) <= 0 then redis.call('HDEL', key, bucket) end
      local g = group(bucket)
      n[g] = n[g] + 1
    end
  end
  redis.call('HINCRBY', KEYS[2], 'docs:' .. old_label, -1)
  add_totals(old_label, n, -1)
  redis.call('HDEL', KEYS[1], ARGV[1])
  local old_language = redis.call('HGET', KEYS[6], ARGV[1])
  if old_language then
    redis.call('HINCRBY', KEYS[2], 'examples:' .. old_language, -1)
    redis.call('HDEL', KEYS[6], ARGV[1])
  end
end
if ARGV[2] == '' then
  if old then return 1 end
  return 0
end
local key = KEYS[slot[ARGV[2]]]
local n = counted()
for bucket in string.gmatch(ARGV[3], '%d+') do
  redis.call('HINCRBY', key, bucket, 1)
  local g = group(bucket)
  n[g] = n[g] + 1
end
redis.call('HINCRBY', KEYS[2], 'docs:' .. ARGV[2], 1)
add_totals(ARGV[2], n, 1)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3])
if ARGV[4] and ARGV[4] ~= '' then
  redis.call('HSET', KEYS[6], ARGV[1], ARGV[4])
  redis.call('HINCRBY', KEYS[2], 'examples:' .. ARGV[4], 1)
end
return 1
""".replace("GROUP_SIZE", str(1 << GROUP_BITS)).replace("GROUPS", str(GROUPS))


# KEYS: totals, counts:ham, counts:spam, counts:toxic
# ARGV: the comments' languages joined by spaces, then per comment its buckets as decimal
# numbers joined by spaces
# Returns the totals, the vocabulary, the examples learned in each comment's language,
# then per comment its counts for ham, then spam, then toxic, joined by spaces.
_READ = """
local totals = redis.call('HMGET', KEYS[1], TOTALS)
local vocabulary = redis.call('HLEN', KEYS[2]) + redis.call('HLEN', KEYS[3])
  + redis.call('HLEN', KEYS[4])
local examples = {}
for language in string.gmatch(ARGV[1], '%S+') do
  examples[#examples + 1] = redis.call('HGET', KEYS[1], 'examples:' .. language) or '0'
end
local out = {totals, vocabulary, examples}
for i = 2, #ARGV do
  local buckets = {}
  for bucket in string.gmatch(ARGV[i], '%d+') do buckets[#buckets + 1] = bucket end
  local counts = {}
  if #buckets > 0 then
    for label = 2, 4 do
      local found = redis.call('HMGET', KEYS[label], unpack(buckets))
      for j = 1, #buckets do counts[#counts + 1] = found[j] or '0' end
    end
  end
  out[#out + 1] = table.concat(counts, ' ')
end
return out
""".replace(
    "TOTALS",
    ", ".join(
        f"'{name}'"
        for name in [
            *(f"docs:{label}" for label in LABELS),
            *(f"features:{label}" for label in LABELS),
            *(f"features:{label}:{g}" for g in range(1, GROUPS) for label in LABELS),
        ]
    ),
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
        self._read = redis.register_script(_READ)

    def _script_keys(self) -> list[str]:
        keys = self._keys
        return [
            keys.text_learned,
            keys.text_totals,
            *(keys.text_counts(x) for x in LABELS),
            keys.text_languages,
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
        language (`languages`, one per comment), in one script call: the buckets go as
        one argument per comment, which keeps redis-py's packing out of the way."""
        if not bucket_lists:
            return []
        codes = list(languages) if languages is not None else ["-"] * len(bucket_lists)
        args = [" ".join(code or "-" for code in codes)]
        args += [" ".join(map(str, buckets)) for buckets in bucket_lists]
        totals_raw, vocabulary, in_language, *per_comment = await self._read(
            keys=self._script_keys()[1:5], args=args
        )
        numbers = [int(n or 0) for n in totals_raw]
        size = len(LABELS)
        docs = dict(zip(LABELS, numbers[:size], strict=True))
        totals = {}
        for index, label in enumerate(LABELS):
            whole, *rest = numbers[size + index :: size]
            totals[label] = (whole - sum(rest), *rest)
        counts = []
        for buckets, raw, examples in zip(bucket_lists, per_comment, in_language, strict=True):
            found = [int(n) for n in str(raw).split()] if buckets else []
            size = len(buckets)
            per_label = {
                label: found[index * size : (index + 1) * size]
                for index, label in enumerate(LABELS)
            }
            counts.append(Counts(docs, totals, per_label, int(vocabulary), int(examples or 0)))
        return counts
