"""Public status, health, readiness, the OpenAPI document and unknown routes."""

from __future__ import annotations

import json

import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient

from moderator.keys import Keys
from moderator.settings import Settings
from moderator.web.app import create_app
from moderator.web.openapi import spec
from tests.helpers import VALID


async def test_public_status_never_shows_private_fields(client: TestClient) -> None:
    payload = {**VALID, "ip": "196.200.131.7", "user_agent": "UA", "url": "https://a.example"}
    created = await client.post("/v1/comments", json=payload)
    comment_id = (await created.json())["id"]
    response = await client.get(f"/v1/comments/{comment_id}")
    assert response.status == 200
    status = await response.json()
    assert set(status) == {"id", "article_id", "status", "created_at", "decided_at", "message"}
    assert status["message"] == "Your comment has been received and is being checked."
    assert status["status"] == "pending"
    assert status["decided_at"] is None
    text = await response.text()
    for private in ("amina@example.ma", "196.200.131.7", "Très bon article"):
        assert private not in text


async def test_a_held_comment_says_it_awaits_review_in_the_readers_language(
    client: TestClient, redis: aioredis.Redis, keys: Keys
) -> None:
    from moderator.domain import Status, utc_now
    from moderator.storage.decisions import Decision, DecisionStore, Reason

    created = await client.post("/v1/comments", json=VALID)
    comment_id = (await created.json())["id"]
    held = Decision(
        decision=Status.HELD,
        by="auto",
        at=utc_now(),
        reasons=(Reason("toxicity.insult", score=0.91, threshold=0.6),),
    )
    await DecisionStore(redis, keys).apply(comment_id, "politique-123", Status.PENDING, held)
    for language, message in (
        ("fr", "Votre commentaire attend la relecture d'un modérateur."),
        ("ar", "تعليقك في انتظار مراجعة أحد المشرفين."),
        ("en", "Your comment is awaiting review by a moderator."),
    ):
        response = await client.get(
            f"/v1/comments/{comment_id}", headers={"Accept-Language": language}
        )
        status = await response.json()
        assert status["message"] == message
        assert response.headers["Content-Language"] == language
        assert "0.91" not in await response.text()  # no internal scores


async def test_unknown_comment_is_404_problem(client: TestClient) -> None:
    for path in ("/v1/comments/01J00000000000000000000000", "/v1/comments/nope"):
        response = await client.get(path)
        assert response.status == 404
        assert response.content_type == "application/problem+json"


async def test_unknown_route_and_wrong_method_are_problems(client: TestClient) -> None:
    missing = await client.get("/nowhere")
    assert missing.status == 404
    assert (await missing.json())["type"] == "urn:moderator:problem:not_found"
    wrong = await client.delete("/v1/comments")
    assert wrong.status == 405
    assert wrong.content_type == "application/problem+json"
    assert "POST" in wrong.headers["Allow"]


async def test_health_and_readiness(client: TestClient) -> None:
    assert await (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert await ready.json() == {"status": "ready", "redis": "ok", "workers": 0}


def _routes(app: web.Application) -> set[tuple[str, str]]:
    return {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }


def test_openapi_describes_exactly_the_registered_routes(settings: Settings) -> None:
    described = {(method, path) for path, item in spec()["paths"].items() for method in item}
    assert described == _routes(create_app(settings))


def test_openapi_describes_word_list_terms_with_languages_and_meaning() -> None:
    """A word list's terms are objects; a PUT may still send plain strings (every language)."""
    path = spec()["paths"]["/v1/moderation/wordlists/{kind}"]
    listed = path["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    term = listed["properties"]["terms"]["items"]
    assert term["required"] == ["term", "languages", "meaning"]
    languages = ["*", "fr", "en", "ar", "ary", "es"]
    assert term["properties"]["languages"]["items"] == {"enum": languages}
    body = path["put"]["requestBody"]["content"]["application/json"]["schema"]
    string, given = body["properties"]["terms"]["items"]["oneOf"]
    assert string == {"type": "string", "maxLength": 100}
    assert given["required"] == ["term"]
    assert given["properties"] == term["properties"]


async def test_openapi_is_served(client: TestClient) -> None:
    response = await client.get("/v1/openapi.json")
    document = await response.json()
    assert document["openapi"].startswith("3.")
    assert json.dumps(document)  # plain JSON all the way down
