"""The moderation API against the real app, a real worker (fake toxicity) and Redis."""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import replace
from typing import Any

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator import logs
from moderator.keys import Keys
from moderator.settings import Settings
from moderator.web.app import create_app
from tests.fakes import FakeToxicity
from tests.helpers import AMINA, KARIM, VALID, post_decision
from workers.consumer import Worker


async def held(
    api: TestClient, worker: Worker, body: str = "You are an idiot.", **extra: Any
) -> str:
    response = await api.post("/v1/comments", json={**VALID, "body": body, **extra})
    comment_id = str((await response.json())["id"])
    await worker.drain()
    return comment_id


async def test_tokens_are_required_and_checked(api: TestClient) -> None:
    missing = await api.get("/v1/moderation/queue")
    assert missing.status == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.content_type == "application/problem+json"
    wrong = await api.get("/v1/moderation/queue", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 403
    assert await (await api.get("/v1/moderation/me", headers=KARIM)).json() == {
        "name": "karim",
        "windows": {"spam_s": 3600, "burst_s": 600},
    }


async def test_held_queue_lists_reasons_and_never_the_email(
    api: TestClient, worker: Worker
) -> None:
    comment_id = await held(api, worker, ip="196.200.131.7")
    page = await (await api.get("/v1/moderation/queue?state=held", headers=AMINA)).json()
    [item] = page["items"]
    assert item["id"] == comment_id
    assert item["status"] == "held"
    assert {"code": "toxicity.insult", "score": 0.93, "threshold": 0.6} in (
        item["decision"]["reasons"]
    )
    text = json.dumps(page)
    assert "amina@example.ma" not in text
    assert "196.200.131.7" not in text
    detail = await (await api.get(f"/v1/moderation/comments/{comment_id}", headers=AMINA)).json()
    assert detail["comment"]["email_hash"]
    assert "email" not in detail["comment"]
    assert [h["by"] for h in detail["history"]] == ["auto"]


async def test_queue_filters_and_pages(api: TestClient, worker: Worker) -> None:
    ids = [await held(api, worker, body=f"You are an idiot, number {i}.") for i in range(3)]
    arabic = await held(
        api, worker, body="هذا المقال مفيد جدا وشكرا للكاتب على هذا العمل", article_id="other"
    )
    first = await (await api.get("/v1/moderation/queue?limit=2", headers=AMINA)).json()
    assert [i["id"] for i in first["items"]] == ids[:2]
    rest = await (
        await api.get(f"/v1/moderation/queue?limit=2&cursor={first['next_cursor']}", headers=AMINA)
    ).json()
    assert [i["id"] for i in rest["items"]] == [ids[2], arabic]
    by_article = await (
        await api.get("/v1/moderation/queue?article_id=other", headers=AMINA)
    ).json()
    assert [i["id"] for i in by_article["items"]] == [arabic]
    by_language = await (await api.get("/v1/moderation/queue?language=ar", headers=AMINA)).json()
    assert [i["id"] for i in by_language["items"]] == [arabic]
    by_reason = await (await api.get("/v1/moderation/queue?reason=toxicity", headers=AMINA)).json()
    assert [i["id"] for i in by_reason["items"]] == ids
    bad = await api.get("/v1/moderation/queue?state=pending", headers=AMINA)
    assert bad.status == 400


async def test_approve_publishes_at_its_place_and_is_audited(
    api: TestClient, worker: Worker, redis: aioredis.Redis, keys: Keys
) -> None:
    older = await held(api, worker)
    newer = await held(api, worker, body="Bel article, merci.")
    response = await post_decision(
        api, older, action="approve", from_status="held", reason="ironie"
    )
    assert response.status == 200
    assert (await response.json())["status"] == "published"
    feed = await (await api.get("/v1/articles/politique-123/comments")).json()
    assert [i["id"] for i in feed["items"]] == [older, newer]
    audit = await (await api.get(f"/v1/moderation/audit?comment_id={older}", headers=AMINA)).json()
    latest = audit["items"][0]
    assert (latest["by"], latest["from"], latest["to"]) == ("moderator:amina", "held", "published")
    assert latest["note"] == "ironie"
    assert latest["overrides"] == "auto"
    history = (await (await api.get(f"/v1/moderation/comments/{older}", headers=AMINA)).json())[
        "history"
    ]
    assert [h["by"] for h in history] == ["auto", "moderator:amina"]


async def test_two_moderators_at_once_exactly_one_wins(api: TestClient, worker: Worker) -> None:
    comment_id = await held(api, worker)
    first, second = await asyncio.gather(
        post_decision(api, comment_id, AMINA, action="approve", from_status="held"),
        post_decision(api, comment_id, KARIM, action="reject", from_status="held"),
    )
    assert sorted([first.status, second.status]) == [200, 409]
    loser = first if first.status == 409 else second
    problem = await loser.json()
    assert problem["current_status"] in ("published", "rejected")


async def test_stale_state_is_a_409_and_takedown_removes_from_the_feed(
    api: TestClient, worker: Worker
) -> None:
    comment_id = await held(api, worker)
    assert (
        await post_decision(api, comment_id, action="approve", from_status="held")
    ).status == 200
    stale = await post_decision(api, comment_id, action="reject", from_status="held")
    assert stale.status == 409
    assert (await stale.json())["current_status"] == "published"
    down = await post_decision(
        api, comment_id, action="takedown", from_status="published", reason="plainte"
    )
    assert (await down.json())["status"] == "rejected"
    feed = await (await api.get("/v1/articles/politique-123/comments")).json()
    assert feed["items"] == []


async def test_bulk_decisions_answer_per_id(api: TestClient, worker: Worker) -> None:
    one, two = await held(api, worker), await held(api, worker)
    assert (await post_decision(api, two, action="reject", from_status="held")).status == 200
    response = await api.post(
        "/v1/moderation/decisions",
        headers=AMINA,
        json={
            "action": "approve",
            "items": [
                {"id": one, "from_status": "held"},
                {"id": two, "from_status": "held"},
                {"id": "01J00000000000000000000000", "from_status": "held"},
            ],
        },
    )
    results = (await response.json())["results"]
    assert [r["outcome"] for r in results] == ["ok", "conflict", "not_found"]
    assert results[1]["status"] == "rejected"


async def test_bulk_decisions_with_an_unknown_from_status_are_422_and_apply_nothing(
    api: TestClient, worker: Worker
) -> None:
    """As the single route: an unknown from_status is an error, not "don't check"."""
    one, two = await held(api, worker), await held(api, worker)
    response = await api.post(
        "/v1/moderation/decisions",
        headers=AMINA,
        json={
            "action": "approve",
            "items": [{"id": one, "from_status": "held"}, {"id": two, "from_status": "hled"}],
        },
    )
    assert response.status == 422
    errors = (await response.json())["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("items[1].from_status", "invalid_choice")]
    for comment_id in (one, two):
        detail = await api.get(f"/v1/moderation/comments/{comment_id}", headers=AMINA)
        assert (await detail.json())["comment"]["status"] == "held"


async def test_invalid_decisions_are_422(api: TestClient, worker: Worker) -> None:
    comment_id = await held(api, worker)
    for body in (
        {"action": "delete"},
        {"action": "approve", "from_status": "nowhere"},
        {"action": "approve", "spam": "yes"},
    ):
        response = await post_decision(api, comment_id, **body)
        assert response.status == 422
    missing = await post_decision(api, "01J00000000000000000000000", action="approve")
    assert missing.status == 404
    wrong_type = await api.post(
        f"/v1/moderation/comments/{comment_id}/decision",
        data=b"action=approve",
        headers={**AMINA, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert wrong_type.status == 415


async def test_word_lists_are_read_and_replaced(
    api: TestClient, worker: Worker, redis: aioredis.Redis, keys: Keys
) -> None:
    seeded = await (await api.get("/v1/moderation/wordlists/banned", headers=AMINA)).json()
    assert seeded["kind"] == "banned" and seeded["terms"]
    connard = {"term": "connard", "languages": ["*"], "meaning": "insulte grossière (« imbécile »)"}
    assert connard in seeded["terms"]
    put = await api.put(
        "/v1/moderation/wordlists/suspect",
        headers=AMINA,
        json={"terms": ["machintruc", "  bidule "]},
    )
    assert (await put.json())["terms"] == [
        {"term": "bidule", "languages": ["*"], "meaning": ""},
        {"term": "machintruc", "languages": ["*"], "meaning": ""},
    ]
    comment_id = await held(api, worker, body="Encore un machintruc.")
    detail = await (await api.get(f"/v1/moderation/comments/{comment_id}", headers=AMINA)).json()
    reasons = detail["decision"]["reasons"]
    assert {"code": "wordlist.suspect", "match": "machintruc", "languages": ["*"]} in reasons
    bad = await api.put("/v1/moderation/wordlists/suspect", headers=AMINA, json={"terms": [1]})
    assert bad.status == 422
    assert (await api.get("/v1/moderation/wordlists/other", headers=AMINA)).status == 404


async def test_the_sensitive_list_is_the_moderators_to_edit(
    api: TestClient, worker: Worker
) -> None:
    """Groups of people and violence, which keep the site model from publishing alone:
    seeded like the others (by the workers), and a site adds its own."""
    seeded = await (await api.get("/v1/moderation/wordlists/sensitive", headers=AMINA)).json()
    assert {"term": "amazigh", "languages": ["*"], "meaning": "les Amazighs"} in seeded["terms"]
    polisario = {"term": "polisario", "languages": ["*"], "meaning": "le Polisario"}
    put = await api.put(
        "/v1/moderation/wordlists/sensitive", headers=AMINA, json={"terms": [polisario]}
    )
    assert put.status == 200
    got = await (await api.get("/v1/moderation/wordlists/sensitive", headers=AMINA)).json()
    assert got["terms"] == [polisario]


async def test_word_list_terms_carry_their_languages_and_meaning(
    api: TestClient, worker: Worker
) -> None:
    """A term is held only in its languages, and its reason says where it insults and
    what it means; plain strings and objects mix in one list."""
    machin = {"term": "machintruc", "languages": ["fr"], "meaning": "mot inventé, insulte"}
    put = await api.put(
        "/v1/moderation/wordlists/suspect",
        headers=AMINA,
        json={"terms": ["bidule", machin, {"term": "truc", "languages": ["ary", "fr"]}]},
    )
    listed = [
        {"term": "bidule", "languages": ["*"], "meaning": ""},
        machin,
        {"term": "truc", "languages": ["fr", "ary"], "meaning": ""},
    ]
    assert (await put.json())["terms"] == listed
    got = await (await api.get("/v1/moderation/wordlists/suspect", headers=AMINA)).json()
    assert got == {"kind": "suspect", "terms": listed}
    french = await held(api, worker, body="Encore un machintruc dans cet article.")
    english = await held(api, worker, body="This machintruc is a great article, thanks.")
    detail = await (await api.get(f"/v1/moderation/comments/{french}", headers=AMINA)).json()
    assert detail["decision"]["reasons"] == [
        {
            "code": "wordlist.suspect",
            "match": "machintruc",
            "languages": ["fr"],
            "meaning": "mot inventé, insulte",
        }
    ]
    detail = await (await api.get(f"/v1/moderation/comments/{english}", headers=AMINA)).json()
    assert detail["decision"]["decision"] == "published"


async def test_word_list_terms_are_checked_one_by_one(api: TestClient) -> None:
    bad = await api.put(
        "/v1/moderation/wordlists/suspect",
        headers=AMINA,
        json={
            "terms": [
                "ok",
                {"term": "de", "languages": ["de"]},
                {"term": "", "languages": []},
                {"term": "long", "meaning": "x" * 201},
                {"term": "typed", "meaning": 3},
            ]
        },
    )
    assert bad.status == 422
    assert [(e["field"], e["code"]) for e in (await bad.json())["errors"]] == [
        ("terms[1].languages", "invalid_choice"),
        ("terms[2]", "invalid_terms"),
        ("terms[2].languages", "invalid_choice"),
        ("terms[3].meaning", "too_long"),
        ("terms[4].meaning", "invalid_type"),
    ]
    got = await (await api.get("/v1/moderation/wordlists/suspect", headers=AMINA)).json()
    assert "ok" not in [term["term"] for term in got["terms"]]  # nothing was replaced


async def test_stats_show_queues_reasons_languages_and_overrides(
    api: TestClient, worker: Worker
) -> None:
    insult = await held(api, worker)
    await held(api, worker, body="هذا المقال مفيد جدا وشكرا للكاتب على هذا العمل")
    await held(api, worker, body="Bravo pour cet article.")
    await post_decision(api, insult, action="approve", from_status="held")
    stats = await (await api.get("/v1/moderation/stats", headers=AMINA)).json()
    assert stats["queues"]["held"] == 1
    assert stats["queues"]["published"] == 2
    assert stats["queues"]["pending"] == 0
    assert stats["oldest_held_age_s"] >= 0
    assert stats["decisions_by_reason"]["toxicity.insult"] == 1
    assert stats["decisions_by_reason"]["language.not_covered"] == 1
    assert stats["decisions_by_language"]["fr"] >= 1
    assert stats["overrides"] == {"held->published": 1}


async def test_rejecting_as_spam_teaches_the_spam_model(api: TestClient, worker: Worker) -> None:
    spam_text = "Crypto bonus casino gagnez gratuit offre exclusive bitcoin promo {}"
    ham_text = "Le match de hier soir était magnifique, bravo aux joueurs {}"
    for i in range(6):
        spam_id = await held(api, worker, body="idiot " + spam_text.format(i))
        await post_decision(api, spam_id, action="reject", from_status="held", spam=True)
        ham_id = await held(api, worker, body="idiot " + ham_text.format(i))
        await post_decision(api, ham_id, action="approve", from_status="held")
    await worker.drain()  # the worker learns before its next batch
    next_spam = await held(api, worker, body=spam_text.format("encore"))
    detail = await (await api.get(f"/v1/moderation/comments/{next_spam}", headers=AMINA)).json()
    signals = detail["decision"]["scores"]["spam"]["signals"]
    assert any(s.startswith("bayes:") for s in signals), signals
    next_ham = await held(api, worker, body=ham_text.format("encore"))
    ham_detail = await (await api.get(f"/v1/moderation/comments/{next_ham}", headers=AMINA)).json()
    assert not any(
        s.startswith("bayes:") for s in ham_detail["decision"]["scores"]["spam"]["signals"]
    )


async def test_actions_are_logged_with_the_moderator_and_no_token(
    api: TestClient, worker: Worker
) -> None:
    comment_id = await held(api, worker)
    stream = io.StringIO()
    logs.configure(service="moderator-api", fmt="json", stream=stream, cache=False)
    try:
        await post_decision(api, comment_id, action="approve", from_status="held")
    finally:
        logs.configure(service="tests", fmt="console", cache=False)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    summary = next(r for r in records if r["event"] == "http_request")
    assert summary["moderator"] == "amina"
    assert summary["comment_id"] == comment_id
    assert "amina-token-0123456789" not in stream.getvalue()


async def test_a_moderators_approval_reaches_the_sites_webhook_signed(
    aiohttp_client,
    mod_settings: Settings,
    redis: aioredis.Redis,  # type: ignore[no-untyped-def]
) -> None:
    from aiohttp import web

    from moderator.local.redis_server import free_port
    from moderator.webhooks.signing import verify

    received: list[dict[str, Any]] = []
    arrived = asyncio.Event()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        assert verify(
            "site-secret",
            request.headers["X-Moderator-Timestamp"],
            request.headers["X-Moderator-Signature"],
            body,
        )
        received.append(json.loads(body))
        arrived.set()
        return web.Response(status=204)

    site_app = web.Application()
    site_app.router.add_post("/hook", receive)
    runner = web.AppRunner(site_app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        settings = replace(
            mod_settings, webhook_url=f"http://127.0.0.1:{port}/hook", webhook_secret="site-secret"
        )
        api = await aiohttp_client(create_app(settings))
        worker = Worker(redis, settings, toxicity=FakeToxicity(), name="w")
        await worker.setup()
        comment_id = await held(api, worker)
        await asyncio.wait_for(arrived.wait(), timeout=10)  # comment.held
        arrived.clear()
        await post_decision(api, comment_id, action="approve", from_status="held")
        while not any(e["type"] == "comment.published" for e in received):
            await asyncio.wait_for(arrived.wait(), timeout=10)
            arrived.clear()
    finally:
        await runner.cleanup()
    published = next(e for e in received if e["type"] == "comment.published")
    assert published["comment"]["id"] == comment_id
    assert published["comment"]["body"] == "You are an idiot."
    assert "email" not in json.dumps(received)
