"""Accuracy of `workers.language.detect` on the labelled comments of tests/data/languages.tsv.

A comment counts as right when both its code and its script are. Every class must reach
`FLOOR`; `pytest -s` or `python -m tests.test_language_accuracy` prints the report.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from workers.language import CODES, DARIJA, SCRIPTS, Language, detect

DATA = Path(__file__).parent / "data" / "languages.tsv"
COLUMNS = ("text", "code", "script", "source")
FLOOR = 0.90
MAIN_CLASSES = ("fr", "en", "ar", "ary-arabic", "ary-latin", "mixed")
MIN_PER_MAIN_CLASS = 40
CLASS_ORDER = (*MAIN_CLASSES, "ary-mixed", "es", "und")
WRONG_SCRIPT = "script"  # confusion column: right class, wrong script

_ESCAPE_RE = re.compile(r"\\([nt\\])")
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\"}


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    expected: Language
    source: str
    line: int


@dataclass(slots=True)
class Report:
    total: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    confusion: dict[str, Counter[str]] = field(default_factory=dict)
    misses: list[tuple[Example, Language]] = field(default_factory=list)

    def accuracy(self, name: str) -> float:
        return self.right[name] / self.total[name]


def load(path: Path = DATA) -> list[Example]:
    """The labelled comments: `#` lines are comments, the first other line the header;
    `\\n`, `\\t` and `\\\\` in the text stand for a line break, a tab and a backslash."""
    examples: list[Example] = []
    header_seen = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if not header_seen:
            assert tuple(cells) == COLUMNS, f"line {number}: header {cells}"
            header_seen = True
            continue
        assert len(cells) == len(COLUMNS), f"line {number}: {len(cells)} columns"
        text, code, script, source = cells
        assert code in CODES and script in SCRIPTS, f"line {number}: {code}/{script}"
        assert text.strip() and source.strip(), f"line {number}: empty text or source"
        text = _ESCAPE_RE.sub(lambda match: _ESCAPES[match[1]], text)
        examples.append(Example(text, Language(code, script), source, number))
    return examples


def class_of(language: Language) -> str:
    """The class a label is reported in: its code, with Darija split by script."""
    if language.code == DARIJA:
        return f"{DARIJA}-{language.script}"
    return language.code


def measure(examples: list[Example]) -> Report:
    report = Report()
    for example in examples:
        expected = class_of(example.expected)
        got = detect(example.text)
        report.total[expected] += 1
        column = class_of(got)
        if got == example.expected:
            report.right[expected] += 1
        else:
            report.misses.append((example, got))
            if column == expected:
                column = WRONG_SCRIPT
        report.confusion.setdefault(expected, Counter())[column] += 1
    return report


def _ordered(names: set[str]) -> list[str]:
    known = [name for name in CLASS_ORDER if name in names]
    return known + sorted(names - set(CLASS_ORDER))


def format_report(report: Report, path: Path = DATA) -> str:
    rows = _ordered(set(report.total))
    lines = [f"Language detection on {path.name} (code and script both right)", ""]
    lines.append(f"{'class':<12}{'right':>7}{'total':>7}{'accuracy':>10}")
    for name in rows:
        right, total = report.right[name], report.total[name]
        lines.append(f"{name:<12}{right:>7}{total:>7}{report.accuracy(name):>10.1%}")
    overall = sum(report.right.values()) / sum(report.total.values())
    lines.append(f"{'all':<12}{sum(report.right.values()):>7}{report.total.total():>7}")
    lines[-1] += f"{overall:>10.1%}"
    columns = _ordered({column for counts in report.confusion.values() for column in counts})
    if WRONG_SCRIPT in columns:
        columns = [*(c for c in columns if c != WRONG_SCRIPT), WRONG_SCRIPT]
    width = max(map(len, columns)) + 2
    lines += ["", "Confusion (rows: expected class, columns: detected class)"]
    lines.append(f"{'':<12}" + "".join(f"{column:>{width}}" for column in columns))
    for name in rows:
        counts = report.confusion[name]
        cells = "".join(f"{counts[column] or '.':>{width}}" for column in columns)
        lines.append(f"{name:<12}{cells}")
    if report.misses:
        lines += ["", "Misses (line: expected -> detected: text)"]
        for example, got in report.misses:
            expected = f"{example.expected.code}/{example.expected.script}"
            lines.append(f"{example.line}: {expected} -> {got.code}/{got.script}: {example.text}")
    return "\n".join(lines)


def test_the_set_has_enough_comments_of_each_main_class() -> None:
    counts = Counter(class_of(example.expected) for example in load())
    assert {name: counts[name] for name in MAIN_CLASSES} == {
        name: max(counts[name], MIN_PER_MAIN_CLASS) for name in MAIN_CLASSES
    }


def test_every_class_reaches_the_accuracy_floor() -> None:
    """A floor on fixed data: every class at least `FLOOR` right (report with `pytest -s`)."""
    report = measure(load())
    print("\n" + format_report(report))
    below = {name: report.accuracy(name) for name in report.total}
    assert {name: acc for name, acc in below.items() if acc < FLOOR} == {}


if __name__ == "__main__":
    print(format_report(measure(load())))
