"""The policy (workers/policy.py): from a comment's checks to published, held or rejected,
with every reason. Scores select what a person reads; the model alone never rejects.
The same through the worker, from intake to feed or queue: tests/test_worker.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from moderator.domain import Status
from moderator.settings import Settings
from moderator.storage.decisions import Reason
from moderator.storage.wordlists import Term
from workers.language import Language
from workers.policy import Checks, Policy, automatic_decision
from workers.spam.signals import SpamResult
from workers.wordlists import WordList

FRENCH = Language("fr", "latin")
CALM = {"toxicity": 0.01, "insult": 0.01, "threat": 0.01}
NO_SPAM = SpamResult(0.0, ())
ZORGLUB = Term("zorglub")  # in every language, no meaning
BIDULE = Term("bidule")


def policy(**settings: Any) -> Policy:
    """The default policy (multilingual model, default thresholds), `settings` changed."""
    return Policy.from_settings(
        replace(Settings(), **settings), WordList(["zorglub"]), WordList(["bidule"])
    )


def checks(**fields: Any) -> Checks:
    """A calm French comment's checks, `fields` changed."""
    return Checks(**{"language": FRENCH, "toxicity": CALM, "spam": NO_SPAM, **fields})


def test_a_calm_comment_in_a_covered_language_is_published() -> None:
    assert policy().decide(checks()) == (Status.PUBLISHED, ())


def test_toxicity_at_a_threshold_holds_with_the_highest_score_first() -> None:
    scores = {"toxicity": 0.85, "insult": 0.93, "threat": 0.59, "obscene": 0.2}
    assert policy().decide(checks(toxicity=scores)) == (
        Status.HELD,
        (
            Reason("toxicity.insult", score=0.93, threshold=0.6),
            Reason("toxicity.toxicity", score=0.85, threshold=0.8),
        ),
    )
    at_threshold = policy().decide(checks(toxicity={"insult": 0.6}))
    assert at_threshold == (Status.HELD, (Reason("toxicity.insult", score=0.6, threshold=0.6),))


def test_a_label_without_a_threshold_is_ignored() -> None:
    assert policy().decide(checks(toxicity={"made_up": 0.99})) == (Status.PUBLISHED, ())


def test_the_model_alone_never_rejects() -> None:
    extreme = {label: 1.0 for label in Settings().thresholds}
    status, reasons = policy().decide(checks(toxicity=extreme))
    assert status == Status.HELD
    assert all(reason.code.startswith("toxicity.") for reason in reasons)


def test_word_lists_reject_a_banned_word_and_hold_a_suspect_one() -> None:
    banned = policy().decide(checks(banned=(ZORGLUB,)))
    assert banned == (
        Status.REJECTED,
        (Reason("wordlist.banned", match="zorglub", languages=("*",)),),
    )
    suspect = policy().decide(checks(suspect=(BIDULE,)))
    assert suspect == (Status.HELD, (Reason("wordlist.suspect", match="bidule", languages=("*",)),))


def test_a_listed_word_only_quoted_is_reported_speech_and_the_models_decide() -> None:
    """« il m'a traité de zorglub »: about an insult, not one. Neither list holds it for
    the word; the toxicity model reads the whole comment, and the record keeps the term."""
    for quoted in ((ZORGLUB,), (BIDULE,), (ZORGLUB, BIDULE)):
        assert policy().decide(checks(quoted=quoted)) == (Status.PUBLISHED, ())
    insulting = {"toxicity": 0.9, "insult": 0.95}
    assert policy().decide(checks(quoted=(ZORGLUB,), toxicity=insulting)) == (
        Status.HELD,
        (
            Reason("toxicity.insult", score=0.95, threshold=0.6),
            Reason("toxicity.toxicity", score=0.9, threshold=0.8),
        ),
    )
    # Outside quotation marks as well ("« zorglub », oui, zorglub"), it is the speaker's.
    assert policy().decide(checks(banned=(ZORGLUB,)))[0] == Status.REJECTED


def test_the_record_names_the_quoted_terms() -> None:
    meaning = Term("zorglub", ("fr",), "insulte")
    record = automatic_decision(policy(), "digest", checks(quoted=(meaning,)), None)
    assert record.decision == Status.PUBLISHED and record.reasons == ()
    assert record.scores["quoted"] == [
        {"match": "zorglub", "languages": ["fr"], "meaning": "insulte"}
    ]
    assert "quoted" not in automatic_decision(policy(), "digest", checks(), None).scores


def test_a_word_list_reason_says_where_the_term_insults_and_what_it_means() -> None:
    seven = Term("7mar", ("ary",), "« âne », insulte")
    _, (reason,) = policy().decide(checks(suspect=(seven,)))
    assert reason.to_dict() == {
        "code": "wordlist.suspect",
        "match": "7mar",
        "languages": ["ary"],
        "meaning": "« âne », insulte",
    }


def test_an_emoji_alone_never_rejects() -> None:
    """A banned emoji (a moderator's choice) holds: what it means depends on its target."""
    status, reasons = policy().decide(checks(banned=(Term("🖕"),)))
    assert status == Status.HELD
    assert reasons == (Reason("wordlist.banned", match="🖕", languages=("*",)),)


def test_spam_holds_when_likely_and_rejects_when_near_certain() -> None:
    likely = policy().decide(checks(spam=SpamResult(0.5, ("links:3",))))
    assert likely == (Status.HELD, (Reason("spam.likely", score=0.5, threshold=0.5),))
    near_certain = policy().decide(checks(spam=SpamResult(0.99, ("links:3", "whatsapp"))))
    assert near_certain == (
        Status.REJECTED,
        (Reason("spam.near_certain", score=0.99, threshold=0.98),),
    )
    assert policy().decide(checks(spam=SpamResult(0.49, ("links:2",))))[0] == Status.PUBLISHED


@pytest.mark.parametrize("check", ["language", "wordlists", "spam"])
def test_a_text_check_that_failed_holds_as_check_failed(check: str) -> None:
    assert policy().decide(checks(failed=(check,))) == (
        Status.HELD,
        (Reason(f"check_failed.{check}"),),
    )


def test_without_toxicity_scores_the_comment_is_held_as_check_failed() -> None:
    assert policy().decide(checks(toxicity=None)) == (
        Status.HELD,
        (Reason("check_failed.toxicity"),),
    )


def test_a_language_the_model_does_not_read_is_held_unless_told_to_score() -> None:
    arabic = checks(language=Language("ar", "arabic"))
    assert policy().decide(arabic) == (
        Status.HELD,
        (Reason("language.not_covered", detail="ar"),),
    )
    assert policy(language_not_covered="score").decide(arabic) == (Status.PUBLISHED, ())
    english_only = policy(toxicity_model="unbiased")
    assert english_only.decide(checks())[0] == Status.HELD  # French, read by no English model
    assert english_only.decide(checks(language=Language("en", "latin")))[0] == Status.PUBLISHED
    assert english_only.decide(checks(language=Language("und", "none")))[0] == Status.PUBLISHED
    spanish = checks(language=Language("es", "latin"))
    assert policy().decide(spanish) == (Status.PUBLISHED, ())  # the multilingual model reads it
    assert english_only.decide(spanish)[0] == Status.HELD


def test_a_rejected_comment_lists_the_reasons_to_hold_it_too() -> None:
    status, reasons = policy().decide(
        checks(
            banned=(ZORGLUB,),
            spam=SpamResult(0.6, ("links:3",)),
            toxicity={"insult": 0.93},
            suspect=(BIDULE,),
            failed=("spam",),
            language=Language("ary", "latin"),
        )
    )
    assert status == Status.REJECTED
    assert [reason.code for reason in reasons] == [
        "wordlist.banned",
        "spam.likely",
        "toxicity.insult",
        "wordlist.suspect",
        "check_failed.spam",
        "language.not_covered",
    ]


def test_the_digest_names_the_thresholds_and_lists_in_force_with_their_languages() -> None:
    digest = policy().digest()
    assert len(digest) == 64
    assert policy().digest() == digest
    assert policy(spam_hold_threshold=0.4).digest() != digest
    assert policy(thresholds={**Settings().thresholds, "insult": 0.5}).digest() != digest
    assert policy(language_not_covered="score").digest() != digest
    other_list = Policy.from_settings(Settings(), WordList(["zorglub", "x"]), WordList(["bidule"]))
    assert other_list.digest() != digest
    french_only = WordList([Term("zorglub", ("fr",))])
    other_languages = Policy.from_settings(Settings(), french_only, WordList(["bidule"]))
    assert other_languages.digest() != digest
    meant = WordList([Term("zorglub", ("*",), "a made-up word")])
    assert Policy.from_settings(Settings(), meant, WordList(["bidule"])).digest() == digest
