"""The fairness report and the decision export, from real decisions."""

from __future__ import annotations

import csv
import io
import json

from aiohttp.test_utils import TestClient

from moderator.operations.report import LanguageRow, _flag, two_proportion_p
from tests.helpers import AMINA, VALID, post_decision
from workers.consumer import Worker

ARABIC = "هذا المقال مفيد جدا وشكرا للكاتب على هذا العمل رقم {}"
FRENCH = "Très bon article sur la réforme, merci beaucoup numéro {}."


async def _decided_mix(api: TestClient, worker: Worker) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {"ar": [], "fr": []}
    for i in range(12):
        await api.post("/v1/comments", json={**VALID, "body": ARABIC.format(i)})
        await api.post("/v1/comments", json={**VALID, "body": FRENCH.format(i)})
    await worker.drain()
    held_page = await (await api.get("/v1/moderation/queue?limit=100", headers=AMINA)).json()
    published = await (
        await api.get("/v1/moderation/queue?state=published&limit=100", headers=AMINA)
    ).json()
    ids["ar"] = [i["id"] for i in held_page["items"]]
    ids["fr"] = [i["id"] for i in published["items"]]
    return ids


async def test_fairness_report_by_language_with_overrides_and_flags(
    api: TestClient, worker: Worker
) -> None:
    ids = await _decided_mix(api, worker)
    assert len(ids["ar"]) == 12 and len(ids["fr"]) == 12
    for comment_id in ids["ar"][:9]:  # moderators approve most held Arabic comments
        await post_decision(api, comment_id, action="approve", from_status="held")
    await post_decision(api, ids["fr"][0], action="takedown", from_status="published")
    report = await (await api.get("/v1/moderation/report", headers=AMINA)).json()
    rows = {row["language"]: row for row in report["languages"]}
    arabic, french = rows["ar"], rows["fr"]
    assert (arabic["seen"], arabic["held"], arabic["published"]) == (12, 12, 0)
    assert arabic["script"] == "arabic"
    assert arabic["reasons"] == {"language.not_covered": 12}
    assert arabic["approved_after_hold"] == 9
    assert arabic["false_positive_rate"] == 0.75
    assert arabic["held_wait_median_s"] is not None
    assert arabic["flags"] == french["flags"] == []  # 12 comments each: too few to judge
    assert report["rules"]["test"].startswith("two-proportion z-test")
    assert (french["seen"], french["published"], french["taken_down_after_publish"]) == (12, 12, 1)
    assert round(french["false_negative_rate"], 3) == round(1 / 12, 3)

    as_csv = await api.get("/v1/moderation/report?format=csv", headers=AMINA)
    assert as_csv.content_type == "text/csv"
    table = list(csv.DictReader(io.StringIO(await as_csv.text())))
    assert {row["language"] for row in table} == {"ar", "fr"}
    bad = await api.get("/v1/moderation/report?since=yesterday", headers=AMINA)
    assert bad.status == 400


async def test_decision_export_is_json_lines_without_personal_data(
    api: TestClient, worker: Worker
) -> None:
    ids = await _decided_mix(api, worker)
    await post_decision(api, ids["ar"][0], action="approve", from_status="held")
    response = await api.get("/v1/moderation/export", headers=AMINA)
    assert response.content_type == "application/x-ndjson"
    text = await response.text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 25  # 24 automatic decisions and one moderator's
    assert {"comment_id", "article_id", "decision", "by", "at", "reasons"} <= set(lines[0])
    assert any(line["by"] == "moderator:amina" for line in lines)
    assert "amina@example.ma" not in text
    assert "مفيد" not in text  # no comment text either
    assert (await api.get("/v1/moderation/export")).status == 401


def _row(language: str, seen: int, held: int, approved: int = 0) -> LanguageRow:
    return LanguageRow(
        language, "x", seen=seen, held=held, published=seen - held, approved_after_hold=approved
    )


def test_each_language_is_compared_with_all_the_others_together() -> None:
    """Arabic's many holds used to pull the others' median up, flagging French for
    holding too little; only a language held (or overturned) more than the rest is."""
    arabic, french, english = _row("ar", 900, 700, 400), _row("fr", 800, 40), _row("en", 300, 20)
    _flag([arabic, french, english])
    assert arabic.flags == [
        "hold_rate 0.78 vs 0.05 for the others",
        "false_positive_rate 0.57 vs 0.00 for the others",
    ]
    assert french.flags == english.flags == []


def test_a_difference_chance_explains_or_too_small_is_not_flagged() -> None:
    few = [_row("ar", 40, 12), _row("fr", 40, 6)]  # 30% vs 15%: p ≈ 0.1
    _flag(few)
    assert all(not row.flags for row in few)
    small = [_row("ar", 20_000, 2_100), _row("fr", 20_000, 1_500)]  # 10.5% vs 7.5%: tiny p
    _flag(small)
    assert all(not row.flags for row in small)  # under MIN_DIFFERENCE
    assert two_proportion_p(2_100, 20_000, 1_500, 20_000) < 1e-20
    assert two_proportion_p(0, 50, 0, 50) == 1.0
