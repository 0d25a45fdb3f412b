"""POST /v1/comments through the real app and a real Redis."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.keys import Keys
from moderator.settings import Settings
from moderator.web.app import create_app
from tests.helpers import VALID, stored_keys

PROBLEM = "application/problem+json"


async def post_json(client: TestClient, payload: Any, **headers: str) -> Any:
    return await client.post(
        "/v1/comments",
        data=json.dumps(payload),
        headers={"Content-Type": "application/json", **headers},
    )


async def assert_nothing_written(redis: aioredis.Redis, settings: Settings) -> None:
    assert await stored_keys(redis, settings) == []


async def test_valid_comment_is_stored_and_queued(
    client: TestClient, redis: aioredis.Redis, keys: Keys
) -> None:
    response = await post_json(client, VALID)
    assert response.status == 202
    body = await response.json()
    comment_id = body["id"]
    assert body == {
        "id": comment_id,
        "status": "pending",
        "links": {"self": f"/v1/comments/{comment_id}"},
    }
    assert response.headers["Location"] == f"/v1/comments/{comment_id}"
    stored = await redis.hgetall(keys.comment(comment_id))
    assert stored["article_id"] == "politique-123"
    assert stored["email"] == "amina@example.ma"
    assert stored["status"] == "pending"
    assert len(stored["email_hash"]) == 32
    entries = await redis.xrange(keys.comments_stream)
    assert [fields for _, fields in entries] == [{"id": comment_id, "article_id": "politique-123"}]


async def test_text_is_normalised_and_trimmed(
    client: TestClient, redis: aioredis.Redis, keys: Keys
) -> None:
    payload = {
        **VALID,
        "name": "  Ye\u0301ssine \u202e\x07 ",  # decomposed é, a bidi override, a bell
        "body": "  Ligne 1  \r\n\r\n\r\n\r\n  Ligne 2 \t ",
        "email": "  Amina@EXAMPLE.ma ",
    }
    response = await post_json(client, payload)
    assert response.status == 202
    stored = await redis.hgetall(keys.comment((await response.json())["id"]))
    assert stored["name"] == "Yéssine"
    assert stored["body"] == "Ligne 1\n\nLigne 2"
    assert stored["email"] == "Amina@example.ma"


async def test_numeric_article_id_is_accepted(client: TestClient) -> None:
    response = await post_json(client, {**VALID, "article_id": 4521})
    assert response.status == 202


async def test_wordpress_form_post(client: TestClient, redis: aioredis.Redis, keys: Keys) -> None:
    form = {
        "author": "Hamza",
        "email": "hamza@example.com",
        "url": "https://hamza.example.com/",
        "comment": "salam, 3ajbni had lmaqal bzaf",
        "comment_post_ID": "77",
        "comment_parent": "0",
    }
    response = await client.post("/v1/comments", data=form)
    assert response.status == 202
    stored = await redis.hgetall(keys.comment((await response.json())["id"]))
    assert stored["name"] == "Hamza"
    assert stored["article_id"] == "77"
    assert stored["body"] == "salam, 3ajbni had lmaqal bzaf"
    assert "parent_id" not in stored


async def test_form_post_with_allowed_redirect_answers_303(client: TestClient) -> None:
    form = {
        "author": "Hamza",
        "email": "h@example.com",
        "comment": "Bravo",
        "comment_post_ID": "77",
        "redirect_to": "https://news.example.ma/a/77?x=1",
    }
    response = await client.post("/v1/comments", data=form, allow_redirects=False)
    assert response.status == 303
    location = response.headers["Location"]
    assert location.startswith("https://news.example.ma/a/77?x=1&moderator_comment=")


async def test_form_post_with_foreign_redirect_is_refused(
    client: TestClient, redis: aioredis.Redis, settings: Settings
) -> None:
    form = {
        "author": "Hamza",
        "email": "h@example.com",
        "comment": "Bravo",
        "comment_post_ID": "77",
        "redirect_to": "https://evil.example.net/",
    }
    response = await client.post("/v1/comments", data=form, allow_redirects=False)
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "redirect_to"
    await assert_nothing_written(redis, settings)


LONG = "x" * 5001


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            {},
            [
                ("article_id", "required"),
                ("name", "required"),
                ("email", "required"),
                ("body", "required"),
            ],
            id="all-missing",
        ),
        pytest.param(
            {**VALID, "name": "   ", "body": "\n\t \r\n"},
            [("name", "blank"), ("body", "blank")],
            id="blank-after-trim",
        ),
        pytest.param({**VALID, "name": "n" * 101}, [("name", "too_long")], id="long-name"),
        pytest.param({**VALID, "body": LONG}, [("body", "too_long")], id="long-body"),
        pytest.param(
            {**VALID, "article_id": "a" * 129}, [("article_id", "too_long")], id="long-article"
        ),
        pytest.param(
            {**VALID, "article_id": "a/b"}, [("article_id", "invalid_id")], id="article-with-slash"
        ),
        pytest.param(
            {**VALID, "email": "amina.example.ma"}, [("email", "invalid_email")], id="email-no-at"
        ),
        pytest.param(
            {**VALID, "email": "amina el@example.ma"},
            [("email", "invalid_email")],
            id="email-space",
        ),
        pytest.param(
            {**VALID, "email": "a@b@example.ma"}, [("email", "invalid_email")], id="email-two-at"
        ),
        pytest.param(
            {**VALID, "email": "a" * 300 + "@example.ma"},
            [("email", "too_long")],
            id="email-300-local",
        ),
        pytest.param(
            {**VALID, "email": "a" * 70 + "@example.ma"},
            [("email", "invalid_email")],
            id="email-long-local",
        ),
        pytest.param(
            {**VALID, "email": "amina@gm\u0430il.com"},  # Cyrillic а
            [("email", "confusable_email")],
            id="email-lookalike-domain",
        ),
        pytest.param(
            {**VALID, "name": ["Amina"], "body": 42},
            [("name", "invalid_type"), ("body", "invalid_type")],
            id="wrong-types",
        ),
        pytest.param({**VALID, "email": {"a": 1}}, [("email", "invalid_type")], id="object-email"),
        pytest.param(
            {**VALID, "article_id": True}, [("article_id", "invalid_type")], id="bool-article"
        ),
        pytest.param(
            {**VALID, "body": "bon\u0000jour"}, [("body", "invalid_character")], id="nul-escaped"
        ),
        pytest.param(
            {**VALID, "url": "javascript:alert(1)"}, [("url", "invalid_url")], id="bad-url"
        ),
        pytest.param({**VALID, "ip": "999.1.1.1"}, [("ip", "invalid_ip")], id="bad-ip"),
        pytest.param(
            {**VALID, "form_rendered_at": "yesterday"},
            [("form_rendered_at", "invalid_time")],
            id="bad-time",
        ),
        pytest.param(
            {**VALID, "parent_id": "not-an-id"},
            [("parent_id", "parent_not_found")],
            id="bad-parent",
        ),
    ],
)
async def test_invalid_fields_answer_422_and_write_nothing(
    client: TestClient,
    redis: aioredis.Redis,
    settings: Settings,
    payload: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    response = await post_json(client, payload)
    assert response.status == 422
    assert response.content_type == PROBLEM
    problem = await response.json()
    assert problem["type"] == "urn:moderator:problem:validation"
    assert problem["status"] == 422
    assert [(e["field"], e["code"]) for e in problem["errors"]] == expected
    assert all(e["message"] for e in problem["errors"])
    await assert_nothing_written(redis, settings)


async def test_lone_surrogate_is_refused(
    client: TestClient, redis: aioredis.Redis, settings: Settings
) -> None:
    raw = '{"article_id": "a", "name": "x", "email": "a@example.ma", "body": "\\ud800"}'
    response = await client.post(
        "/v1/comments", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status == 422
    assert (await response.json())["errors"][0]["code"] == "invalid_character"
    await assert_nothing_written(redis, settings)


@pytest.mark.parametrize(
    ("raw", "content_type", "detail"),
    [
        (b'{"name": "Amina",', "application/json", "The body is not valid JSON."),
        (b"[1, 2, 3]", "application/json", "The body must be a JSON object."),
        (b'"just a string"', "application/json", "The body must be a JSON object."),
        (b"", "application/json", "The body is not valid JSON."),
        (b'{"name": "\xff\xfe"}', "application/json", "The body is not valid UTF-8."),
        (b'{"name": "a\x00b"}', "application/json", "The body is not valid JSON."),
        (b"[" * 30_000 + b"]" * 30_000, "application/json", "The body is not valid JSON."),
        (
            b"author=%FF%FE&comment=x",
            "application/x-www-form-urlencoded",
            "The form is not valid UTF-8.",
        ),
        (b"author=\xc3\xa9", "application/x-www-form-urlencoded", "The form is not valid UTF-8."),
    ],
    ids=[
        "truncated",
        "array",
        "string",
        "empty",
        "bad-utf8",
        "raw-nul",
        "deep-nesting",
        "form-bad-utf8",
        "form-raw-bytes",
    ],
)
async def test_malformed_bodies_answer_400(
    client: TestClient,
    redis: aioredis.Redis,
    settings: Settings,
    raw: bytes,
    content_type: str,
    detail: str,
) -> None:
    response = await client.post("/v1/comments", data=raw, headers={"Content-Type": content_type})
    assert response.status == 400
    assert response.content_type == PROBLEM
    problem = await response.json()
    assert problem["type"] == "urn:moderator:problem:malformed"
    assert problem["detail"] == detail
    await assert_nothing_written(redis, settings)


async def test_other_media_types_answer_415(
    client: TestClient, redis: aioredis.Redis, settings: Settings
) -> None:
    for content_type in ("text/plain", "application/xml", "multipart/form-data; boundary=x"):
        response = await client.post(
            "/v1/comments", data=b"hello", headers={"Content-Type": content_type}
        )
        assert response.status == 415
        assert response.content_type == PROBLEM
    await assert_nothing_written(redis, settings)


async def test_ten_megabyte_body_answers_413(
    client: TestClient, redis: aioredis.Redis, settings: Settings
) -> None:
    big = io.BytesIO(b'{"body": "' + b"x" * 10_000_000 + b'"}')
    response = await client.post(
        "/v1/comments",
        data=big,
        headers={"Content-Type": "application/json", "Content-Length": "10000012"},
    )
    assert response.status == 413
    assert response.content_type == PROBLEM
    await assert_nothing_written(redis, settings)


async def test_chunked_body_over_the_limit_answers_413(
    client: TestClient, redis: aioredis.Redis, settings: Settings
) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(200):
            yield b"x" * 65536

    response = await client.post(
        "/v1/comments", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status == 413
    await assert_nothing_written(redis, settings)


@pytest.mark.parametrize(
    ("accept_language", "title"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.5", "Le commentaire contient des champs invalides."),
        ("ar-MA", "يحتوي التعليق على حقول غير صالحة."),
        ("de, en;q=0.3", "The comment has invalid fields."),
        ("", "The comment has invalid fields."),
    ],
)
async def test_error_messages_follow_accept_language(
    client: TestClient, accept_language: str, title: str
) -> None:
    response = await post_json(
        client, {**VALID, "name": ""}, **{"Accept-Language": accept_language}
    )
    problem = await response.json()
    assert problem["title"] == title
    assert len({problem["errors"][0]["message"]}) == 1


async def test_same_idempotency_key_and_body_return_the_first_answer(
    client: TestClient, redis: aioredis.Redis, keys: Keys
) -> None:
    first = await post_json(client, VALID, **{"Idempotency-Key": "abc-1"})
    again = await post_json(client, VALID, **{"Idempotency-Key": "abc-1"})
    assert first.status == again.status == 202
    assert await first.json() == await again.json()
    assert await redis.xlen(keys.comments_stream) == 1


async def test_idempotency_key_reused_with_another_body_answers_409(
    client: TestClient, redis: aioredis.Redis, keys: Keys
) -> None:
    await post_json(client, VALID, **{"Idempotency-Key": "abc-2"})
    other = await post_json(client, {**VALID, "body": "Autre"}, **{"Idempotency-Key": "abc-2"})
    assert other.status == 409
    assert other.content_type == PROBLEM
    assert await redis.xlen(keys.comments_stream) == 1


async def test_reply_to_an_existing_comment(
    client: TestClient, redis: aioredis.Redis, keys: Keys
) -> None:
    parent = (await (await post_json(client, VALID)).json())["id"]
    reply = await post_json(client, {**VALID, "parent_id": parent.lower()})
    assert reply.status == 202
    stored = await redis.hgetall(keys.comment((await reply.json())["id"]))
    assert stored["parent_id"] == parent


async def test_reply_to_a_comment_of_another_article_is_refused(
    client: TestClient, redis: aioredis.Redis, keys: Keys
) -> None:
    parent = (await (await post_json(client, VALID)).json())["id"]
    reply = await post_json(client, {**VALID, "article_id": "other", "parent_id": parent})
    assert reply.status == 422
    assert (await reply.json())["errors"] == [
        {
            "field": "parent_id",
            "code": "parent_not_found",
            "message": "There is no comment with this id under this article.",
        }
    ]
    assert await redis.xlen(keys.comments_stream) == 1


async def test_site_keys_are_required_when_configured(
    aiohttp_client,
    settings: Settings,
    redis: aioredis.Redis,  # type: ignore[no-untyped-def]
) -> None:
    from dataclasses import replace

    client = await aiohttp_client(create_app(replace(settings, site_keys=("k-123",))))
    refused = await post_json(client, VALID)
    assert refused.status == 401
    assert refused.content_type == PROBLEM
    wrong = await post_json(client, VALID, **{"X-Site-Key": "nope"})
    assert wrong.status == 401
    accepted = await post_json(client, VALID, **{"X-Site-Key": "k-123"})
    assert accepted.status == 202


async def test_request_id_is_taken_from_the_caller_or_made(client: TestClient) -> None:
    given = await post_json(client, VALID, **{"X-Request-ID": "site-req-42"})
    assert given.headers["X-Request-ID"] == "site-req-42"
    made = await post_json(client, {})
    assert len(made.headers["X-Request-ID"]) == 32


async def test_a_body_sent_too_slowly_times_out_with_408(
    aiohttp_client,
    settings: Settings,
    redis: aioredis.Redis,  # type: ignore[no-untyped-def]
) -> None:
    """A client that stops sending its body half-way (slowloris) gets 408, not a held handler."""
    import asyncio
    from dataclasses import replace

    client = await aiohttp_client(create_app(replace(settings, body_timeout_s=0.3)))
    body = json.dumps(VALID).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    writer.write(
        b"POST /v1/comments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[:10]
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(65536), timeout=5)
    writer.close()
    await writer.wait_closed()
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"application/problem+json" in answer
    await assert_nothing_written(redis, settings)
