"""`moderator eval`: the worker's decision path over a labelled set, as an operator runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import redis.asyncio as aioredis

from moderator.settings import Settings
from tests.helpers import clean_env
from workers.evalreport import Outcome, Report
from workers.evaluate import folds
from workers.labelled import Labelled, Replayer, load, worker_for

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


def _eval(
    tmp_path: Path,
    *args: str,
    rows: list[dict[str, str]] = ROWS,
    env: dict[str, str] | None = None,
) -> tuple[int, str, str]:
    labelled = tmp_path / "set.jsonl"
    labelled.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    done = subprocess.run(
        [sys.executable, "-m", "moderator", "eval", "--set", str(labelled), *args],
        env={**clean_env(), "MODERATOR_SITE_MODEL_SEED": "false", **(env or {})},
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


def test_a_warmed_report_says_how_much_of_what_the_site_model_published_was_ham() -> None:
    """Where the site model decides (Arabic, Darija, mixed), what was published and the
    share of it that was ham: the precision its windows must show, on unseen comments."""

    def outcome(lang: str, label: str, decision: str) -> Outcome:
        return Outcome(Labelled("…", label, lang), decision, (), None, lang)

    outcomes = [
        *(outcome("ar", "ham", "published") for _ in range(3)),
        outcome("mixed", "toxic", "published"),
        outcome("ary-Latn", "spam", "held"),
        outcome("fr", "toxic", "published"),  # a toxicity model's call, not the site model's
    ]
    warmed = Report(outcomes, warmed=True, replayed=10, seconds=1.0)
    assert warmed.site_model_published() == {"published": 4, "ham": 3, "precision": 0.75}
    assert "published here in Arabic, Darija and mixed: 4, of them ham 3 (precision 0.75)" in (
        warmed.text()
    )
    assert warmed.to_dict()["site_model_published"]["precision"] == 0.75
    fresh = Report(outcomes[4:5], warmed=False, replayed=0, seconds=1.0)
    assert fresh.site_model_published()["precision"] is None
    assert "published here" not in fresh.text()


async def test_rows_without_an_email_are_readers_of_their_own(
    redis: aioredis.Redis, settings: Settings, tmp_path: Path
) -> None:
    """A site's export without e-mails is not one reader posting every comment within
    minutes: no burst signal fires (beside which the site model never publishes), as it
    does when the rows do give one address."""
    labelled = tmp_path / "set.jsonl"
    bodies = [f"Très bon article, merci pour le numéro {n}." for n in range(8)]
    labelled.write_text("".join(json.dumps({"body": b, "label": "ham"}) + "\n" for b in bodies))
    rows = load(labelled)
    assert rows[0].comment("a").email == load(labelled)[0].comment("b").email  # every run
    settings = replace(settings, site_model_seed=False)
    worker = worker_for(redis, settings, "eval")
    replayer = Replayer(redis, settings, worker)
    await worker.setup()
    try:
        apart = await replayer.decisions(await replayer.submit(rows))
        one = [replace(row, body=row.body + " Bis.", email="un@example.com") for row in rows]
        together = await replayer.decisions(await replayer.submit(one))
    finally:
        await replayer.close()
    assert [record["scores"]["spam"]["signals"] for record in apart] == [[]] * len(rows)
    assert any(
        signal.startswith("burst_email")
        for record in together
        for signal in record["scores"]["spam"]["signals"]
    )


def test_a_bad_line_is_named_and_exits_2(tmp_path: Path) -> None:
    code, _, err = _eval(tmp_path, rows=[{"body": "x", "label": "maybe"}])
    assert code == 2
    assert "set.jsonl:1" in err


def test_a_set_is_read_as_intake_and_bcp_47_would_read_it(tmp_path: Path) -> None:
    """Another team's export: a byte-order mark, Windows line ends, language tags in
    another case, a tag given alone, a body with doubled spaces. The worker reads what
    intake would have stored, and the report groups by the tag as BCP 47 writes it."""
    labelled = tmp_path / "set.jsonl"
    rows = [
        {"body": "S a l a m  a  k h o y a", "label": "ham", "lang": "ARY_latn"},
        {"body": "مقال جيد", "label": "ham", "lang": "ar-ma", "tags": "identity_mention"},
        {"body": "Bravo\u2028les Lions\x85", "label": "ham", "lang": "MIXED"},
    ]
    text = "\r\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    labelled.write_text("\ufeff" + text + "\r\n", encoding="utf-8")
    read = load(labelled)
    assert [row.lang for row in read] == ["ary-Latn", "ar-MA", "mixed"]
    assert read[0].body == "S a l a m a k h o y a"  # as intake stores it
    assert read[1].tags == ("identity_mention",)
    assert len(read) == 3  # a line separator inside a string does not end its line


def test_a_row_intake_would_refuse_is_named(tmp_path: Path) -> None:
    code, _, err = _eval(tmp_path, rows=[*ROWS, {"body": " \u200b ", "label": "ham"}])
    assert code == 2
    assert f"set.jsonl:{len(ROWS) + 1}: intake would refuse it: body: blank" in err


def test_a_set_without_arabic_or_darija_ham_is_not_judged_on_it() -> None:
    def outcome(lang: str, label: str, decision: str) -> Outcome:
        return Outcome(Labelled("…", label, lang), decision, (), None, lang)

    french = [outcome("fr", "ham", "published"), outcome("fr", "toxic", "held")]
    for warmed in (False, True):
        names = [
            target.name for target in Report(french, warmed=warmed, replayed=0, seconds=1).targets
        ]
        assert not any("Arabic" in name for name in names)
        assert any("toxic" in name for name in names)
    moroccan = [outcome("ar-MA", "ham", "published"), outcome("ary-Arab-MA", "ham", "held")]
    report = Report(moroccan, warmed=True, replayed=0, seconds=1)
    published = {t.name: t.value for t in report.targets}["Arabic and Darija ham published"]
    assert published == 0.5
    assert report.site_model_published()["published"] == 1


def test_a_share_says_how_many_of_how_many_and_how_sure_it_is() -> None:
    """One English ham comment of 45 held as spam is 2.2%, over a 2% target: the report
    says it is one comment, and that on 45 the share could be anywhere from 0.4% to 11.6%
    (Wilson, 95%)."""

    def outcome(decision: str, reasons: tuple[str, ...]) -> Outcome:
        return Outcome(Labelled("…", "ham", "en"), decision, reasons, None, "en")

    held = outcome("held", ("spam.likely",))
    report = Report([held, *(outcome("published", ()) for _ in range(44))], False, 0, 1.0)
    target = next(t for t in report.targets if t.name == "ham held as spam [en]")
    assert (target.count, target.n) == (1, 45)
    assert target.interval is not None
    assert [round(x, 4) for x in target.interval] == [0.0039, 0.1157]
    assert "MISS ham held as spam [en]: 0.022 (≤ 0.02): 1 of 45 (95% interval 0.004–0.116)" in (
        report.text()
    )
    assert report.to_dict()["targets"]["ham held as spam [en]"]["interval"] == [0.0039, 0.1157]
    rejected = next(t for t in report.targets if t.name == "ham rejected")
    assert rejected.interval is None and "ham rejected: 0.000 (≤ 0)\n" in report.text()


DARIJA_HAM = [
    "hadchi zwin bzaf, tbarkellah 3likom 3la had lkhedma",
    "lmaqal mzyan, choukran 3la lma3loumat",
    "lah ykhlik a khoya, hadchi li khassna",
    "tbarkellah 3la lmontakhab, rb7na lmatch",
    "had tramway dyal casa mzyan bzaf daba",
    "choukran l sahafa li katktb 3la lbled",
    "lmghrib zwin, lah yhfdo",
    "3ajbni had lmaqal, kayna chi ma3loumat jdad",
    "bravo 3la had lmobadara, khassna bzaf bhalha",
    "lah yrhm lwalidin, maqal zwin",
]
DARIJA_TOXIC = ["nta wahed l7mar", "sir t9awed a zamel", "ya lkelb, 7chouma 3lik"]
DARIJA_SPAM = [
    "rba7 flous mn dar, sift lina message f lkhas",
    "kridi bla dossier w bla kafil, twasel m3ana",
    "bghiti tkhdem mn dar? 500 dh f nhar, dkhol l groupe",
]
DAYS = ("lyoum", "lbareh", "ghedda", "sbah", "l3chiya", "llil", "ljem3a")


def test_eval_gives_the_same_decisions_every_run(tmp_path: Path) -> None:
    """The site model's audit samples are drawn from a seeded generator in eval, so a
    set's figures do not move from run to run (here half of what it publishes is drawn)."""
    labelled = [
        *((body, "ham") for body in DARIJA_HAM),
        *((body, "toxic") for body in DARIJA_TOXIC),
        *((body, "spam") for body in DARIJA_SPAM),
    ]
    # Each from its own reader and worded apart: a repeat or a burst is a spam signal.
    rows = [
        {"body": f"{body} ({day})", "label": label, "lang": "ary-Latn", "email": f"r{n}@x.ma"}
        for n, (day, (body, label)) in enumerate((day, row) for day in DAYS for row in labelled)
    ]
    replay = tmp_path / "replay.jsonl"
    replay.write_text("".join(json.dumps(row) + "\n" for row in rows[: -len(labelled)]))
    env = {
        "MODERATOR_SITE_MODEL_MIN_EXAMPLES": "5",
        "MODERATOR_SITE_MODEL_MIN_DECISIONS": "10",
        "MODERATOR_SITE_MODEL_MIN_WOULD_PUBLISH": "5",
        "MODERATOR_SITE_MODEL_PRECISION": "0.5",
        "MODERATOR_SITE_MODEL_AUDIT_SHARE": "0.5",
    }
    last_day = [row for row in rows[-len(labelled) :] if row["label"] == "ham"]
    reports = []
    for run in range(2):
        out_json = tmp_path / f"report{run}.json"
        code, out, err = _eval(
            tmp_path, "--replay", str(replay), "--json", str(out_json), rows=last_day, env=env
        )
        assert code == 0, err
        reports.append(json.loads(out_json.read_text()))
    (ham,) = reports[0]["table"]
    assert ham["published"] and ham["held"]  # published, and some drawn for the audit
    # The confidence it publishes at is printed and in the report.
    (ary,) = [s for s in reports[0]["site_model"] if s["language"] == "ary"]
    assert ary["publish_below"] is not None
    assert f"publishes below evidence {ary['publish_below']}" in out
    assert reports[0]["table"] == reports[1]["table"]


def test_the_train_split_is_in_an_order_a_site_decides_in() -> None:
    """Replayed in file order, the site model's precision is measured on each decision
    before it learns it: the train split interleaves languages and labels (a file grouped
    by label would show it a language's toxic comments only after all its ham), and the
    shipped seed is the same comments in the same order."""
    root = Path(__file__).resolve().parent.parent
    train, seed = (
        [json.loads(line) for line in (root / name).read_text(encoding="utf-8").splitlines()]
        for name in ("tests/data/comments/train.jsonl", "workers/data/seed_comments.jsonl")
    )
    assert [(r["body"], r["label"], r["lang"]) for r in train] == [
        (r["body"], r["label"], r["lang"]) for r in seed
    ]
    first = train[:100]
    assert {r["label"] for r in first} == {"ham", "spam", "toxic"}
    assert len({r["lang"] for r in first}) == 6


def test_folds_measure_a_set_on_itself_without_learning_what_they_judge(
    tmp_path: Path,
) -> None:
    """`--folds K`: each comment decided by a site model taught the other folds only
    (seeded, or replayed as decisions with `--warmed`), the tables pooled."""
    rows = [*ROWS, *({**row, "body": row["body"] + " (bis)"} for row in ROWS)]
    for extra in ((), ("--warmed",)):
        out_json = tmp_path / "folds.json"
        code, _, err = _eval(tmp_path, "--folds", "2", *extra, "--json", str(out_json), rows=rows)
        assert code == 0, err
        report = json.loads(out_json.read_text())
        assert sum(row["n"] for row in report["table"]) == len(rows)
        assert report["warmed"] is bool(extra)
        assert ("Arabic and Darija ham published" in report["targets"]) is bool(extra)

    # The cut is by each body's sha256 within its language and label: the same every run.
    labelled = tmp_path / "set.jsonl"
    cut = folds(load(labelled), 2)
    assert cut == folds(load(labelled), 2) and set(cut) == {0, 1}


def test_folds_are_checked_and_go_alone(tmp_path: Path) -> None:
    for args in (("--folds", "1"), ("--warmed",), ("--folds", "3", "--replay", "x.jsonl")):
        code, _, err = _eval(tmp_path, *args)
        assert code == 2, args
        assert "--folds" in err or "--warmed" in err
