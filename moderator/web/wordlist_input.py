"""What a moderator may put in a word list (`PUT /v1/moderation/wordlists/{kind}`).

`{"terms": [...]}`, at most `MAX_TERMS`, each either a string, a term in every
language with no meaning (as before terms had languages), or an object
`{"term": "7mar", "languages": ["ary"], "meaning": "« âne », insulte"}` whose
languages default to `["*"]` and meaning to none. A term is cleaned as any text
(`validation.clean_term`); a term given twice is merged (`wordlists.merged`).
"""

from __future__ import annotations

from typing import Final

from moderator.storage.wordlists import ALL, MAX_MEANING_CHARS, Term, languages_of, merged
from moderator.web.problems import Problem
from moderator.web.validation import FieldError, clean_term, clean_text, encodable

MAX_TERMS: Final = 5000


def wordlist_terms(raw: object) -> list[Term]:
    """The terms of a list as given, or a 422 naming each bad one: `terms[2]` (the term
    itself), `terms[2].languages`, `terms[2].meaning`."""
    if not isinstance(raw, list) or len(raw) > MAX_TERMS:
        raise Problem(422, "validation", errors=[FieldError("terms", "invalid_terms", MAX_TERMS)])
    errors: list[FieldError] = []
    terms = [_term(item, f"terms[{index}]", errors) for index, item in enumerate(raw)]
    if errors:
        raise Problem(422, "validation", errors=errors)
    return merged(term for term in terms if term is not None)


def _term(item: object, field: str, errors: list[FieldError]) -> Term | None:
    fields = item if isinstance(item, dict) else {"term": item}
    errors_before = len(errors)
    text = clean_term(fields.get("term"))
    if text is None:
        errors.append(FieldError(field, "invalid_terms", MAX_TERMS))
    given = fields.get("languages", [ALL])
    try:
        languages = languages_of(given if isinstance(given, list) else [])
    except ValueError:
        errors.append(FieldError(f"{field}.languages", "invalid_choice"))
    meaning = _meaning(fields.get("meaning"), f"{field}.meaning", errors)
    if text is None or len(errors) > errors_before:
        return None
    return Term(text, languages, meaning)


def _meaning(raw: object, field: str, errors: list[FieldError]) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        errors.append(FieldError(field, "invalid_type"))
        return ""
    if "\x00" in raw or not encodable(raw):
        errors.append(FieldError(field, "invalid_character"))
        return ""
    meaning = clean_text(raw)  # cannot raise now: a string, no NUL, no lone surrogate
    if len(meaning) > MAX_MEANING_CHARS:
        errors.append(FieldError(field, "too_long", MAX_MEANING_CHARS))
    return meaning
