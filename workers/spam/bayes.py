"""The spam check's Bayesian model: tokens, and Robinson's combination of their counts.

Moderators' decisions train it (`SpamScorer.learn` counts a text's tokens under
spam or ham in Redis). Once it has `BAYES_MIN_EXAMPLES` of each label, a comment
whose tokens make it spam with a probability of at least `BAYES_FIRES_AT` gets the
signal "bayes:<probability>". The model only adds to the score; it never lowers it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Final

from workers.folding import unstretch
from workers.spam.signals import Evidence, fire, link_hosts, normalise

BAYES_MIN_EXAMPLES: Final = 5  # of each label before the model is used
BAYES_FIRES_AT: Final = 0.9
BAYES_MAX_CLUES: Final = 15  # the most interesting tokens
BAYES_MIN_DEVIATION: Final = 0.1  # |f - 0.5| below this is no clue
BAYES_PRIOR_STRENGTH: Final = 1.0  # Robinson's s, with x = 0.5
MAX_TOKENS: Final = 200

_WORD_RE = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    """Distinct tokens for the Bayesian model: the hosts of links ("host:example.com"),
    then words of two or more characters with a letter, runs of a letter cut to two."""
    found = dict.fromkeys(f"host:{host}" for host in link_hosts(text))
    for word in _WORD_RE.findall(normalise(text)):
        word = unstretch(word, keep=2)
        if 2 <= len(word) <= 40 and any(char.isalpha() for char in word):
            found[word] = None
    return list(found)[:MAX_TOKENS]


def evidence(counts: Sequence[tuple[int, int]], spam_total: int, ham_total: int) -> list[Evidence]:
    """The "bayes" signal, when the model is trained and says spam with confidence:
    `counts` are each token's (spam, ham) counts, the totals the texts learnt of each."""
    if min(spam_total, ham_total) < BAYES_MIN_EXAMPLES:
        return []
    probability = bayes_probability(counts, spam_total, ham_total)
    if probability < BAYES_FIRES_AT:
        return []
    return [fire("bayes", f"{probability:.2f}")]


def _chi2q(chi2: float, dof: int) -> float:
    """P(X ≥ chi2) for a chi-squared variable with an even number of degrees of freedom."""
    m = chi2 / 2.0
    term = total = math.exp(-m)
    for i in range(1, dof // 2):
        term *= m / i
        total += term
    return min(total, 1.0)


def bayes_probability(counts: Sequence[tuple[int, int]], spam_total: int, ham_total: int) -> float:
    """Robinson's combination of (spam, ham) token counts: each token's f(w) with
    prior strength s and x = 0.5, then Fisher's inverse chi-squared over the most
    interesting tokens. 0.5 when no token is a clue."""
    clues = []
    for spam, ham in counts:
        if spam + ham == 0:
            continue
        spamminess = min(1.0, spam / spam_total)
        p = spamminess / (spamminess + min(1.0, ham / ham_total))
        n = spam + ham
        f = (BAYES_PRIOR_STRENGTH * 0.5 + n * p) / (BAYES_PRIOR_STRENGTH + n)
        if abs(f - 0.5) >= BAYES_MIN_DEVIATION:
            clues.append(f)
    clues = sorted(clues, key=lambda f: abs(f - 0.5), reverse=True)[:BAYES_MAX_CLUES]
    if not clues:
        return 0.5
    dof = 2 * len(clues)
    spam_side = 1.0 - _chi2q(-2.0 * sum(math.log(1.0 - f) for f in clues), dof)
    ham_side = 1.0 - _chi2q(-2.0 * sum(math.log(f) for f in clues), dof)
    return (1.0 + spam_side - ham_side) / 2.0
