"""Fuzzing intake, POST /v1/comments: cases (JSON, WordPress forms, raw bytes, odd headers,
Idempotency-Key replays) and what must hold of each answer and of Redis afterwards."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from hypothesis import strategies as st
from redis import Redis

from moderator.keys import Keys
from tests.fuzz.harness import REDIRECT_HOST, SITE_KEY, Answer, Sent
from tests.fuzz.strategies import (
    CONTENT_TYPES,
    FORM_TYPES,
    HEADER_TEXT,
    IDS,
    JSON_KEYS,
    JSON_TYPES,
    JSON_VALUES,
    LANGUAGES,
    OPTIONAL_FIELDS,
    OTHER_METHODS,
    RAW_BODIES,
    RAW_NUMBERS,
    REQUIRED_FIELDS,
    RawJson,
    clean_texts,
    json_bytes,
    mostly,
    texts,
    to_json,
)


@dataclass(frozen=True)
class Reply:
    """Stands for the id of the last comment accepted (and, maybe, its article)."""

    same_article: bool


REPLIES = st.builds(Reply, st.booleans())
EMAILS = st.one_of(
    st.sampled_from(["amina@example.ma", "karim.b+news@mail.example.com", "zoé@exemple.fr"]),
    st.emails(),
)
ODD_EMAILS = st.sampled_from(
    [
        "gmail-fan@gmаil.com",  # a Cyrillic а in the domain
        "a@b",
        "x@localhost",
        "@example.ma",
        "a" * 65 + "@example.ma",
        "amina@example.ma\x00",
        " amina@example.ma ",
    ]
)
ODD_URLS = st.sampled_from(
    [
        "javascript:alert(1)",
        "ftp://x.ma/",
        "https://",
        "http://[::1",
        "http://exa mple.ma",
        "https://a.ma/" + "a" * 2100,
    ]
)
# Values intake should accept, field by field.
VALID: dict[str, st.SearchStrategy[Any]] = {
    "article_id": st.one_of(
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,40}", fullmatch=True),
        st.integers(0, 10**12),
    ),
    "name": st.one_of(st.sampled_from(["Amina", "كريم", "Zoé", "O'Brien"]), clean_texts(1, 40)),
    "email": EMAILS,
    "body": st.one_of(clean_texts(1, 300), st.just("مقال مفيد\n\n\n\nشكرا")),
    "parent_id": st.one_of(REPLIES, st.just("0")),
    "url": st.sampled_from(["https://news.example.ma/a?b=1", "http://x.ma", "HTTPS://X.MA/é"]),
    "ip": st.ip_addresses().map(str),
    "user_agent": clean_texts(0, 60),
    "referrer": clean_texts(0, 60),
    "honeypot": clean_texts(0, 20),
    "form_rendered_at": st.one_of(
        st.floats(0, 4e9),
        st.integers(0, 4 * 10**9),
        st.datetimes().map(lambda moment: moment.isoformat()),
    ),
}
# Values of the right type that intake may well refuse (or cut), field by field.
ODD: dict[str, st.SearchStrategy[Any]] = {
    "article_id": st.one_of(st.integers(max_value=-1), texts(140)),
    "name": st.one_of(texts(40), st.just("n" * 101), st.just(" \u202e\t ")),
    "email": st.one_of(ODD_EMAILS, texts(40)),
    "body": st.one_of(texts(200), st.integers(4990, 5010).map(lambda n: "é" * n)),
    "parent_id": st.one_of(IDS, IDS.map(str.lower), texts(30)),
    "url": st.one_of(ODD_URLS, texts()),
    "ip": st.one_of(texts(20), st.just("::ffff:1.2.3.4"), st.just("1.2.3.4/8")),
    "user_agent": st.one_of(texts(60), st.just("U" * 600)),
    "referrer": st.one_of(texts(60), st.just("https://r.ma/" + "r" * 2100)),
    "honeypot": st.one_of(texts(20), st.just("h" * 300)),
    "form_rendered_at": st.one_of(st.floats(), st.integers(), texts(25), RAW_NUMBERS),
}
WORDPRESS_NAMES = {"author": "name", "comment": "body", "comment_post_ID": "article_id"}
REDIRECTS = st.sampled_from(
    [
        f"https://{REDIRECT_HOST}/article-1",
        f"http://{REDIRECT_HOST}/?moderator_comment=x#comments",
        f"https://{REDIRECT_HOST}:99999/",
        f"//{REDIRECT_HOST}/x",
        f"https://{REDIRECT_HOST}:abc/",
        f"https://{REDIRECT_HOST}/\r\nSet-Cookie: a=b",
        "https://evil.example/",
        "javascript:alert(1)",
        "https://[::1",
        "",
    ]
)
ABSENT = object()


def field_value(name: str, *, valid: bool) -> st.SearchStrategy[Any]:
    """A field's value, by our name or WordPress's; broken: odd, anything, or absent."""
    if name == "redirect_to":
        return REDIRECTS
    ours = WORDPRESS_NAMES.get(name, "parent_id" if name == "comment_parent" else name)
    if valid:
        return VALID[ours]
    return st.one_of(ODD[ours], ODD[ours], JSON_VALUES, st.just(ABSENT))


@st.composite
def fields(draw: st.DrawFn, required: tuple[str, ...], optional: tuple[str, ...]) -> list[Any]:
    """Field name and value pairs: mostly a valid comment, some fields odd or absent."""
    names = [*required, *draw(st.lists(st.sampled_from(optional), max_size=4, unique=True))]
    broken = draw(mostly(st.just([]), st.lists(st.sampled_from(names), max_size=2), odds=2))
    pairs = [(name, draw(field_value(name, valid=name not in broken))) for name in names]
    return [(name, value) for name, value in pairs if value is not ABSENT]


@st.composite
def submissions(draw: st.DrawFn) -> dict[str, Any]:
    """A JSON object: mostly a valid comment, plus fields of any name and value."""
    submission = dict(draw(fields(REQUIRED_FIELDS, OPTIONAL_FIELDS)))
    submission.update(draw(st.dictionaries(JSON_KEYS, JSON_VALUES, max_size=2)))
    return submission


@st.composite
def form_pairs(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """A form as WordPress (or a bot) posts it: pairs, in any order, maybe repeated."""
    if draw(st.booleans()):
        required = ("author", "email", "comment", "comment_post_ID")
        optional = ("url", "comment_parent", "redirect_to")
    else:
        required, optional = REQUIRED_FIELDS, (*OPTIONAL_FIELDS, "redirect_to")
    pairs = draw(fields(required, optional))
    pairs += draw(st.lists(st.tuples(st.one_of(JSON_KEYS, HEADER_TEXT), texts(40)), max_size=3))
    return [(name, _form_value(value)) for name, value in draw(st.permutations(pairs))]


def _form_value(value: Any) -> Any:
    """What a form can carry: text (a `Reply` marker stays, resolved when sent)."""
    if isinstance(value, str | Reply):
        return value
    return (
        to_json(value, ascii_only=False) if isinstance(value, dict | list | RawJson) else str(value)
    )


TOO_MANY_FIELDS = st.integers(60, 70).map(lambda n: [(f"f{i}", "x") for i in range(n)])

INTAKE_HEADERS = st.fixed_dictionaries(
    {"X-Site-Key": mostly(st.just(SITE_KEY), st.one_of(st.none(), HEADER_TEXT), odds=16)},
    optional={
        "Accept-Language": LANGUAGES,
        "Idempotency-Key": st.one_of(st.sampled_from(["key-1", "key-2", "key-3"]), HEADER_TEXT),
        "X-Request-ID": st.one_of(st.just("r" * 129), HEADER_TEXT),
    },
)


@dataclass(frozen=True)
class IntakeCase:
    method: str
    kind: str  # "json" (a JSON value), "form" (pairs) or "raw" (bytes)
    payload: Any
    ascii_only: bool
    content_type: str | None
    headers: dict[str, str | None]
    repeat: bool  # send the previous request again instead (an Idempotency-Key replay)

    def request(self, accepted: list[tuple[str, str]]) -> Sent:
        headers = {name: value for name, value in self.headers.items() if value is not None}
        if self.content_type is not None:
            headers["Content-Type"] = self.content_type
        if self.kind == "json":
            body = json_bytes(_resolve(self.payload, accepted), self.ascii_only)
        elif self.kind == "form":
            pairs = [(name, _resolve(value, accepted)) for name, value in self.payload]
            body = urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode()
        else:
            body = self.payload
        return Sent(self.method, "/v1/comments", headers, body)


def _resolve(value: Any, accepted: list[tuple[str, str]]) -> Any:
    """Replace `Reply` markers with the last accepted comment's id (and article)."""
    if isinstance(value, Reply):
        return accepted[-1][0] if accepted else "01JDXQ7M3R8T5V2W9X4Y6Z0A1B"  # no such comment
    if isinstance(value, dict):
        resolved = {name: _resolve(item, accepted) for name, item in value.items()}
        reply = value.get("parent_id")
        if isinstance(reply, Reply) and reply.same_article and accepted:
            resolved["article_id"] = accepted[-1][1]
        return resolved
    return value


@st.composite
def intake_cases(draw: st.DrawFn) -> IntakeCase:
    kind = draw(st.sampled_from(["json"] * 6 + ["form"] * 3 + ["value", "raw"]))
    if kind == "json":
        payload = draw(submissions())
        content_type = draw(mostly(st.sampled_from(JSON_TYPES), CONTENT_TYPES, odds=8))
    elif kind == "value":
        kind, payload = "json", draw(JSON_VALUES)
        content_type = draw(mostly(st.sampled_from(JSON_TYPES), CONTENT_TYPES))
    elif kind == "form":
        payload = draw(st.one_of(form_pairs(), form_pairs(), form_pairs(), TOO_MANY_FIELDS))
        content_type = draw(mostly(st.sampled_from(FORM_TYPES), CONTENT_TYPES, odds=8))
    else:
        payload, content_type = draw(RAW_BODIES), draw(CONTENT_TYPES)
    variant = draw(st.integers(0, 19))  # 8: another method, 11 and 12: a repeat
    return IntakeCase(
        method=draw(st.sampled_from(OTHER_METHODS)) if variant == 8 else "POST",
        kind=kind,
        payload=payload,
        ascii_only=draw(mostly(st.just(True), st.just(False))),
        content_type=content_type,
        headers=draw(INTAKE_HEADERS),
        repeat=variant in (11, 12),
    )


def accepted_id(request: Sent, answer: Answer) -> str | None:
    """The id of an accepted comment (202, or 303 to the site); None for a 4xx."""
    context = f"\n  request:  {request}\n  response: {answer}"
    if answer.status == 202:
        body = json.loads(answer.body)
        comment_id = body["id"]
        link = f"/v1/comments/{comment_id}"
        assert body == {"id": comment_id, "status": "pending", "links": {"self": link}}, context
        assert answer.headers["Location"] == link, context
        return str(comment_id)
    if answer.status == 303:
        location = urlsplit(answer.headers["Location"])
        assert location.hostname == REDIRECT_HOST, context
        return parse_qs(location.query)["moderator_comment"][-1]
    assert 400 <= answer.status < 500, context
    return None


def assert_queued_once(db: Redis, keys: Keys, comment_id: str) -> str:
    """The accepted comment is stored, pending, and on the stream exactly once."""
    fields = db.hgetall(keys.comment(comment_id))
    assert fields.get("id") == comment_id and fields.get("status") == "pending", fields
    on_stream = [f for _, f in db.xrange(keys.comments_stream) if f.get("id") == comment_id]
    assert len(on_stream) == 1, f"{comment_id} is {len(on_stream)} times on the stream"
    return str(fields["article_id"])


def assert_replayed(first: tuple[Sent, Answer], again: Sent, answer: Answer) -> None:
    """The same request with the same Idempotency-Key gets the first answer's comment."""
    sent, first_answer = first
    if not sent.headers.get("Idempotency-Key", "").strip() or first_answer.status >= 400:
        return
    assert answer.status == first_answer.status, f"{again}: {first_answer} then {answer}"
    assert accepted_id(again, answer) == accepted_id(sent, first_answer)


STORED_FIELDS = {"id", "article_id", "name", "email", "email_hash", "body", "created_at", "status"}


def assert_nothing_half_written(db: Redis, keys: Keys) -> int:
    """Every stored comment is whole and on the stream once; every stream entry is stored;
    every remembered Idempotency-Key names a stored comment. Returns the number stored."""
    stored = {key.rsplit(":", 1)[1] for key in db.scan_iter(keys.comment("*"))}
    queued = [fields.get("id") for _, fields in db.xrange(keys.comments_stream)]
    assert len(queued) == len(set(queued)), "an id is on the stream more than once"
    assert set(queued) == stored, (
        f"stored, not queued: {stored - set(queued)}; queued, not stored: {set(queued) - stored}"
    )
    for comment_id in stored:
        fields = db.hgetall(keys.comment(comment_id))
        assert fields.keys() >= STORED_FIELDS, f"{comment_id} lacks {STORED_FIELDS - fields.keys()}"
        assert not any("\x00" in value for value in fields.values()), fields
    for key in db.scan_iter(keys.idempotency("*")):
        assert str(db.get(key)).partition(" ")[2] in stored, key
    return len(stored)
