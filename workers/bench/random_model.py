"""A detoxify model directory with random weights, built offline (`--random-weights`).

`build_random_model_dir` lays out a full-size model of a model type's real
architecture (XLM-R base for `multilingual`, BERT base for `original`...) in
detoxify's checkpoint format, with random weights and a tokenizer trained here on
the bench's synthetic corpus with the real vocabulary size. Its speed is
representative; its scores are meaningless, yet a comparison of two scoring paths
still holds: both score with the same weights. `spread_head` makes its scores
depend on the text (tests use it on their tiny models too).

torch, transformers and tokenizers are imported by the functions that need them.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workers.bench.corpus import corpus
from workers.toxicity import modeldir

TOKENIZER_CORPUS = 20_000  # comments the random-weights tokenizer is trained on


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
HEAD_CALIBRATION = 32  # comments the random head is spread on (straddle)
# realistic: its 99% quantile is a few comments' scores, and fitted on 128 comments the
# bench's own came out 97.9% / 2.0% / 0.3% against 95 / 4 / 1; on 512, 95.6 / 3.9 / 0.6.
REALISTIC_CALIBRATION = 512
HEAD_SPREAD = 2.0  # standard deviation of its logits: scores mostly between 0.1 and 0.9
# How the random model's scores are shaped over the bench corpus (`spread_head`):
# "straddle", around every threshold (the harsh case); "realistic", the shape a
# trained detoxify model has on news comments. The assumption behind "realistic":
# most comments are not toxic and a trained model says so clearly, so per label 95%
# of scores are under 0.2, 4% between 0.2 and 0.9, 1% above 0.9 (in Jigsaw's Civil
# Comments, from the same kind of news sites, about 8% of comments are rated toxic
# by at least half their annotators and every other label is rarer: Borkan et al.,
# "Nuanced Metrics for Measuring Unintended Bias", 2019). And a trained head reads the
# directions along which its features vary from one text to the next: a classifier's
# last-layer features gather around its classes' means and its weights line up with
# those means ("neural collapse", Papyan, Han and Donoho, PNAS 2020), so each
# "realistic" label reads a random mix of how the calibration texts' features differ,
# not a random direction (which mostly reads what every text's features share). And the
# labels of one comment go together: a comment that is not toxic is no insult, threat
# nor obscenity either. In the Jigsaw Toxic Comment Classification train set (159,571
# Wikipedia comments), 99.4% of the comments not labelled toxic carry no other label,
# every severe_toxic one is toxic, and the latent (tetrachoric) correlation of toxic
# with obscene, insult, identity_hate and threat, computed from its published
# crosstab, is 0.95, 0.95, 0.82 and 0.77. Independent labels would put about seven
# times as many comments near some threshold as near one. "realistic" labels share a
# part, LABELS_SHARED: on the full-size `multilingual` model, two labels' logits then
# correlate by 0.05 to 0.97 over the bench corpus (0.53 on average; -0.91 to 0.91,
# 0.00 on average, with nothing shared): less, on average, than the data's labels.
SCORE_SHAPES = ("straddle", "realistic")
REALISTIC_QUANTILES = ((0.95, 0.2), (0.99, 0.9))  # (share of scores under, score)
LABELS_SHARED = 0.5  # the share of a "realistic" label's logit that every label shares


def build_random_model_dir(
    root: Path, model_type: str, *, seed: int, shape: str = "straddle"
) -> Path:
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
        count = REALISTIC_CALIBRATION if shape == "realistic" else HEAD_CALIBRATION
        texts = corpus(count, seed + 2)
        spread_head(model, tokenizer, texts, seed=seed, shape=shape)
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


def spread_head(
    model: Any, tokenizer: Any, texts: Sequence[str], *, seed: int, shape: str = "straddle"
) -> None:
    """Set the last layer of `model` so that its logits over `texts` spread as a normal
    law of standard deviation HEAD_SPREAD around 0, each label along its own random
    direction; with `shape` "realistic", along a random mix of the texts' centred
    features (the labels' mixes correlated by LABELS_SHARED), moved and scaled per label
    so that the scores follow REALISTIC_QUANTILES.
    Random weights give nearly the same features to every text, hence nearly the same
    scores, every comment on the same side of every threshold: agreement would be 100%
    whatever the arithmetic. Spread, scores depend on the text and straddle the
    thresholds. A severe test: the numerical error is set against that small variation
    (less so along the directions the features vary in, as a trained head reads)."""
    import torch

    head = last_layer(model)
    seen = head_inputs(model, tokenizer, texts)
    generator = torch.Generator().manual_seed(seed)
    if shape == "realistic":
        # One direction shared by every label, and one of its own per label, each a random
        # mix of how the texts' features differ and scaled to read a unit spread over them:
        # mixed, two labels' logits correlate by about LABELS_SHARED.
        mix = torch.randn(seen.shape[0], head.out_features + 1, generator=generator)
        read = (seen - seen.mean(dim=0)).T @ mix
        read = read / (seen @ read).std(dim=0)
        shared, own = read[:, :1], read[:, 1:]
        directions = math.sqrt(LABELS_SHARED) * shared + math.sqrt(1 - LABELS_SHARED) * own
    else:
        directions = torch.randn(seen.shape[1], head.out_features, generator=generator)
    projected = seen @ directions
    scale = HEAD_SPREAD / projected.std(dim=0)
    shift = -projected.mean(dim=0) * scale
    if shape == "realistic":
        # logit' = a * logit + b, with the two quantiles of REALISTIC_QUANTILES in place.
        (low_share, low), (high_share, high) = REALISTIC_QUANTILES
        spread = projected * scale + shift
        q_low, q_high = spread.quantile(low_share, dim=0), spread.quantile(high_share, dim=0)
        a = (_logit(high) - _logit(low)) / (q_high - q_low)
        scale, shift = scale * a, shift * a + (_logit(low) - q_low * a)
    with torch.no_grad():
        head.weight.copy_((directions * scale).T)
        head.bias.copy_(shift)


def last_layer(model: Any) -> Any:
    """The classifier's last linear layer: the one `spread_head` sets."""
    return getattr(model.classifier, "out_proj", model.classifier)


def head_inputs(model: Any, tokenizer: Any, texts: Sequence[str]) -> Any:
    """What the last layer reads for each of `texts`: a tensor, a row per text."""
    import torch

    features: list[Any] = []
    hook = last_layer(model).register_forward_hook(
        lambda layer, inputs, output: features.append(inputs[0])
    )
    model.eval()
    try:
        with torch.inference_mode():
            for text in texts:
                model(**tokenizer(text, return_tensors="pt", truncation=True))
    finally:
        hook.remove()
    return torch.cat(features)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


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


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m workers.bench.random_model DIR`: build a random-weights model directory
    (`moderator bench load --random-weights` runs this, the service's package never
    importing torch)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m workers.bench.random_model")
    parser.add_argument("root", type=Path, help="the model directory to lay out")
    parser.add_argument("--model", default="multilingual", choices=sorted(ARCHS))
    parser.add_argument("--score-shape", default="straddle", choices=SCORE_SHAPES)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    build_random_model_dir(args.root, args.model, seed=args.seed, shape=args.score_shape)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
