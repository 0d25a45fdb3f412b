"""Fuzzing the moderation API: comments seeded in every state, requests to every
moderation route of the spec (any method, parameters, bodies and tokens), and what must
hold of Redis after each."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import redis.asyncio as aioredis
from hypothesis import strategies as st
from redis import Redis

from moderator.domain import Status, utc_now
from moderator.keys import Keys
from moderator.settings import Settings
from moderator.storage.decisions import Decision, DecisionStore, Reason
from moderator.storage.wordlists import languages_of, terms_of
from tests.fuzz.harness import QUEUES, STATES, TOKEN, Answer, Http, Sent, ServedApp
from tests.fuzz.strategies import (
    CONTENT_TYPES,
    HEADER_TEXT,
    IDS,
    JSON_KEYS,
    JSON_VALUES,
    LANGUAGES,
    RAW_BODIES,
    clean_texts,
    json_bytes,
    mostly,
    texts,
)

# the first is drawn most often: make it one a moderator can act on
SEEDED = ("held", "pending", "held", "held", "published", "published", "rejected", "rejected")
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
PATH_PARAMETER = re.compile(r"\{(\w+)\}")
TOKEN_HEADERS = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "Bearer",
            "Bearer ",
            f"bearer {TOKEN}",
            f"Bearer   {TOKEN}  ",
            f"Bearer {TOKEN}x",
            f"Bearer {TOKEN[:-1]}",
            "Bearer wrong-token-0123456789",
            "Basic YW1pbmE6YW1pbmE=",
            TOKEN,
        ]
    ),
    HEADER_TEXT,
)


def seeded_email(n: int) -> str:
    return f"reader{n}@example.ma"


def seed_comments(server: ServedApp, settings: Settings) -> dict[str, str]:
    """Comments in every state, posted through intake and decided as a worker would:
    {id: article id}."""
    http = Http(server.port)
    states: dict[str, tuple[str, str]] = {}
    for n, state in enumerate(SEEDED):
        comment = {
            "article_id": f"article-{n % 2}",
            "name": f"Reader {n}",
            "email": seeded_email(n),
            "body": f"Commentaire numéro {n}.",
        }
        headers = {"Content-Type": "application/json"}
        answer = http.send(Sent("POST", "/v1/comments", headers, json.dumps(comment).encode()))
        assert answer.status == 202, answer
        states[json.loads(answer.body)["id"]] = (comment["article_id"], state)
    server.run(_decide_automatically(settings, states))
    return {comment_id: article for comment_id, (article, _) in states.items()}


async def _decide_automatically(settings: Settings, states: dict[str, tuple[str, str]]) -> None:
    client = aioredis.Redis.from_url(settings.effective_redis_url, decode_responses=True)
    try:
        store = DecisionStore(client, Keys(settings.key_prefix))
        for comment_id, (article_id, state) in states.items():
            if state == "pending":
                continue
            reasons = () if state == "published" else (Reason("toxicity.insult", 0.91, 0.6),)
            decision = Decision(
                decision=Status(state),
                by="auto",
                at=utc_now(),
                reasons=reasons,
                language={"code": "fr", "script": "latin"},
            )
            applied = await store.apply(comment_id, article_id, Status.PENDING, decision)
            assert applied.outcome == "ok", applied
    finally:
        await client.aclose()


def moderation_routes(spec: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(path template, method, query parameter names) of every moderation operation."""
    routes = []
    for path, operations in spec["paths"].items():
        if not path.startswith("/v1/moderation/"):
            continue
        for method, operation in operations.items():
            if method.upper() in HTTP_METHODS:
                parameters = operation.get("parameters", [])
                query = tuple(p["name"] for p in parameters if p["in"] == "query")
                # twice the requests that change something
                routes += [(path, method.upper(), query)] * (1 if method == "get" else 2)
    assert routes, "no moderation operation in /v1/openapi.json"
    return routes


MOMENTS = st.one_of(
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())).map(lambda d: d.isoformat()),
    st.sampled_from(
        ["0001-01-01", "9999-12-31T23:59:59", "1970-01-01T00:00:00Z", "2026-11-28", "", "-1"]
    ),
    texts(25),
)


def moderation_values(comment_ids: list[str]) -> dict[str, st.SearchStrategy[str]]:
    """Values of path and query parameters, by name: meaningful ones and anything."""
    ids = st.one_of(st.sampled_from(comment_ids), st.sampled_from(comment_ids).map(str.lower), IDS)
    stream_ids = st.from_regex(r"[0-9]{1,22}(-[0-9]{1,22})?", fullmatch=True)
    return {
        "comment_id": st.one_of(ids, ids, texts(30), st.just("")),
        "kind": st.one_of(st.sampled_from(["banned", "suspect", "BANNED", "allowed"]), texts(10)),
        "state": st.one_of(st.sampled_from([*STATES, "", "HELD"]), texts(10)),
        "limit": st.one_of(
            st.integers(-5, 300).map(str),
            st.sampled_from(["", "1e3", "0x10", " 5", "²", "١٢", "𝟗"]),
            texts(5),
        ),
        "cursor": st.one_of(ids, stream_ids, st.sampled_from(["0", "0-0", "-", "+", "(", "²"])),
        "language": st.one_of(st.sampled_from(["fr", "ar", "ary", "en", "und", "mixed"]), texts()),
        "article_id": st.one_of(st.sampled_from(["article-0", "article-1"]), texts(140)),
        "reason": st.one_of(
            st.sampled_from(["toxicity", "toxicity.insult", "wordlist", "spam.", ""]), texts()
        ),
        "since": MOMENTS,
        "until": MOMENTS,
        "format": st.one_of(st.sampled_from(["json", "csv", "ndjson", "JSON", ""]), texts(5)),
    }


def moderation_bodies(comment_ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Decisions, bulk decisions, word lists and forget requests in one shape: mostly
    plausible (so that comments move), else any of their fields, odd or not, plus others."""
    seeded = st.sampled_from(comment_ids)
    queues = st.sampled_from(QUEUES)
    emails = st.sampled_from([seeded_email(n) for n in range(len(SEEDED))])
    plausible = st.fixed_dictionaries(
        {
            "action": st.sampled_from(["approve", "reject", "takedown"]),
            "items": st.lists(
                st.fixed_dictionaries({"id": seeded}, optional={"from_status": queues}),
                min_size=1,
                max_size=4,
            ),
            "terms": st.lists(clean_texts(1, 20), max_size=6),
            "email": emails,
        },
        optional={"from_status": queues, "reason": clean_texts(0, 40), "spam": st.booleans()},
    )
    ids = st.one_of(seeded, IDS, texts(30))
    states = mostly(st.sampled_from([*STATES, "HELD"]), JSON_VALUES)
    items = mostly(
        st.fixed_dictionaries({"id": ids}, optional={"from_status": states}), JSON_VALUES
    )
    objects = [
        {"term": "7mar", "languages": ["ary", "fr"], "meaning": "« âne »"},
        {"term": "con", "languages": ["de"]},
        {"term": "idiot", "meaning": "m" * 201},
    ]
    terms = st.one_of(texts(20), st.sampled_from(["x" * 101, "  Idiot  ", "c0nnard", "", *objects]))
    odd = st.fixed_dictionaries(
        {},
        optional={
            "action": mostly(st.sampled_from(["approve", "reject", "takedown"]), JSON_VALUES),
            "from_status": states,
            "reason": st.one_of(texts(60), st.sampled_from(["spam", "r" * 600]), JSON_VALUES),
            "spam": mostly(st.booleans(), JSON_VALUES),
            "items": mostly(st.lists(items, max_size=6), st.just([{"id": "X"}] * 201)),
            "terms": mostly(st.lists(mostly(terms, JSON_VALUES), max_size=8), JSON_VALUES),
            "email": st.one_of(emails.map(str.upper), texts(30), JSON_VALUES),
        },
    )
    extra = st.dictionaries(JSON_KEYS, JSON_VALUES, max_size=2)
    return st.tuples(mostly(plausible, odd, odds=2), extra).map(
        lambda parts: {**parts[1], **parts[0]}
    )


@st.composite
def moderation_requests(
    draw: st.DrawFn, routes: list[tuple[str, str, tuple[str, ...]]], comment_ids: list[str]
) -> Sent:
    """A request to a moderation route of the spec: any method now and then, parameters
    meaningful or not, a token mostly, a body for the methods that take one."""
    values, bodies = moderation_values(comment_ids), moderation_bodies(comment_ids)
    path, method, query_names = draw(st.sampled_from(routes))
    if draw(st.integers(0, 15)) == 8:
        method = draw(st.sampled_from(HTTP_METHODS))
    for name in PATH_PARAMETER.findall(path):
        value = draw(values.get(name, texts()))
        path = path.replace(f"{{{name}}}", quote(value, safe="", errors="surrogatepass"))
    optional = {name: values.get(name, texts()) for name in query_names}
    query = draw(st.fixed_dictionaries({}, optional=optional))
    query |= draw(st.dictionaries(st.one_of(st.sampled_from(sorted(values)), texts(8)), texts()))
    if query:
        path += "?" + urlencode(query, encoding="utf-8", errors="surrogatepass")
    headers = draw(
        st.fixed_dictionaries(
            {"Authorization": mostly(st.just(f"Bearer {TOKEN}"), TOKEN_HEADERS, odds=6)},
            optional={"Accept-Language": LANGUAGES, "X-Request-ID": HEADER_TEXT},
        )
    )
    headers = {name: value for name, value in headers.items() if value is not None}
    body = b""
    if method in ("POST", "PUT", "PATCH") or draw(st.integers(0, 9)) == 5:
        content_type = draw(mostly(st.just("application/json"), CONTENT_TYPES, odds=8))
        if content_type is not None:
            headers["Content-Type"] = content_type
        payload = draw(mostly(bodies, JSON_VALUES, odds=8))
        body = draw(
            mostly(st.just(json_bytes(payload, ascii_only=True)), RAW_BODIES | st.just(b""))
        )
    return Sent(method, path, headers, body)


def has_token(request: Sent) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and token.strip() == TOKEN


def assert_states_consistent(db: Redis, keys: Keys, comments: dict[str, str]) -> None:
    """Every comment has a known status and is in exactly the matching queue (and in its
    article's feed only when published); no queue or feed holds anything else; no comment
    appeared."""
    stored = {key.rsplit(":", 1)[1] for key in db.scan_iter(keys.comment("*"))}
    assert stored == set(comments), f"comments appeared or vanished: {stored ^ set(comments)}"
    queues = {state: set(db.zrange(keys.queue(state), 0, -1)) for state in QUEUES}
    feeds = {article: set(db.zrange(keys.feed(article), 0, -1)) for article in comments.values()}
    for comment_id, article_id in comments.items():
        status = db.hget(keys.comment(comment_id), "status")
        assert status in STATES, f"{comment_id}: status {status!r}"
        where = {state for state, members in queues.items() if comment_id in members}
        assert where == ({status} - {"pending"}), f"{comment_id} is {status}, in queues {where}"
        in_feed = comment_id in feeds[article_id]
        assert in_feed == (status == "published"), f"{comment_id} is {status}; in feed: {in_feed}"
    for state, members in queues.items():
        assert members <= set(comments), f"queue {state} holds {members - set(comments)}"
    for article_id, members in feeds.items():
        assert members <= set(comments), f"feed {article_id} holds {members - set(comments)}"


def assert_wordlists_are_sets_of_terms(db: Redis, keys: Keys) -> None:
    """Each list is a hash of clean terms, each with valid languages and a meaning."""
    for kind in ("banned", "suspect"):
        kind_of_key = db.type(keys.wordlist_terms(kind))
        assert kind_of_key in ("hash", "none"), f"word list {kind} is a {kind_of_key}"
        for term, value in db.hgetall(keys.wordlist_terms(kind)).items():
            assert isinstance(term, str) and 0 < len(term) <= 100, term
            assert term == term.strip() and "\x00" not in term, repr(term)
            stored = json.loads(value)
            assert stored["languages"] == list(languages_of(stored["languages"])), value
            assert isinstance(stored["meaning"], str) and len(stored["meaning"]) <= 200, value


def assert_answer_matches_redis(request: Sent, answer: Answer, db: Redis, keys: Keys) -> None:
    """A 2xx needs the token; what a 200 says was done is what Redis holds."""
    assert answer.status >= 300 or has_token(request), f"{request} -> {answer} without token"
    if answer.status != 200 or request.method not in ("POST", "PUT"):
        return
    body = json.loads(answer.body)
    path = urlsplit(request.target).path
    if path.endswith("/decision"):
        assert db.hget(keys.comment(body["id"]), "status") == body["status"], (request, body)
    elif path.startswith("/v1/moderation/wordlists/"):
        stored = db.hgetall(keys.wordlist_terms(body["kind"]))
        assert [t.to_dict() for t in terms_of(stored)] == body["terms"], body
