"""The site model's arithmetic: features that survive Darija spellings, scores, clues."""

from __future__ import annotations

import dataclasses
import heapq
import random
from collections import Counter

import pytest

from moderator.storage.textcounts import GROUP_BITS, GROUPS, Counts
from workers import darija, textmodel
from workers.wordlists import normalise as fold


def _counts(examples: list[tuple[str, str]], found: dict[int, str]) -> Counts:
    docs: Counter[str] = Counter()
    totals = {label: [0] * GROUPS for label in textmodel.CLASSES}
    per_label: dict[str, Counter[int]] = {label: Counter() for label in textmodel.CLASSES}
    for text, label in examples:
        features = textmodel.features(text)
        docs[label] += 1
        for bucket in features:
            totals[label][bucket >> GROUP_BITS] += 1
        per_label[label].update(features.keys())
    vocabulary = len(set().union(*per_label.values()))
    return Counts(
        docs, totals, {c: [per_label[c][b] for b in found] for c in textmodel.CLASSES}, vocabulary
    )


EXAMPLES = [
    ("Bravo à l'équipe nationale, quel match !", "ham"),
    ("Le tramway de Casablanca arrive enfin à Sidi Moumen.", "ham"),
    ("mabrouk l'équipe, dima maghrib", "ham"),
    ("الله يرحمو، كان رجل طيب", "ham"),
    ("Gagnez 5000 dh par semaine, contactez-nous sur WhatsApp", "spam"),
    ("Crédit rapide sans dossier, appelez vite", "spam"),
    ("rba7 flous mn dar, sift lina f whatsapp", "spam"),
    ("nta wahed l7mar o kelb", "toxic"),
    ("هاد الحمار ماشي بنادم", "toxic"),
    ("espèce de chien, ferme-la", "toxic"),
]


def test_features_are_stable_and_shared_by_spellings() -> None:
    """Buckets are CRC-32 based: the same in every process; a joined article or a
    doubled letter leaves most n-grams in common."""
    assert textmodel.features("l7mar") == textmodel.features("l7mar")
    joined, alone = set(textmodel.features("l7mar")), set(textmodel.features("7mar"))
    assert len(joined & alone) >= len(alone) // 2
    stretched = set(textmodel.features("7maaaar"))
    assert stretched & alone


@pytest.mark.parametrize(
    ("disguised", "plain"),
    [
        ("Gagnez au cаsino", "Gagnez au casino"),  # Cyrillic а
        ("ｇａｇｎｅｚ au casino", "gagnez au casino"),  # full-width
        ("ca\u200bsino", "casino"),
        ("قـ.ـرض فـ.ـوري", "قرض فوري"),  # cut between tatweels
    ],
)
def test_a_disguised_word_has_the_features_of_the_word(disguised: str, plain: str) -> None:
    """The site model learns what moderators teach from the word as a reader reads it."""
    assert textmodel.features(disguised) == textmodel.features(plain)


@pytest.mark.parametrize(
    ("latin", "arabic", "consonants"),
    [
        ("7mar", "حمار", "hmr"),
        ("l7mar", "الحمار", "lhmr"),
        ("bzaaaf", "بزاف", "bzf"),
        ("9a7ba", "قحبة", "qhb"),
        ("mzyan", "مزيان", "mzn"),
        ("3ayan", "عيان", "3n"),
        ("khayb", "خايب", "xb"),
        ("chi7aja", "شيحاجة", "Chj"),
    ],
)
def test_darija_in_either_script_shares_its_consonant_skeleton(
    latin: str, arabic: str, consonants: str
) -> None:
    assert darija.skeleton(latin) == darija.skeleton(fold(arabic)) == consonants
    shared = set(textmodel.features(latin).values()) & set(textmodel.features(arabic).values())
    assert f"k:{consonants}" in shared


def test_features_are_grouped_by_script_and_skeletons_apart() -> None:
    """A feature's group is the high bits of its bucket: Latin (and other scripts),
    Arabic script, consonant skeletons; a bigram with an Arabic word is Arabic."""
    found = textmodel.features("bravo الفريق")
    group = {name: bucket >> GROUP_BITS for bucket, name in found.items()}
    assert group["w:bravo"] == textmodel.LATIN
    assert group["w:الفريق"] == group["b:bravo الفريق"] == textmodel.ARABIC
    assert {group[name] for name in group if name.startswith("k:")} == {textmodel.SKELETON}


def test_words_with_no_skeleton() -> None:
    assert [darija.skeleton(word) for word in ("2026", "e-mail", "ⵣ", "🙂")] == ["", "", "", ""]


def test_features_are_bounded_for_long_bodies() -> None:
    body = " ".join(f"mot{n}" for n in range(5000))
    assert len(textmodel.features(body)) <= textmodel.MAX_FEATURES + 30


def test_learned_examples_score_their_class_and_explain_it() -> None:
    found = textmodel.features("contactez-nous sur WhatsApp pour gagner 5000 dh")
    prediction = textmodel.predict(found, _counts(EXAMPLES, found))
    assert prediction.evidence["spam"] > max(0.0, prediction.evidence["toxic"])
    assert prediction.clues  # the n-grams that weighed most
    assert prediction.examples == len(EXAMPLES)
    unexplained = textmodel.predict(found, _counts(EXAMPLES, found), explain=False)
    assert unexplained == dataclasses.replace(prediction, clues=())

    found = textmodel.features("wahed l7mar")
    toxic = textmodel.predict(found, _counts(EXAMPLES, found))
    assert toxic.evidence["toxic"] > max(0.0, toxic.evidence["spam"])
    assert toxic.to_dict()["evidence"] == {k: round(v, 3) for k, v in toxic.evidence.items()}


def test_an_empty_model_has_no_evidence_either_way() -> None:
    found = textmodel.features("un commentaire")
    prediction = textmodel.predict(found, _counts([], found))
    assert prediction.evidence == {"spam": 0.0, "toxic": 0.0}
    assert prediction.examples == 0


def test_clues_are_what_the_reader_wrote_never_a_skeleton() -> None:
    """A Darija insult in Arabic letters, taught in Latin letters only: the skeleton
    carries the evidence across, but the clues quote the comment, not "hmr"."""
    taught = [
        ("nta wahed l7mar", "toxic"),
        ("ya l7mar sir fhalek", "toxic"),
        ("ربح المال من الدار، راسلنا على واتساب", "spam"),
    ] + [(text, label) for text, label in EXAMPLES if label != "toxic"]
    found = textmodel.features("انت حمار")
    prediction = textmodel.predict(found, _counts(taught, found))
    assert prediction.evidence["toxic"] > 0
    skeletons = {n.removeprefix("k:").strip() for n in found.values() if n.startswith("k:")}
    assert prediction.clues and not skeletons & set(prediction.clues)


def test_the_largest_margins_are_heapq_nlargest_ties_included() -> None:
    rng = random.Random(7)
    for size in (0, 3, 20, 21, 300):
        margins = [float(rng.choice([-1, 0, 0.5, 2, rng.random()])) for _ in range(size)]
        names = [f"w:{n % 37} {n}" for n in range(size)]
        expected = heapq.nlargest(20, zip(margins, names, strict=True))
        assert textmodel._largest(margins, names, 20) == expected
