"""`moderator bench checks`: what the worker's text checks cost per comment, as an operator
runs it (timings are printed, never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import clean_env

ROWS = [
    {"body": "Bravo à l'équipe nationale, quel match magnifique !", "label": "ham"},
    {"body": "هاد الطوبيس ديما معطل، خاصهم يصلحوه", "label": "ham"},
    {"body": "Gagnez 5000 dh ! WhatsApp 06 12 34 56 78 bit.ly/promo", "label": "spam"},
    {"body": "Il m'a traité de « connard » devant tout le monde.", "label": "ham"},
    {"body": "Espèce de connard, tu mérites rien.", "label": "toxic"},
]
STAGES = [
    "language",
    "word lists",
    "spam signals",
    "site model features",
    "site model verdicts (Redis)",
    "spam score (Redis)",
]


def _bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moderator", "bench", "checks", *args],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )


def test_it_times_each_check_of_the_worker_on_a_labelled_set(tmp_path: Path) -> None:
    labelled = tmp_path / "set.jsonl"
    labelled.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in ROWS))
    out_json = tmp_path / "checks.json"
    done = _bench(tmp_path, "--set", str(labelled), "--repeat", "2", "--json", str(out_json))
    assert done.returncode == 0, done.stderr
    assert "5 comments" in done.stdout and "fastest of 2" in done.stdout
    assert "all text checks" in done.stdout
    report = json.loads(out_json.read_text())
    assert [stage["stage"] for stage in report["stages"]] == STAGES
    assert all(stage["wall_ms"] >= 0 and stage["cpu_ms"] >= 0 for stage in report["stages"])
    assert report["total_wall_ms"] == sum(stage["wall_ms"] for stage in report["stages"])
    assert report["comments"] == len(ROWS) and report["batch"] == 16


def test_its_arguments_are_checked(tmp_path: Path) -> None:
    repeat = _bench(tmp_path, "--repeat", "0")
    assert repeat.returncode == 2 and "--repeat takes 1 to 20" in repeat.stderr
    missing = _bench(tmp_path, "--set", str(tmp_path / "nowhere.jsonl"))
    assert missing.returncode != 0 and "nowhere.jsonl" in missing.stderr
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    nothing = _bench(tmp_path, "--set", str(empty))
    assert nothing.returncode != 0 and "no comments" in nothing.stderr
