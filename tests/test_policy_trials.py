"""Try a policy from the page: the service queues it, a worker replays the last
decisions under it and stores the report; a promotion makes it the policy in force."""

from __future__ import annotations

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from moderator.keys import Keys
from tests.helpers import AMINA, submit
from workers.consumer import Worker

# A phone number and WhatsApp: spam 0.51, held at 0.50.
NUMBER = "Pour les détails du dossier, je suis sur WhatsApp au 0612345678, merci."


async def _trial(api: TestClient, trial_id: str) -> dict[str, object]:
    response = await api.get(f"/v1/moderation/policy/trials/{trial_id}", headers=AMINA)
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def test_a_trial_replays_the_last_decisions_and_a_promotion_puts_it_in_force(
    api: TestClient, worker: Worker, redis: aioredis.Redis, keys: Keys
) -> None:
    for i in range(3):
        await submit(api, body=f"{NUMBER} ({i})", email=f"r{i}@example.ma")
    await submit(api, body="Très bon article, merci.")
    await worker.drain()
    # Held as likely spam at 0.50: at 0.60 they would be published.
    asked = await api.post(
        "/v1/moderation/policy/trials",
        headers=AMINA,
        json={"spam_hold": 0.6, "spam_reject": 0.99, "last": 50},
    )
    assert asked.status == 202
    trial_id = (await asked.json())["id"]
    assert asked.headers["Location"] == f"/v1/moderation/policy/trials/{trial_id}"
    assert (await _trial(api, trial_id))["status"] == "pending"
    await worker.step(block_ms=0)  # a worker runs it before its next batch
    trial = await _trial(api, trial_id)
    assert trial["status"] == "done" and trial["by"] == "amina"
    report = trial["report"]
    assert isinstance(report, dict)
    assert report["evaluated"] == 4 and report["changed"] == 3
    assert report["transitions"] == {"held->published": 3}
    assert report["languages"]["fr"]["held_candidate"] == 0
    (example, *_) = report["examples"]["held->published"]
    assert "WhatsApp" in example["text"] and "@" not in str(report)

    promoted = await api.post(f"/v1/moderation/policy/trials/{trial_id}/promote", headers=AMINA)
    assert promoted.status == 202
    await worker.step(block_ms=0)
    assert (await _trial(api, trial_id))["status"] == "promoted"
    policy = await (await api.get("/v1/moderation/policy", headers=AMINA)).json()
    assert policy["spam_hold"] == 0.6
    audit = await (await api.get("/v1/moderation/audit?limit=5", headers=AMINA)).json()
    assert audit["items"][0]["action"] == "policy.promote"
    assert audit["items"][0]["by"] == "moderator:amina"
    # The next such comment is published under the promoted policy.
    later = await submit(api, body=f"{NUMBER} (4)", email="r4@example.ma")
    await worker.drain()
    assert await redis.hget(keys.comment(later), "status") == "published"
    # A promoted trial is not promoted twice.
    again = await api.post(f"/v1/moderation/policy/trials/{trial_id}/promote", headers=AMINA)
    assert again.status == 409


async def test_a_bad_candidate_is_a_422_naming_each_field(api: TestClient) -> None:
    response = await api.post(
        "/v1/moderation/policy/trials",
        headers=AMINA,
        json={
            "thresholds": {"insult": 2, "colour": 0.5},
            "spam_hold": "high",
            "language_not_covered": "maybe",
            "last": 0,
            "banned_add": ["x"],
        },
    )
    assert response.status == 422
    fields = sorted(error["field"] for error in (await response.json())["errors"])
    assert fields == [
        "banned_add",
        "language_not_covered",
        "last",
        "spam_hold",
        "thresholds.colour",
        "thresholds.insult",
    ]


async def test_unknown_trials_and_unsigned_calls(api: TestClient) -> None:
    assert (await api.get("/v1/moderation/policy/trials/nope", headers=AMINA)).status == 404
    assert (await api.get("/v1/moderation/policy/trials/a-b", headers=AMINA)).status == 404
    assert (await api.post("/v1/moderation/policy/trials", json={})).status == 401
    assert (await api.get("/v1/moderation/policy")).status == 401


async def test_a_field_name_that_cannot_be_written_back_is_named_body(api: TestClient) -> None:
    """Found by the fuzz suite: a lone surrogate in an unknown key answered 500."""
    raw = b'{"\\ud8b5x": 1, "thresholds": {"\\udc00": 0.5}}'
    response = await api.post(
        "/v1/moderation/policy/trials",
        headers={**AMINA, "Content-Type": "application/json"},
        data=raw,
    )
    assert response.status == 422
    assert [e["field"] for e in (await response.json())["errors"]] == ["body", "body"]
