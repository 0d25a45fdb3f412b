"""The checks a worker runs on a comment's own text, each comment under a time budget.

Language, word lists and the spam signals of the text are CPU work on text a
reader controls (language first: the word lists find each term only in the
languages where it insults). They run off the event loop (`asyncio.to_thread`),
so the worker's heartbeat and the rest of its batch go on, and each comment gets
`Settings.check_budget_ms`: a check still running past it is recorded as
failed, the comment is held with `check_failed.<check>` (never a silent pass),
and the batch goes on. The thread itself cannot be stopped and finishes on its
own; its late result is dropped. A check that raises holds its comment the
same way (`check_crashed`, with the traceback) instead of failing the batch.

The budget is the second line of defence. The first is that every pattern
these checks use runs in time linear in the text (tests/test_text_checks.py
tries each with adversarial bodies up to the length limit): Python's `re`
holds the GIL for a whole match, so one catastrophic pattern would still stall
the event loop for the length of that one call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Final

import structlog

from moderator.domain import Comment
from moderator.storage.wordlists import Term
from workers import textmodel
from workers.language import Language, detect
from workers.spam.scorer import NO_TEXT_SIGNALS, TextSignals, text_signals
from workers.wordlists import Lists, said_and_quoted

log = structlog.get_logger()

# In the order they run; a timed-out comment fails the one running and those after it.
CHECKS: Final = ("language", "wordlists", "spam", "site_model")
NOT_CHECKED: Final = Language("und", "none")


@dataclass(frozen=True, slots=True)
class TextChecks:
    """What the text checks found for one comment, and which of them failed."""

    language: Language
    banned: tuple[Term, ...]
    suspect: tuple[Term, ...]
    spam: TextSignals
    features: dict[int, str] | None = None  # the site model's n-grams (`workers.textmodel`)
    failed: tuple[str, ...] = ()
    sensitive: tuple[Term, ...] = ()  # the sensitive list's terms found
    quoted: tuple[Term, ...] = ()  # banned or suspect terms found only inside quotation marks


def run_text_checks(
    comment: Comment, lists: Lists, found: dict[str, Any], read: frozenset[str] = frozenset()
) -> None:
    """Run each check in turn, storing its result in `found` as soon as it is known. The
    sensitive list is matched only in a language no toxicity model reads (not in `read`):
    elsewhere the site model never publishes alone and the list changes nothing."""
    text = f"{comment.name}\n{comment.body}"
    found["language"] = language = detect(comment.body)
    found["wordlists"] = listed_terms(lists, text, language.code, read)
    found["spam"] = text_signals(comment)
    found["site_model"] = textmodel.features(comment.body)


def listed_terms(
    lists: Lists, text: str, code: str, read: frozenset[str]
) -> tuple[tuple[Term, ...], tuple[Term, ...], tuple[Term, ...], tuple[Term, ...]]:
    """The word lists' terms in `text`, a comment in language `code`, each matched in the
    languages where it insults: banned and suspect ones said, the sensitive ones (only
    where no toxicity model reads `code`), and banned or suspect ones only quoted."""
    banned, suspect, quoted = said_and_quoted(lists.banned, lists.suspect, text, code)
    sensitive = () if code in read else tuple(lists.sensitive.matches(text, code))
    return banned, suspect, sensitive, quoted


async def text_checks(
    comment: Comment, lists: Lists, *, budget_s: float, read: frozenset[str] = frozenset()
) -> TextChecks:
    """The text checks of one comment, in a thread, within `budget_s` seconds; `read`,
    the languages a toxicity model reads (`run_text_checks`)."""
    found: dict[str, Any] = {}
    try:
        async with asyncio.timeout(budget_s):
            await asyncio.to_thread(run_text_checks, comment, lists, found, read)
    except TimeoutError:
        found = dict(found)  # what had finished; the thread may still add to the original
        failed = _missing(found)
        log.warning(
            "check_timed_out",
            comment_id=comment.id,
            checks=list(failed),
            budget_ms=round(budget_s * 1000),
            body_chars=len(comment.body),
        )
    except Exception:  # the per-message boundary: a bug in a check holds this comment only
        failed = _missing(found)
        log.exception("check_crashed", comment_id=comment.id, checks=list(failed))
    else:
        failed = ()
    banned_found, suspect_found, sensitive_found, quoted = found.get("wordlists", ((),) * 4)
    return TextChecks(
        language=found.get("language", NOT_CHECKED),
        banned=banned_found,
        suspect=suspect_found,
        spam=found.get("spam", NO_TEXT_SIGNALS),
        features=found.get("site_model"),
        failed=failed,
        sensitive=sensitive_found,
        quoted=quoted,
    )


def _missing(found: dict[str, Any]) -> tuple[str, ...]:
    return tuple(check for check in CHECKS if check not in found)
