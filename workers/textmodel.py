"""What the text says: a classifier the site trains from its moderators' decisions.

Naive Bayes over hashed n-grams, three classes (`ham`, `spam`, `toxic`). The
counts live in Redis (`moderator.storage.textcounts`), so every worker reads
the same model and a moderator's decision teaches it at once; this module is
the arithmetic, with no I/O.

- **Features** (`features`): the text folded as the word lists fold it (case,
  accents, Arabic letter variants, stretched letters, Cyrillic and Greek look-alikes
  in Latin words, words cut with invisible characters or between tatweels), then word unigrams and
  bigrams and the character 3- to 5-grams of each word padded with spaces,
  so "l7mar", "lhmar" and "الحمار" share pieces with "7mar", "hmar" and
  "حمار", and a joined article or a doubled letter leaves most n-grams in
  common. Each word's consonant skeleton (`workers.darija.skeleton`), whole
  and as 3- and 4-grams, is a feature too ("k:hmr" for "7mar" and "حمار"):
  Darija is written in two scripts, and what the moderators teach in one then
  counts in the other. On 5-fold cross-validation of the train split it
  raised toxic-vs-ham AUC for Darija in Arabic letters from 0.946 to 0.962
  and in Latin letters from 0.968 to 0.980 (Arabic 0.894 to 0.903; French and
  English within 0.004 of before). Each feature belongs to a group, the high
  bits of its bucket (`LATIN`, `ARABIC` script, `SKELETON`). A feature counts
  once per comment (binarised naive Bayes, which suits short texts). Features are hashed into
  `BUCKETS` buckets with CRC-32, stable across processes: Redis holds bucket
  numbers, never readers' words.
- **Scores** (`Prediction.evidence`): for `spam` and `toxic`, the log
  likelihood ratio against `ham` divided by the square root of the number of
  features. For toxicity a feature's likelihood under a label is relative to
  the label's total *in the feature's group*: with one total, the share of
  Arabic comments among the toxic examples tilted every Arabic comment, and
  on 3-fold cross-validation of the train split, grouping raised toxic-vs-ham
  AUC in every language (Arabic 0.889 to 0.911, English 0.870 to 0.895, the
  others by 0.004 to 0.013). Spam evidence stays pooled: grouping measured no
  gain there, and spam mixes scripts (a link in an Arabic pitch). Naive Bayes
  adds up hundreds of correlated n-grams, so its raw posterior is always near
  0 or 1; per-feature evidence is comparable across short and long comments,
  and thresholds on it are set on the train split.
- **Why naive Bayes in Redis** rather than a linear model (scikit-learn's
  SGD on the same hashed features): on 5-fold cross-validation of the train
  split it caught more spam at 1% of ham flagged (84–94% per language against
  69–92%) and as much toxicity at 5–10%; its state is counts, so learning a
  decision is one atomic script call that every worker sees, and forgetting a
  reader subtracts exactly what their comments added.
- **Explained**: `Prediction.clues` are the n-grams that weighed most towards
  the class that scored highest, as they appear in the comment (skeletons are
  not shown: no reader wrote them).
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from moderator.storage.textcounts import GROUP_BITS, GROUPS, LABELS, Counts
from workers.darija import ARABIC_RE, skeleton
from workers.wordlists import normalise as fold_words

CLASSES: Final = LABELS
FLAGS: Final = ("spam", "toxic")  # the classes scored against ham
BUCKETS: Final = 1 << GROUP_BITS  # per group: a bucket is the low bits of a CRC-32
LATIN, ARABIC, SKELETON = range(GROUPS)  # feature groups, the high bits of a bucket number
CHAR_GRAMS: Final = (3, 4, 5)
SKELETON_GRAMS: Final = (3, 4)  # of a word's consonant skeleton, padded with spaces
SKELETON_MIN: Final = 2  # consonants a skeleton needs to count
# The features' version, kept beside the counts (`Keys.text_features`): counts learned
# with another relearn what they can (`workers.training.Trainer.relearn`). 2: skeletons;
# 3: feature groups; 4: look-alike letters and cut words read as written to be seen
# (`workers.folding.unconfuse`: "cаsino" with a Cyrillic а, "قـ.ـرض"), and relearning
# counts each example in the language it is detected in (`TextCounts.languages`).
FEATURES_VERSION: Final = 4
MAX_FEATURES: Final = 2000  # a 5,000-character body gives about this many
ALPHA: Final = 0.1  # Lidstone smoothing of the per-class feature counts
CLUES: Final = 5


def features(text: str) -> dict[int, str]:
    """The comment's features: bucket → the first n-gram that fell in it (for clues)."""
    words = fold_words(text).split()
    found: dict[int, str] = {}
    crc = zlib.crc32
    mask = BUCKETS - 1
    arabic = [ARABIC_RE.search(word) is not None for word in words]

    def add(group: int, grams: list[str]) -> None:
        for gram in grams:
            found.setdefault(group << GROUP_BITS | (crc(gram.encode()) & mask), gram)

    for index, word in enumerate(words):
        script = ARABIC if arabic[index] else LATIN
        add(script, [f"w:{word}"])
        if index:  # a bigram with a word in Arabic script is counted with that script
            add(ARABIC if arabic[index - 1] else script, [f"b:{words[index - 1]} {word}"])
        padded = f" {word} "
        add(
            script,
            [
                padded[start : start + size]
                for size in CHAR_GRAMS
                for start in range(len(padded) - size + 1)
            ],
        )
        consonants = skeleton(word)
        if len(consonants) >= SKELETON_MIN:
            padded = f" {consonants} "
            add(
                SKELETON,
                [f"k:{consonants}"]
                + [
                    f"k:{padded[start : start + size]}"
                    for size in SKELETON_GRAMS
                    for start in range(len(padded) - size + 1)
                ],
            )
        if len(found) >= MAX_FEATURES:
            break
    return found


@dataclass(frozen=True, slots=True)
class Prediction:
    evidence: Mapping[str, float]  # spam, toxic → per-feature log likelihood ratio vs ham
    clues: tuple[str, ...]  # n-grams that weighed most towards the highest-scoring class
    examples: int  # comments the model had learned
    known: int  # the comment's features seen in some learned comment: with none, an
    # evidence of 0 says nothing (emoji alone, another script), not "as likely toxic"

    def to_dict(self) -> dict[str, object]:
        return {
            "evidence": {label: round(value, 3) for label, value in self.evidence.items()},
            "clues": list(self.clues),
            "examples": self.examples,
        }


_SMALL = 4096
_LOG = [math.log(n + ALPHA) for n in range(_SMALL)]  # log(count + α) for common counts


def _logs(counts: list[int]) -> list[float]:
    return [_LOG[n] if n < _SMALL else math.log(n + ALPHA) for n in counts]


def leave_out(counts: Counts, label: str, buckets: Sequence[int], *, in_language: bool) -> Counts:
    """`counts` (read for `buckets`, in that order) as they would be had the model never
    learned one comment: the one that taught `label` with exactly these `buckets`
    (`in_language`: counted in the language `counts` were read for). Naive Bayes is
    counts, so this is exact: what the model says of a comment it learned, as of one
    it did not (`workers.sitemodel.SiteModel.remeasure`)."""
    mine = [max(n - 1, 0) for n in counts.features[label]]  # never below none
    gone = sum(1 for n in counts.features[label] if n == 1)  # pairs it alone had
    totals = list(counts.totals[label])
    for bucket in buckets:
        totals[min(bucket >> GROUP_BITS, GROUPS - 1)] -= 1
    return dataclasses.replace(
        counts,
        docs={**counts.docs, label: counts.docs[label] - 1},
        totals={**counts.totals, label: tuple(totals)},
        features={**counts.features, label: mine},
        vocabulary=counts.vocabulary - gone,
        in_language=counts.in_language - in_language,
    )


def predict(found: Mapping[int, str], counts: Counts, *, explain: bool = True) -> Prediction:
    """Score a comment with features `found` (in the order `counts.features` follows);
    with `explain` False, without clues (a window scored again needs none)."""
    vocabulary = max(counts.vocabulary, 1)
    logs = {label: _logs(list(counts.features[label])) for label in CLASSES}
    # log of a label's feature total, with the smoothing's share: per feature group for
    # toxicity, over all groups for spam (see the module's docstring)
    shift = {
        label: [math.log(total + ALPHA * vocabulary) for total in counts.totals[label]]
        for label in CLASSES
    }
    whole = {label: math.log(sum(counts.totals[label]) + ALPHA * vocabulary) for label in CLASSES}
    groups = [bucket >> GROUP_BITS for bucket in found]
    sizes = [groups.count(group) for group in range(GROUPS)]
    size = len(found)
    grouped = {
        label: sum(logs[label]) - sum(n * s for n, s in zip(sizes, shift[label], strict=True))
        for label in ("ham", "toxic")
    }
    pooled = {label: sum(logs[label]) - size * whole[label] for label in ("ham", "spam")}
    scale = math.sqrt(max(size, 1))
    evidence = {
        "spam": (pooled["spam"] - pooled["ham"]) / scale,
        "toxic": (grouped["toxic"] - grouped["ham"]) / scale,
    }
    top = max(FLAGS, key=lambda label: evidence[label])
    towards = top if evidence[top] > 0 else "ham"
    clues = _clues(list(found.values()), groups, logs, shift, towards) if explain else ()
    known = sum(map(any, zip(*(counts.features[label] for label in CLASSES), strict=True)))
    return Prediction(evidence, clues, counts.examples, known)


def _clues(
    names: list[str],
    groups: list[int],
    logs: Mapping[str, list[float]],
    shift: Mapping[str, list[float]],
    best: str,
) -> tuple[str, ...]:
    """The n-grams whose weight for `best` most exceeds their weight for the others."""
    first, second = (label for label in CLASSES if label != best)
    mine, a, b = logs[best], logs[first], logs[second]
    base, shift_a, shift_b = shift[best], shift[first], shift[second]
    margins = [
        m - base[g] - max(x - shift_a[g], y - shift_b[g])
        for m, x, y, g in zip(mine, a, b, groups, strict=True)
    ]
    shown: list[str] = []
    for margin, name in _largest(margins, names, CLUES * 4):
        if margin <= 0 or len(shown) == CLUES:
            break
        if name.startswith("k:"):  # a skeleton is in no script a reader wrote
            continue
        text = name.removeprefix("w:").removeprefix("b:").strip()
        if text and not any(text in other or other in text for other in shown):
            shown.append(text)
    return tuple(shown)


def _largest(margins: list[float], names: list[str], k: int) -> list[tuple[float, str]]:
    """`heapq.nlargest(k, zip(margins, names))`, in a third of its time on a comment's
    ~300 features: the k-th largest margin found by sorting floats, then only the
    pairs at or above it sorted."""
    if len(margins) <= k:
        return sorted(zip(margins, names, strict=True), reverse=True)
    cut = sorted(margins, reverse=True)[k - 1]
    above = [(m, name) for m, name in zip(margins, names, strict=True) if m >= cut]
    return sorted(above, reverse=True)[:k]
