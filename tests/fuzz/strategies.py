"""Hypothesis strategies the fuzzers share: any text (awkward characters and lone
surrogates included), JSON values and numbers Python would not write, header values,
content types and raw bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from hypothesis import strategies as st

from tests.fuzz.harness import FORM

T = TypeVar("T")

# Intake's field names and WordPress's: JSON keys drawn from these reach validation.
KNOWN_FIELDS = (
    "article_id",
    "name",
    "email",
    "body",
    "parent_id",
    "url",
    "ip",
    "user_agent",
    "referrer",
    "honeypot",
    "form_rendered_at",
)
REQUIRED_FIELDS = KNOWN_FIELDS[:4]
OPTIONAL_FIELDS = KNOWN_FIELDS[4:]
WORDPRESS_FIELDS = (
    "author",
    "email",
    "url",
    "comment",
    "comment_post_ID",
    "comment_parent",
    "redirect_to",
)
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Characters that normalisation, trimming and the checks must each deal with.
AWKWARD = (
    "\x00",
    "\t",
    "\r\n",
    "\n\n\n\n",
    "\x7f",
    "\x85",
    "\u00a0",
    "\u200d",
    "\u200f",
    "\u2028",
    "\u202e",
    "\u2066",
    "\ufeff",
    "\u0640",
    "e\u0301",
    "\u0627\u0644\u0633\u0644\u0627\u0645",
    "\U0001f600",
    "\ufdfa",
    "²",
    "٣",
    "%00",
    "../",
    '"',
    "\\",
    "<b>",
    " ",
)
LONE_SURROGATES = st.text(
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2
)


def texts(max_size: int = 30) -> st.SearchStrategy[str]:
    """Any Unicode text, awkward characters included; sometimes a lone surrogate."""
    pieces = st.one_of(st.characters(), st.sampled_from(AWKWARD))
    text = st.lists(pieces, max_size=max_size).map("".join)
    with_surrogate = st.tuples(text, LONE_SURROGATES, text).map("".join)
    return st.one_of(text, text, text, with_surrogate)


def clean_texts(min_size: int = 1, max_size: int = 30) -> st.SearchStrategy[str]:
    """Text intake should accept: no NUL, no lone surrogate (still awkward)."""
    pieces = st.one_of(st.characters(exclude_characters="\x00"), st.sampled_from(AWKWARD[1:]))
    text = st.lists(pieces, min_size=min_size, max_size=max_size).map("".join)
    return text.filter(lambda t: any(c.isalnum() for c in t))


def mostly(usual: st.SearchStrategy[T], other: st.SearchStrategy[Any], odds: int = 4) -> Any:
    """`usual`, and `other` about one time in `odds` (Hypothesis favours the first and the
    last of a range, so the middle stands for `other`)."""
    return st.integers(0, odds - 1).flatmap(lambda n: other if n == odds // 2 else usual)


# printable ASCII: odd values HTTP still carries (no control characters, no non-ASCII)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
IDS = st.text(st.sampled_from(CROCKFORD), min_size=26, max_size=26)


@dataclass(frozen=True)
class RawJson:
    """JSON text sent as it is: numbers Python's json module would not write."""

    text: str


RAW_NUMBERS = st.one_of(
    st.sampled_from(["1e999", "-1e999", "1e-999", "-0", "0.0", "1E400", "NaN", "-Infinity"]),
    st.integers(300, 6000).map(lambda n: "9" * n),
).map(RawJson)
JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), texts(), texts(), RAW_NUMBERS
)
JSON_KEYS = st.one_of(st.sampled_from(KNOWN_FIELDS + WORDPRESS_FIELDS), texts(12))
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(JSON_KEYS, inner, max_size=4)
    ),
    max_leaves=12,
)


def to_json(value: object, *, ascii_only: bool) -> str:
    """JSON text; with `ascii_only` a lone surrogate is escaped, otherwise it is sent raw
    (and is then not UTF-8)."""
    if isinstance(value, RawJson):
        return value.text
    if isinstance(value, dict):
        members = (
            f"{json.dumps(key, ensure_ascii=ascii_only)}:{to_json(item, ascii_only=ascii_only)}"
            for key, item in value.items()
        )
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(item, ascii_only=ascii_only) for item in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def json_bytes(value: object, ascii_only: bool) -> bytes:
    return to_json(value, ascii_only=ascii_only).encode("utf-8", "surrogatepass")


JSON_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON",
    "application/json; charset=latin-1",
)
FORM_TYPES = (FORM, f"{FORM}; charset=x")
OTHER_TYPES = (
    "",
    "text/plain",
    "multipart/form-data; boundary=xyz",
    "application/problem+json",
    "application/xml",
    "*/*",
    ";",
    "application/json-seq",
)
CONTENT_TYPES = st.one_of(
    st.sampled_from(JSON_TYPES + FORM_TYPES + OTHER_TYPES), st.none(), HEADER_TEXT
)
OTHER_METHODS = ("GET", "PUT", "PATCH", "DELETE", "OPTIONS")
LANGUAGES = st.one_of(
    st.sampled_from(
        ["fr", "ar", "en", "fr-FR,fr;q=0.9,en;q=0.8", "ar-MA", "de", "*", "en;q=0", "fr;q=x"]
    ),
    HEADER_TEXT,
)


DEEP = st.integers(1, 30_000).flatmap(
    lambda n: st.sampled_from([b"[" * n + b"]" * n, b'{"a":' * n + b"1" + b"}" * n, b"[" * n])
)
RAW_BODIES = st.one_of(
    st.binary(max_size=600),
    st.text(st.sampled_from("abz=&%+;09AFx_"), max_size=60).map(str.encode),
    DEEP,
)
