"""Where comments are validated: from a decoded JSON object or form to a `Submission`.

Every text is Unicode-normalised (NFC), stripped of control and bidi-override
characters and trimmed; lengths are checked after that. All problems are
collected, one `FieldError` per field, so a reader fixes the form in one go.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import email_validator

from moderator.domain import is_comment_id
from moderator.settings import Limits

# Field names of a WordPress comment form, mapped to ours.
WORDPRESS_FIELDS = {
    "author": "name",
    "comment": "body",
    "comment_post_ID": "article_id",
    "comment_parent": "parent_id",
}

MAX_TERM_CHARS = 100  # a word-list term, once cleaned
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*\Z")
# Directional overrides and isolates can disguise text; marks (LRM, RLM) and
# joiners (ZWJ, ZWNJ), which Arabic script uses, are kept.
_BIDI_CONTROL_RE = re.compile("[\u202a-\u202e\u2066-\u2069\ufeff]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
# Unicode category Cc except tab and newline, which `clean_text` handles itself.
_CONTROL_RE = re.compile(r"[\x01-\x08\x0b-\x1f\x7f-\x9f]")
# Runs of space become one space. Matching only what changes (two or more, or one
# that is not a plain space) keeps ordinary text, a space between words, untouched.
_HORIZONTAL_SPACE_RE = re.compile(r"[^\S\n]{2,}|[^\S\n ]")
_SPACE_RE = re.compile(r"\s{2,}|[^\S ]")
_LINE_EDGES_RE = re.compile(r"[^\S\n]*\n[^\S\n]*")
_BLANK_LINES_RE = re.compile(r"\n{3,}")

# A field parser: raw value, limits, whether to check deliverability -> clean text.
_Parser = Callable[[object, Limits, bool], str]


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    code: str
    max: int | None = None


@dataclass(frozen=True, slots=True)
class Submission:
    """A valid comment as the reader sent it, before an id and a time are given."""

    article_id: str
    name: str
    email: str
    body: str
    parent_id: str | None = None
    url: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    referrer: str | None = None
    honeypot: str | None = None
    form_rendered_at: str | None = None


class _Invalid(Exception):
    def __init__(self, code: str, max: int | None = None) -> None:
        self.code = code
        self.max = max


def from_wordpress(form: Mapping[str, str]) -> dict[str, str]:
    """Our field names for a WordPress-style form; ours are accepted as they are."""
    fields = {WORDPRESS_FIELDS.get(key, key): value for key, value in form.items()}
    if fields.get("parent_id") == "0":  # WordPress sends 0 for "not a reply"
        del fields["parent_id"]
    return fields


def validate(
    data: Mapping[str, object], limits: Limits, *, check_deliverability: bool = False
) -> Submission | list[FieldError]:
    """A `Submission`, or every problem found, one per field."""
    errors: list[FieldError] = []
    values: dict[str, str | None] = {}

    def check(name: str, parse: _Parser, *, required: bool = False) -> None:
        raw = data.get(name)
        if raw is None or (not required and raw == ""):
            if required:
                errors.append(FieldError(name, "required"))
            values[name] = None
            return
        try:
            values[name] = parse(raw, limits, check_deliverability)
        except _Invalid as exc:
            errors.append(FieldError(name, exc.code, exc.max))

    check("article_id", _identifier, required=True)
    check("name", _name, required=True)
    check("email", _email, required=True)
    check("body", _body, required=True)
    check("parent_id", _parent_id)
    check("url", _url)
    check("ip", _ip)
    check("user_agent", _truncated(limits.user_agent))
    check("referrer", _truncated(limits.referrer))
    check("honeypot", _truncated(200))
    check("form_rendered_at", _timestamp)
    if errors:
        return errors
    return Submission(**values)  # type: ignore[arg-type]


def clean_text(raw: object, *, multiline: bool = False) -> str:
    """NFC, no control or bidi-override characters, trimmed; raises `_Invalid`."""
    if not isinstance(raw, str):
        raise _Invalid("invalid_type")
    if "\x00" in raw or _SURROGATE_RE.search(raw):
        raise _Invalid("invalid_character")
    text = raw if raw.isascii() else _BIDI_CONTROL_RE.sub("", unicodedata.normalize("NFC", raw))
    if multiline:
        text = _CONTROL_RE.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
        if "\n" in text:
            text = _BLANK_LINES_RE.sub("\n\n", _LINE_EDGES_RE.sub("\n", text))
        return _HORIZONTAL_SPACE_RE.sub(" ", text).strip()
    return _SPACE_RE.sub(" ", _CONTROL_RE.sub(" ", text)).strip()


def encodable(text: str) -> bool:
    """Whether `text` can be written as UTF-8 (a lone surrogate cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bounded(text: str, maximum: int) -> str:
    if not text:
        raise _Invalid("blank")
    if len(text) > maximum:
        raise _Invalid("too_long", maximum)
    return text


def _identifier(raw: object, limits: Limits, _: bool) -> str:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        raw = str(raw)  # WordPress post ids are numbers
    text = _bounded(clean_text(raw), limits.article_id)
    if not _ID_RE.match(text):
        raise _Invalid("invalid_id", limits.article_id)
    return text


def article_id_error(text: str, limits: Limits) -> str | None:
    """The error code for an article id taken from a URL, or None when it is valid."""
    try:
        _identifier(text, limits, False)
    except _Invalid as exc:
        return exc.code
    return None


def clean_term(raw: object) -> str | None:
    """A word-list term as stored, cleaned like any text, or None when it is not one
    (not text, blank, longer than MAX_TERM_CHARS). The one rule for terms, whether
    they come through the moderation API or `moderator shadow`."""
    try:
        text = clean_text(raw)
    except _Invalid:
        return None
    return text if 0 < len(text) <= MAX_TERM_CHARS else None


def _name(raw: object, limits: Limits, _: bool) -> str:
    return _bounded(_visible(clean_text(raw)), limits.name)


def _body(raw: object, limits: Limits, _: bool) -> str:
    return _bounded(_visible(clean_text(raw, multiline=True)), limits.body)


# Characters that draw nothing although they are neither spaces nor format characters.
_FILLERS = frozenset("ᅟᅠㅤﾠ⠀͏᠎")
_UNSEEN_CATEGORIES = frozenset({"Cf", "Cc", "Mn", "Me", "Zs", "Zl", "Zp"})


def _visible(text: str) -> str:
    """`text`, or "" when nothing in it can be seen (zero-width characters, Hangul
    fillers, the braille blank, lone combining marks): such a name or body is blank."""
    for char in text:
        if char not in _FILLERS and unicodedata.category(char) not in _UNSEEN_CATEGORIES:
            return text
    return ""


def _parent_id(raw: object, limits: Limits, _: bool) -> str:
    text = clean_text(raw)
    if not is_comment_id(text.upper()):
        raise _Invalid("parent_not_found")
    return text.upper()


def _email(raw: object, limits: Limits, deliverability: bool) -> str:
    text = _bounded(clean_text(raw), limits.email)
    try:
        result = email_validator.validate_email(
            text, check_deliverability=deliverability, allow_quoted_local=False, strict=True
        )
    except email_validator.EmailUndeliverableError:
        raise _Invalid("undeliverable_email") from None
    except email_validator.EmailNotValidError:
        raise _Invalid("invalid_email") from None
    if not result.domain.isascii() and any(
        len(_scripts(label)) > 1 for label in result.domain.split(".")
    ):
        raise _Invalid("confusable_email")
    return str(result.normalized)


def _scripts(label: str) -> set[str]:
    """The scripts of a domain label's letters (LATIN, CYRILLIC, GREEK, ARABIC, …)."""
    return {
        unicodedata.name(c, "UNKNOWN").split(" ", 1)[0]
        for c in label
        if unicodedata.category(c).startswith("L")
    }


def _url(raw: object, limits: Limits, _: bool) -> str:
    text = _bounded(clean_text(raw), limits.url)
    try:
        parts = urlsplit(text)
    except ValueError:
        raise _Invalid("invalid_url") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in text:
        raise _Invalid("invalid_url")
    return text


def _ip(raw: object, limits: Limits, _: bool) -> str:
    text = clean_text(raw)
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise _Invalid("invalid_ip") from None


def _truncated(maximum: int) -> _Parser:
    """Metadata the site forwards: the reader cannot fix it, so it is cut, not refused."""

    def parse(raw: object, limits: Limits, _: bool) -> str:
        return clean_text(raw)[:maximum]

    return parse


def _timestamp(raw: object, limits: Limits, _: bool) -> str:
    """The time the form was rendered, as ISO 8601 UTC."""
    if isinstance(raw, bool):
        raise _Invalid("invalid_time")
    try:
        if isinstance(raw, int | float) or (isinstance(raw, str) and _is_number(raw)):
            moment = datetime.fromtimestamp(float(raw), UTC)
        elif isinstance(raw, str):
            moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
        else:
            raise _Invalid("invalid_time")
    except (ValueError, OverflowError, OSError):
        raise _Invalid("invalid_time") from None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def page_limit(raw: str | None, errors: list[FieldError], *, default: int, maximum: int) -> int:
    """A `limit` query parameter: 1 to `maximum`, `default` when absent; an error otherwise."""
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        errors.append(FieldError("limit", "invalid_limit", maximum))
        return default
    return int(raw)
