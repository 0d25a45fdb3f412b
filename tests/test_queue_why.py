"""The held queue sorted by why: reason families and the site model's rank, with counts."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.helpers import AMINA, submit
from workers.consumer import Worker

ARABIC = "هذا المقال مفيد جدا، شكرا على هذا العمل الجيد."
INSULT = "Tu es un idiot, franchement."
SPAM = "Gagnez 5000 DH par semaine, écrivez sur WhatsApp au 0612345678 https://bit.ly/x"


async def _held(api: TestClient, worker: Worker) -> dict[str, str]:
    ids = {
        "arabic": await submit(api, body=ARABIC),
        "insult": await submit(api, body=INSULT),
        "spam": await submit(api, body=SPAM),
        "fine": await submit(api, body="Très bon article, merci."),
    }
    await worker.drain()
    return ids


async def _ids(api: TestClient, query: str) -> set[str]:
    response = await api.get(f"/v1/moderation/queue?{query}", headers=AMINA)
    assert response.status == 200, await response.text()
    return {item["id"] for item in (await response.json())["items"]}


async def test_the_queue_filters_by_reason_family(api: TestClient, worker: Worker) -> None:
    ids = await _held(api, worker)
    assert await _ids(api, "family=language") == {ids["arabic"]}
    assert await _ids(api, "family=toxicity") == {ids["insult"]}
    assert await _ids(api, "family=words") == {ids["insult"]}  # "idiot" is a suspect word
    assert await _ids(api, "family=spam") == {ids["spam"]}
    assert await _ids(api, "family=check_failed") == set()


async def test_the_summary_counts_each_family_and_rank(api: TestClient, worker: Worker) -> None:
    ids = await _held(api, worker)
    response = await api.get("/v1/moderation/queue/summary", headers=AMINA)
    assert response.status == 200
    summary = await response.json()
    assert summary["total"] == 3 and summary["complete"] is True
    assert summary["families"] == {
        "language": 1,
        "words": 1,
        "spam": 1,
        "toxicity": 1,
        "site_model": 0,
        "check_failed": 0,
    }
    # Every held comment the site model scored has a rank, and the rank filter agrees.
    ranks = summary["ranks"]
    assert sum(ranks.values()) == 3
    for rank, count in ranks.items():
        assert len(await _ids(api, f"rank={rank}")) == count
    only_arabic = await (
        await api.get("/v1/moderation/queue/summary?family=language", headers=AMINA)
    ).json()
    assert only_arabic["total"] == 1
    assert ids["fine"] not in await _ids(api, "")  # published, not held


async def test_an_unknown_family_or_rank_is_a_400_naming_the_field(api: TestClient) -> None:
    for query, field in (("family=colour", "family"), ("rank=maybe", "rank")):
        for path in ("/v1/moderation/queue", "/v1/moderation/queue/summary"):
            response = await api.get(f"{path}?{query}", headers=AMINA)
            assert response.status == 400
            problem = await response.json()
            assert [error["field"] for error in problem["errors"]] == [field]
