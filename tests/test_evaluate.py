"""`moderator eval`: the worker's decision path over a labelled set, as an operator runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import clean_env

ROWS = [
    {"body": "Bravo à l'équipe nationale, quel match magnifique !", "label": "ham", "lang": "fr"},
    {"body": "Très bon article sur le tramway de Casablanca.", "label": "ham", "lang": "fr"},
    {"body": "هاد الطوبيس ديما معطل، خاصهم يصلحوه", "label": "ham", "lang": "ary-Arab"},
    {
        "body": "Gagnez 5000 dh par semaine ! WhatsApp 06 12 34 56 78 bit.ly/promo-xyz",
        "label": "spam",
        "lang": "fr",
    },
    {"body": "Espèce de connard, tu mérites rien.", "label": "toxic", "lang": "fr"},
]


def _eval(tmp_path: Path, *args: str, rows: list[dict[str, str]] = ROWS) -> tuple[int, str, str]:
    labelled = tmp_path / "set.jsonl"
    labelled.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    done = subprocess.run(
        [sys.executable, "-m", "moderator", "eval", "--set", str(labelled), *args],
        env={**clean_env(), "MODERATOR_SITE_MODEL_SEED": "false"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def test_eval_prints_decisions_per_language_and_label(tmp_path: Path) -> None:
    out_json = tmp_path / "report.json"
    code, out, err = _eval(tmp_path, "--json", str(out_json))
    assert code == 0, err
    assert "lang       label     n  publ  held  fine  susp  rej" in out
    assert "Targets:" in out and "Wrong decisions" in out
    report = json.loads(out_json.read_text())
    table = {(row["lang"], row["label"]): row for row in report["table"]}
    assert table[("fr", "ham")]["published"] == 2
    assert table[("fr", "spam")]["published"] == 0
    assert table[("fr", "toxic")]["rejected"] == 1  # a banned word
    assert table[("ary-Arab", "ham")]["held"] == 1  # no model reads Darija yet
    assert sum(row["n"] for row in report["table"]) == len(ROWS)
    assert report["targets"]["ham rejected"]["passed"]


def test_a_bad_line_is_named_and_exits_2(tmp_path: Path) -> None:
    code, _, err = _eval(tmp_path, rows=[{"body": "x", "label": "maybe"}])
    assert code == 2
    assert "set.jsonl:1" in err
