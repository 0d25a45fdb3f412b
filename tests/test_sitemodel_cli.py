"""`moderator site-model status|replay` against the test's Redis, as an operator runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from moderator.settings import Settings
from tests.helpers import env_for

ROWS = [
    {"body": "hadchi zwin bzaf, tbarkellah 3likom", "label": "ham", "lang": "ary-Latn"},
    {"body": "هاد المقال مزيان بزاف، شكرا", "label": "ham", "lang": "ary-Arab"},
    {"body": "nta wahed l7mar", "label": "toxic", "lang": "ary-Latn"},
    {"body": "rba7 flous mn dar, WhatsApp 0612345678", "label": "spam", "lang": "ary-Latn"},
]


def _run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    # Intake's per-article limit below the set's size: a replay is not readers posting,
    # every comment is decided (it once stopped at the limit, silently).
    return subprocess.run(
        [sys.executable, "-m", "moderator", "site-model", *args],
        env=env_for(settings, MODERATOR_SITE_MODEL_SEED="false", MODERATOR_RATE_LIMIT_ARTICLE="2"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_replay_teaches_it_and_status_shows_it(settings: Settings, tmp_path: Path) -> None:
    labelled = tmp_path / "decisions.jsonl"
    labelled.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in ROWS))
    replayed = _run(settings, "replay", "--set", str(labelled))
    assert replayed.returncode == 0, replayed.stderr
    assert "replayed 4 decisions" in replayed.stdout
    header = "language  examples  decisions  rescored  would publish  approved  precision"
    assert header in replayed.stdout

    status = _run(settings, "status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["mode"] == "publish"
    assert report["examples"] == {"ham": 2, "spam": 1, "toxic": 1}
    ary = next(row for row in report["languages"] if row["language"] == "ary")
    assert ary["decisions"] == 4
    assert ary["rescored"] == 4  # each scored again with what it learned since
    assert ary["examples"] == 4  # learned in the language they were detected in
    assert ary["publishes"] is False  # 4 decisions prove nothing
    assert ary["decides_publication"] is True
    french = next(row for row in report["languages"] if row["language"] == "fr")
    assert french["decides_publication"] is False  # detoxify's: it only holds what it finds toxic
    assert report["needs"] == {
        "examples": 50,
        "decisions": 200,
        "would_publish": 100,
        "precision": 0.99,
        "clean_evidence": -3.5,
    }
