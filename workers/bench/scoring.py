"""`moderator bench scoring`: the worker's toxicity scoring against detoxify's own `predict()`.

In one process, on the same model directory and the same corpus: detoxify's
`Detoxify.predict(text)`, one comment at a time in fp32 (the baseline), and the
worker's path, `DetoxifyScorer.score` on batches of `--batch-size` comments in the
chosen precision and runtime (torch, or ONNX Runtime on the exported model), loaded
by `load_scorer` as a worker loads it. Printed: comments/s
of each and their ratio, the largest score difference per label, and how many
decisions agree: the policy's toxicity thresholds (`MODERATOR_THRESHOLD_*`) applied to
both paths' scores, the same status and the same reasons.

The corpus is made here, from a seed: comments of 5 to 300 words (log-uniform, so
half are under 40 words) in French, English, Arabic and Darija in both scripts,
common words with a tail of rarer made-up ones. Mixed lengths matter: batching
equal lengths flatters it.

The two paths run round by round, one worker batch at a time (the baseline on those
comments, then the scorer on them), each round `--repeat` times keeping the fastest:
other processes on a shared machine then slow both alike, and a burst of theirs
is dropped. CPU seconds are reported beside wall time.

`--random-weights` builds, offline and in a temporary directory, a full-size model
of the real architecture (XLM-R base for `multilingual`, BERT base for `original`...)
with random weights and a tokenizer trained here on a synthetic corpus with the real
vocabulary size. Its speed is representative; its scores are meaningless, yet the
comparison still holds: both paths score with the same weights.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moderator import logs
from moderator.errors import SettingsError
from moderator.settings import TOXICITY_MODELS, Settings
from workers.errors import ModelUnavailable
from workers.language import Language
from workers.policy import Checks, Policy
from workers.spam.scorer import SpamResult
from workers.toxicity import modeldir
from workers.toxicity.scorer import PRECISIONS, RUNTIMES, DetoxifyScorer, load_detoxify, load_scorer
from workers.wordlists import WordList

WORDS = {
    "fr": """merci pour cet article je ne suis pas d'accord avec l'auteur le gouvernement doit
    agir vite les communes rurales méritent mieux que ça franchement c'est une honte encore une
    fois on nous promet des routes des écoles et des hôpitaux mais rien ne change depuis des
    années bravo au journaliste pour ce travail sérieux la réforme touche surtout les jeunes qui
    cherchent un emploi stable les prix augmentent chaque mois alors que les salaires restent
    bloqués il faudrait investir dans la formation et la santé publique on attend des réponses
    claires du ministre pas des discours""",
    "en": """thank you for this article i completely disagree with the author the government
    should act now rural towns deserve better than this honestly it is a shame once again we
    are promised roads schools and hospitals but nothing changes year after year great reporting
    the reform mostly affects young people looking for a stable job prices keep rising every
    month while wages stay frozen we need investment in training and public health clear answers
    from the minister not speeches people are tired of waiting""",
    "ar": """شكرا على هذا المقال المفيد أنا لا أتفق مع الكاتب يجب على الحكومة أن تتحرك بسرعة
    القرى تستحق أفضل من هذا للأسف مرة أخرى يعدوننا بالطرق والمدارس والمستشفيات لكن لا شيء يتغير
    منذ سنوات تحية للصحفي على هذا العمل الجاد الإصلاح يمس الشباب الذين يبحثون عن عمل مستقر
    الأسعار ترتفع كل شهر بينما الأجور مجمدة نحتاج إلى الاستثمار في التكوين والصحة العمومية""",
    "darija": """chokran 3la had lmaqal zwin bzaf ana ma mtaf9ch m3a lkatib lhokoma khassha
    tkhdem daba lbadiya tstahel ktar mn hadchi walakin walo ma tbdel mn sninat tbarkellah 3la
    sa7afi lkhedma mzyana chbab kaydour 3la khedma l2as3ar tal3in kol chher f souk o lkhlass
    wa9ef bghina ajwiba wad7a machi lhedra""",
    "darija-ar": """شكرا على هاد المقال زوين بزاف أنا ما متافقش مع الكاتب الحكومة خاصها تخدم
    دابا البادية تستاهل كثر من هادشي ولكن والو ما تبدل من سنين تبارك الله على الصحفي الخدمة
    مزيانة الشباب كيقلبو على خدمة الأسعار طالعين كل شهر فالسوق والخلاص واقف بغينا أجوبة واضحة""",
}
SCRIPTS = {"fr": "latin", "en": "latin", "ar": "arabic", "darija": "latin", "darija-ar": "arabic"}
SYLLABLES = {
    "latin": [
        "ba",
        "be",
        "bi",
        "bo",
        "da",
        "di",
        "du",
        "ka",
        "ki",
        "ko",
        "la",
        "le",
        "li",
        "lo",
        "ma",
        "mi",
        "mo",
        "na",
        "ne",
        "no",
        "ou",
        "an",
        "en",
        "on",
        "ra",
        "re",
        "ri",
        "ro",
        "sa",
        "se",
        "si",
        "so",
        "ta",
        "te",
        "ti",
        "to",
        "va",
        "vi",
        "za",
        "zi",
        "ch",
        "tr",
        "pl",
        "gr",
    ],
    "arabic": [
        "با",
        "بي",
        "بو",
        "تا",
        "تي",
        "سا",
        "سي",
        "دا",
        "دي",
        "را",
        "ري",
        "ما",
        "مي",
        "نا",
        "ني",
        "لا",
        "لي",
        "كا",
        "كي",
        "قا",
        "فا",
        "عا",
        "حا",
        "خا",
        "وا",
        "يا",
        "ها",
    ],
}
MIN_WORDS, MAX_WORDS = 5, 300
RARE_WORDS = 0.15  # share of made-up words: names, places, typos
TOKENIZER_CORPUS = 20_000  # comments the random-weights tokenizer is trained on


def corpus(count: int, seed: int) -> list[str]:
    """`count` comments, the same for the same seed: each in one language, its length
    log-uniform between MIN_WORDS and MAX_WORDS, some punctuation, some rare words."""
    rng = random.Random(seed)  # noqa: S311 - synthetic text, not secrets
    languages = [(words.split(), SCRIPTS[code]) for code, words in WORDS.items()]
    comments = []
    for _ in range(count):
        words, script = rng.choice(languages)
        length = round(math.exp(rng.uniform(math.log(MIN_WORDS), math.log(MAX_WORDS))))
        picked = [
            _made_up(rng, script) if rng.random() < RARE_WORDS else rng.choice(words)
            for _ in range(length)
        ]
        comments.append(
            " ".join(w + rng.choice(".,!?") if rng.random() < 0.08 else w for w in picked)
        )
    return comments


def _made_up(rng: random.Random, script: str) -> str:
    return "".join(rng.choice(SYLLABLES[script]) for _ in range(rng.choice((2, 3, 3, 4))))


@dataclass(frozen=True)
class Arch:
    """A detoxify model type's real architecture, as its released checkpoint names it."""

    base_model: str
    model_class: str
    tokenizer_class: str
    family: str  # the kind of tokenizer: bert (WordPiece), bpe, unigram
    specials: tuple[str, ...]  # padding, unknown...: their ids as in the real tokenizer
    classes: tuple[str, ...]
    num_classes: int  # the unbiased models have 9 identity outputs after their 7 labels
    config: Mapping[str, Any]  # the base model's sizes (transformers defaults otherwise)


ORIGINAL = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
UNBIASED = (
    *("toxicity", "severe_toxicity", "obscene", "identity_attack"),
    *("insult", "threat", "sexual_explicit"),
)
_ROBERTA_SIZES = {"max_position_embeddings": 514, "type_vocab_size": 1, "layer_norm_eps": 1e-5}
_ALBERT_BASE: dict[str, Any] = {"vocab_size": 30000, "embedding_size": 128, "hidden_size": 768}
_ALBERT_BASE |= {"num_attention_heads": 12, "intermediate_size": 3072, "hidden_act": "gelu_new"}
_BERT_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_ROBERTA_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
_ALBERT_SPECIALS = ("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]")
ARCHS = {
    "original": Arch(
        "bert-base-uncased", "BertForSequenceClassification", "BertTokenizer", "bert",
        _BERT_SPECIALS, ORIGINAL, 6, {"vocab_size": 30522},
    ),
    "unbiased": Arch(
        "roberta-base", "RobertaForSequenceClassification", "RobertaTokenizer", "bpe",
        _ROBERTA_SPECIALS, UNBIASED, 16, {"vocab_size": 50265, **_ROBERTA_SIZES},
    ),
    "multilingual": Arch(
        "xlm-roberta-base", "XLMRobertaForSequenceClassification", "XLMRobertaTokenizer",
        "unigram", _ROBERTA_SPECIALS, UNBIASED, 16, {"vocab_size": 250002, **_ROBERTA_SIZES},
    ),
    "original-small": Arch(
        "albert-base-v2", "AlbertForSequenceClassification", "AlbertTokenizer", "unigram",
        _ALBERT_SPECIALS, ORIGINAL, 6, _ALBERT_BASE,
    ),
    "unbiased-small": Arch(
        "albert-base-v2", "AlbertForSequenceClassification", "AlbertTokenizer", "unigram",
        _ALBERT_SPECIALS, UNBIASED, 16, _ALBERT_BASE,
    ),
}  # fmt: skip
TOKENIZER_VOCAB = 32_000
HEAD_CALIBRATION = 32  # comments the random head is spread on
HEAD_SPREAD = 2.0  # standard deviation of its logits: scores mostly between 0.1 and 0.9


def build_random_model_dir(root: Path, model_type: str, *, seed: int) -> Path:
    """Lay out `<root>/<model_type>` (returns `root`): the real architecture, random
    weights, a tokenizer trained on `corpus()`, written as `write_layout` writes."""
    import torch
    import transformers

    arch = ARCHS[model_type]
    with tempfile.TemporaryDirectory(prefix="bench-model-") as scratch:
        hf_dir = Path(scratch) / "hf"
        tokenizer = _random_tokenizer(arch, seed)
        tokenizer.save_pretrained(hf_dir)
        model_class = getattr(transformers, arch.model_class)
        config = model_class.config_class(
            **arch.config,
            num_labels=arch.num_classes,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
        config.save_pretrained(hf_dir)
        torch.manual_seed(seed)
        model = model_class(config)
        spread_head(model, tokenizer, corpus(HEAD_CALIBRATION, seed + 2), seed=seed)
        args = {"num_classes": arch.num_classes, "model_type": arch.base_model}
        args |= {"model_name": arch.model_class, "tokenizer_name": arch.tokenizer_class}
        checkpoint = Path(scratch) / modeldir.CHECKPOINT
        torch.save(
            {
                "config": {"arch": {"args": args}, "dataset": {"args": {"classes": arch.classes}}},
                "state_dict": model.state_dict(),
            },
            checkpoint,
        )
        del model
        modeldir.write_layout(root, model_type, checkpoint=checkpoint, hf_dir=hf_dir)
    return root


def spread_head(model: Any, tokenizer: Any, texts: Sequence[str], *, seed: int) -> None:
    """Set the last layer of `model` so that its logits over `texts` spread as a normal
    law of standard deviation HEAD_SPREAD around 0, each label along its own random
    direction. Random weights give nearly the same features to every text, hence nearly
    the same scores, every comment on the same side of every threshold: agreement would
    be 100% whatever the arithmetic. Spread, scores depend on the text and straddle the
    thresholds. A severe test: the numerical error is set against that small variation."""
    import torch

    head = getattr(model.classifier, "out_proj", model.classifier)
    features: list[Any] = []
    hook = head.register_forward_hook(lambda layer, inputs, output: features.append(inputs[0]))
    model.eval()
    try:
        with torch.inference_mode():
            for text in texts:
                model(**tokenizer(text, return_tensors="pt", truncation=True))
    finally:
        hook.remove()
    seen = torch.cat(features)
    generator = torch.Generator().manual_seed(seed)
    directions = torch.randn(seen.shape[1], head.out_features, generator=generator)
    projected = seen @ directions
    scale = HEAD_SPREAD / projected.std(dim=0)
    with torch.no_grad():
        head.weight.copy_((directions * scale).T)
        head.bias.copy_(-projected.mean(dim=0) * scale)


def _random_tokenizer(arch: Arch, seed: int) -> Any:
    """The base model's kind of tokenizer, trained on another seed's corpus."""
    import transformers
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    specials = list(arch.specials)
    unknown = next(token for token in specials if "unk" in token.lower())
    vocab_size = min(TOKENIZER_VOCAB, arch.config["vocab_size"])
    trainer: Any
    if arch.family == "bert":
        tokenizer = Tokenizer(models.WordPiece(unk_token=unknown))
        tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials)
    elif arch.family == "bpe":
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        alphabet = pre_tokenizers.ByteLevel.alphabet()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, special_tokens=specials, initial_alphabet=alphabet
        )
    else:
        tokenizer = Tokenizer(models.Unigram())
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
        trainer = trainers.UnigramTrainer(
            vocab_size=vocab_size, special_tokens=specials, unk_token=unknown
        )
    trainer.show_progress = False
    tokenizer.train_from_iterator(corpus(TOKENIZER_CORPUS, seed + 1), trainer)
    model = json.loads(tokenizer.to_str())["model"]
    tokenizer_class = getattr(transformers, arch.tokenizer_class)
    if arch.family == "unigram":
        vocab = [(piece, score) for piece, score in model["vocab"]]
        return tokenizer_class(vocab=vocab, model_max_length=modeldir.MODEL_MAX_LENGTH)
    if arch.family == "bpe":
        merges = [tuple(pair) for pair in model["merges"]]
        return tokenizer_class(
            vocab=model["vocab"], merges=merges, model_max_length=modeldir.MODEL_MAX_LENGTH
        )
    return tokenizer_class(vocab=model["vocab"], model_max_length=modeldir.MODEL_MAX_LENGTH)


@dataclass
class Timing:
    """What one path took: wall and CPU seconds, the fastest of each round summed."""

    wall_s: float = 0.0
    cpu_s: float = 0.0

    def to_dict(self, count: int) -> dict[str, float]:
        return {
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "comments_per_s": round(count / self.wall_s, 2) if self.wall_s else 0.0,
        }


Scores = dict[str, float]


def measure(
    detoxify: Any,
    scorer: DetoxifyScorer,
    comments: Sequence[str],
    *,
    batch_size: int,
    repeat: int,
    progress: Callable[[str], None],
) -> tuple[list[Scores], list[Scores], Timing, Timing]:
    """Both paths' scores for every comment and their times, round by round."""
    baseline_scores: list[Scores] = []
    worker_scores: list[Scores] = []
    baseline, worker = Timing(), Timing()
    detoxify.predict(comments[0])  # first calls allocate: not counted
    scorer.score(comments[:batch_size])
    starts = range(0, len(comments), batch_size)

    def predict(texts: Sequence[str]) -> list[Scores]:
        return [detoxify.predict(text) for text in texts]

    for number, start in enumerate(starts, 1):
        batch = comments[start : start + batch_size]
        baseline_scores += _fastest(predict, batch, repeat, baseline)
        worker_scores += _fastest(scorer.score, batch, repeat, worker)
        progress(
            f"round {number}/{len(starts)}: {start + len(batch)} comments, "
            f"baseline {baseline.wall_s:.1f} s, worker {worker.wall_s:.1f} s"
        )
    return baseline_scores, worker_scores, baseline, worker


def _fastest(
    run: Callable[[Sequence[str]], list[Scores]], texts: Sequence[str], repeat: int, into: Timing
) -> list[Scores]:
    best_wall = best_cpu = math.inf
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run(texts)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    into.wall_s += best_wall
    into.cpu_s += best_cpu
    return result


def compare(baseline: Sequence[Scores], worker: Sequence[Scores], policy: Policy) -> dict[str, Any]:
    """Largest score difference per label, and decisions: same status, same reasons."""
    labels = list(baseline[0])
    decided = [
        (_decision(policy, b), _decision(policy, w)) for b, w in zip(baseline, worker, strict=True)
    ]
    identical = sum(b == w for b, w in decided)
    return {
        "max_abs_diff": {
            label: round(
                max(abs(b[label] - w[label]) for b, w in zip(baseline, worker, strict=True)), 6
            )
            for label in labels
        },
        "decisions": {
            "count": len(decided),
            "identical": identical,
            "agreement_pct": round(100 * identical / len(decided), 2),
            "held_baseline": sum(b[0] != "published" for b, _ in decided),
            "held_worker": sum(w[0] != "published" for _, w in decided),
        },
    }


def _decision(policy: Policy, scores: Scores) -> tuple[str, tuple[str, ...]]:
    checks = Checks(language=Language("und", "none"), toxicity=scores, spam=SpamResult(0.0, ()))
    status, reasons = policy.decide(checks)
    return status.value, tuple(sorted(reason.code for reason in reasons))


def describe(comments: Sequence[str], scorer: DetoxifyScorer) -> dict[str, Any]:
    """The corpus as the model sees it: words and tokens per comment."""
    words = [len(text.split()) for text in comments]
    windows = [scorer.windows(text) for text in comments]
    tokens = [sum(map(len, w)) for w in windows]
    return {
        "count": len(comments),
        "words_min": min(words),
        "words_median": statistics.median(words),
        "words_max": max(words),
        "tokens_mean": round(statistics.mean(tokens), 1),
        "tokens_max": max(tokens),
        "longer_than_window": sum(len(w) > 1 for w in windows),
    }


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def table(report: Mapping[str, Any]) -> str:
    corpus_, base, work = report["corpus"], report["baseline"], report["worker"]
    decisions = report["decisions"]
    runtime = " (ONNX Runtime)" if report.get("runtime") == "onnx" else ""
    worker_path = (
        f"worker score(), batches of {report['batch_size']}, {report['precision']}{runtime}"
    )
    lines = [
        f"{report['model']} ({'random weights' if report['random_weights'] else 'model dir'}), "
        f"{report['cpu']}, {report['threads']} threads, torch {report['torch']}",
        f"corpus: {corpus_['count']} comments, seed {report['seed']}, "
        f"{corpus_['words_min']}-{corpus_['words_max']} words (median {corpus_['words_median']}), "
        f"{corpus_['tokens_mean']} tokens on average; fastest of {report['repeat']} per round",
        "",
        f"{'path':<58} {'comments/s':>10} {'wall s':>8} {'CPU s':>8}",
        f"{'detoxify predict(), one at a time, fp32':<58} "
        f"{base['comments_per_s']:>10.2f} {base['wall_s']:>8.1f} {base['cpu_s']:>8.1f}",
        f"{worker_path:<58} "
        f"{work['comments_per_s']:>10.2f} {work['wall_s']:>8.1f} {work['cpu_s']:>8.1f}",
        "",
        f"ratio: {report['ratio']:.2f}x (CPU time: {report['cpu_ratio']:.2f}x)",
        "max |score difference|: "
        + ", ".join(f"{label} {diff:.2g}" for label, diff in report["max_abs_diff"].items()),
        f"decisions identical: {decisions['identical']}/{decisions['count']} "
        f"({decisions['agreement_pct']:.2f}%); held: baseline {decisions['held_baseline']}, "
        f"worker {decisions['held_worker']}",
    ]
    if corpus_["longer_than_window"]:
        lines.append(
            f"{corpus_['longer_than_window']} comments are longer than the window: "
            f"detoxify reads their first {report['window']} tokens, the worker all of them"
        )
    return "\n".join(lines)


def parse(argv: Sequence[str] | None, settings: Settings) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="moderator bench scoring",
        description="The worker's toxicity scoring against detoxify's own predict(), "
        "one comment at a time in fp32: comments/s, ratio, agreement of decisions.",
    )
    parser.add_argument("--model", choices=TOXICITY_MODELS, default=settings.toxicity_model)
    parser.add_argument(
        "--dir", metavar="MODEL_DIR", default=settings.model_dir, help="default MODERATOR_MODEL_DIR"
    )
    parser.add_argument(
        "--random-weights",
        action="store_true",
        help="a full-size model of the real architecture with random weights, built offline "
        "in a temporary directory: representative speed, meaningless scores",
    )
    parser.add_argument("--count", type=int, default=200, help="comments (default 200)")
    parser.add_argument("--seed", type=int, default=2026, help="of the corpus and random weights")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=settings.toxicity_precision,
        help="of the worker's path (default MODERATOR_TOXICITY_PRECISION)",
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default=settings.toxicity_runtime,
        help="of the worker's path: torch, or onnx (exported once into the model directory, "
        "fp32 only; default MODERATOR_TOXICITY_RUNTIME)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=settings.worker_batch_size,
        help="comments per score() call (default MODERATOR_WORKER_BATCH_SIZE)",
    )
    parser.add_argument("--threads", type=int, help="torch threads (default: usable CPUs)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per round, fastest kept")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    for name in ("count", "batch_size", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.runtime == "onnx" and args.precision != "fp32":
        parser.error("--runtime onnx runs the model in fp32: use --precision fp32")
    if args.runtime == "onnx" and not (args.dir or args.random_weights):
        parser.error("--runtime onnx needs --dir (or --random-weights): the export is kept there")
    return args


@contextmanager
def model_root(args: argparse.Namespace) -> Iterator[str | None]:
    """The model directory to load from: built for --random-weights, else --dir."""
    if not args.random_weights:
        yield args.dir
        return
    with tempfile.TemporaryDirectory(prefix="moderator-bench-") as scratch:
        print(f"building a random-weights {args.model} model in {scratch}", file=sys.stderr)
        yield str(build_random_model_dir(Path(scratch), args.model, seed=args.seed))


def run(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    with model_root(args) as root:
        detoxify, _ = load_detoxify(args.model, root)
        scorer = load_scorer(
            args.model, root, threads=args.threads, precision=args.precision, runtime=args.runtime
        )
    import torch

    comments = corpus(args.count, args.seed)
    print(f"scoring {len(comments)} comments both ways", file=sys.stderr)
    baseline_scores, worker_scores, baseline, worker = measure(
        detoxify,
        scorer,
        comments,
        batch_size=args.batch_size,
        repeat=args.repeat,
        progress=lambda line: print(line, file=sys.stderr),
    )
    policy = Policy(
        thresholds=dict(settings.thresholds),
        spam_hold=settings.spam_hold_threshold,
        spam_reject=settings.spam_reject_threshold,
        model_type=args.model,
        language_not_covered="score",
        banned=WordList(()),
        suspect=WordList(()),
    )
    return {
        "model": f"detoxify/{args.model}",
        "random_weights": args.random_weights,
        "cpu": cpu_name(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "seed": args.seed,
        "repeat": args.repeat,
        "precision": args.precision,
        "runtime": args.runtime,
        "batch_size": args.batch_size,
        "window": scorer.window,
        "corpus": describe(comments, scorer),
        "baseline": baseline.to_dict(len(comments)),
        "worker": worker.to_dict(len(comments)),
        "ratio": round(baseline.wall_s / worker.wall_s, 2),
        "cpu_ratio": round(baseline.cpu_s / worker.cpu_s, 2),
        **compare(baseline_scores, worker_scores, policy),
    }


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"moderator bench scoring: configuration error: {exc}", file=sys.stderr)
        return 2
    args = parse(argv, settings)
    logs.configure(
        service="moderator-bench", fmt=settings.log_format, level="warning", stream=sys.stderr
    )
    try:
        report = run(args, settings)
    except ModelUnavailable as exc:
        print(f"moderator bench scoring: {exc}", file=sys.stderr)
        return 1
    print(table(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
