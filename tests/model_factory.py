"""A tiny detoxify model directory, built offline in a tenth of a second (once torch is imported).

The real model class of each type with two small layers and random weights, a
tokenizer trained here on a few sentences, a checkpoint in detoxify's format
and the layout `workers.toxicity.modeldir.write_layout` writes: loaded by the same code
as production. The classifier's last layer is zeroed and its bias fixed, so
scores are predictable whatever the text: "calm" below 0.001, "angry" above 0.999.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog

from workers.toxicity import modeldir

SENTENCES = [
    "Très bon article, merci pour ces informations précises.",
    "Je ne suis pas d'accord avec l'auteur, mais le débat est intéressant.",
    "Thank you for this article, it was very informative.",
    "I disagree with the author, but the argument is fair.",
    "مقال مفيد جدا، شكرا على هذه المعلومات.",
    "أنا لا أتفق مع الكاتب لكن المقال جيد.",
    "هاد المقال زوين بزاف، الله يعطيك الصحة.",
    "had lmaqal zwin bzaf, chokran 3la had lma3loumat.",
    "ana ma mtaf9ch m3a lkatib walakin lmaqal mzyan 7it fih lma3na.",
]
UNBIASED_CLASSES = [
    "toxicity",
    "severe_toxicity",
    "obscene",
    "identity_attack",
    "insult",
    "threat",
    "sexual_explicit",
]
ORIGINAL_CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
BIASES = {"calm": -8.0, "angry": 8.0}


@dataclass(frozen=True)
class Arch:
    base_model: str
    model_name: str
    tokenizer_name: str  # as in detoxify's released checkpoints
    family: str  # how to train the tokenizer: xlmr, roberta, bert, albert
    classes: list[str]
    num_classes: int  # the unbiased models have 9 identity outputs after the 7 labels


ARCHS = {
    "multilingual": Arch(
        "xlm-roberta-base",
        "XLMRobertaForSequenceClassification",
        "XLMRobertaTokenizer",
        "xlmr",
        UNBIASED_CLASSES,
        16,
    ),
    "unbiased": Arch(
        "roberta-base",
        "RobertaForSequenceClassification",
        "RobertaTokenizer",
        "roberta",
        UNBIASED_CLASSES,
        16,
    ),
    "original": Arch(
        "bert-base-uncased",
        "BertForSequenceClassification",
        "BertTokenizer",
        "bert",
        ORIGINAL_CLASSES,
        6,
    ),
    "original-small": Arch(
        "albert-base-v2",
        "AlbertForSequenceClassification",
        "AlbertTokenizer",
        "albert",
        ORIGINAL_CLASSES,
        6,
    ),
    "unbiased-small": Arch(
        "albert-base-v2",
        "AlbertForSequenceClassification",
        "AlbertTokenizer",
        "albert",
        UNBIASED_CLASSES,
        16,
    ),
}


def build_model_dir(root: Path, model_type: str = "multilingual", *, mood: str = "calm") -> Path:
    """Write `<root>/<model_type>/` and return `root` (what MODERATOR_MODEL_DIR names)."""
    import torch
    import transformers

    arch = ARCHS[model_type]
    with tempfile.TemporaryDirectory(prefix="model-factory-") as scratch:
        hf_dir = Path(scratch) / "hf"
        tokenizer = _tokenizer(arch)
        tokenizer.save_pretrained(hf_dir)

        model_class = getattr(transformers, arch.model_name)
        config = model_class.config_class(**_config_args(arch, tokenizer))
        torch.manual_seed(0)
        model = model_class(config)
        _set_mood(model, arch, mood)
        config.save_pretrained(hf_dir)

        checkpoint = Path(scratch) / "checkpoint.ckpt"
        torch.save(_checkpoint(arch, model.state_dict()), checkpoint)
        modeldir.write_layout(root, model_type, checkpoint=checkpoint, hf_dir=hf_dir)
    return root


def build_spread_model_dir(root: Path, texts: list[str], *, shape: str = "straddle") -> Path:
    """A `multilingual` directory whose scores depend on the text: larger random weights,
    then the head spread over `texts` (`workers.bench.random_model.spread_head`), the
    checkpoint and its manifest rewritten."""
    import torch

    from workers.bench.random_model import spread_head
    from workers.toxicity.loading import load_detoxify

    build_model_dir(root, "multilingual")
    detoxify, _ = load_detoxify("multilingual", str(root))
    # Weights larger than the factory's make features that differ from text to text,
    # so the spread head need not magnify float rounding (torch's own batched and
    # single scores would then differ by 1e-4).
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for weights in detoxify.model.parameters():
            if weights.dim() > 1:
                weights.normal_(0.0, 0.3, generator=generator)
    spread_head(detoxify.model, detoxify.tokenizer, texts, seed=3, shape=shape)
    directory = root / "multilingual"
    checkpoint = directory / modeldir.CHECKPOINT
    saved = torch.load(checkpoint, weights_only=True)
    torch.save(saved | {"state_dict": detoxify.model.state_dict()}, checkpoint)
    manifest = json.loads((directory / modeldir.MANIFEST).read_text())
    manifest["files"][modeldir.CHECKPOINT] = modeldir.sha256_file(checkpoint)
    (directory / modeldir.MANIFEST).write_text(json.dumps(manifest))
    return root


def _checkpoint(arch: Arch, state_dict: dict[str, Any]) -> dict[str, Any]:
    """detoxify's format: the training config it was built with, and the weights."""
    args = {
        "num_classes": arch.num_classes,
        "model_type": arch.base_model,
        "model_name": arch.model_name,
        "tokenizer_name": arch.tokenizer_name,
    }
    return {
        "config": {"arch": {"args": args}, "dataset": {"args": {"classes": arch.classes}}},
        "state_dict": state_dict,
    }


def _config_args(arch: Arch, tokenizer: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "num_labels": arch.num_classes,
        "pad_token_id": tokenizer.pad_token_id,
        "max_position_embeddings": 512,
    }
    if arch.family in ("xlmr", "roberta"):
        # Positions start after the padding index: 512 tokens need 514 embeddings.
        args |= {"max_position_embeddings": 514, "type_vocab_size": 1}
        args |= {"bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id}
    if arch.family == "albert":
        args["embedding_size"] = 16
    return args


def _set_mood(model: Any, arch: Arch, mood: str) -> None:
    import torch

    head = model.classifier.out_proj if arch.family in ("xlmr", "roberta") else model.classifier
    with torch.no_grad():
        head.weight.zero_()
        head.bias.fill_(BIASES[mood])


def _tokenizer(arch: Arch) -> Any:
    """Train the base model's kind of tokenizer, wrapped as its transformers class."""
    import transformers

    tokenizer_class = getattr(transformers, arch.tokenizer_name)
    model = _trained(arch.family)
    if arch.family in ("xlmr", "albert"):
        vocab = [(piece, score) for piece, score in model["vocab"]]
        return tokenizer_class(vocab=vocab, model_max_length=512)
    if arch.family == "roberta":
        merges = [tuple(pair) for pair in model["merges"]]
        return tokenizer_class(vocab=model["vocab"], merges=merges, model_max_length=512)
    return tokenizer_class(vocab=model["vocab"], model_max_length=512)


def _trained(family: str) -> dict[str, Any]:
    """A tokenizers model trained on SENTENCES, as its JSON form."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    if family == "bert":
        tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        trainer: Any = trainers.WordPieceTrainer(
            vocab_size=500, special_tokens=specials, show_progress=False
        )
    elif family == "roberta":
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        trainer = trainers.BpeTrainer(
            vocab_size=500,
            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
    else:
        # SentencePiece-style unigram; the unknown token's id is fixed by the class.
        specials = (
            ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
            if family == "xlmr"
            else ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
        )
        tokenizer = Tokenizer(models.Unigram())
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
        trainer = trainers.UnigramTrainer(
            vocab_size=500, special_tokens=specials, unk_token="<unk>", show_progress=False
        )
    tokenizer.train_from_iterator(SENTENCES * 4, trainer)
    model: dict[str, Any] = json.loads(tokenizer.to_str())["model"]
    return model


@contextmanager
def restored_process_state() -> Iterator[None]:
    """Loading from a model directory switches the process's hub off for good, sets
    torch's threads, and commands configure logging: give the rest of the session back
    what it had (tests that load models use this in a module-scoped fixture)."""
    import torch
    from huggingface_hub import constants

    names = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME", "HF_HUB_CACHE")
    environ = {name: os.environ.get(name) for name in names}
    threads = torch.get_num_threads()
    structlog_config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    with pytest.MonkeyPatch.context() as patch:
        for name in (
            "HF_HUB_OFFLINE",
            "HF_HOME",
            "HF_HUB_CACHE",
            "HF_HUB_ETAG_TIMEOUT",
            "HF_HUB_DOWNLOAD_TIMEOUT",
        ):
            patch.setattr(constants, name, getattr(constants, name))
        yield
    root.handlers[:], root.level = handlers, level
    structlog.configure(**structlog_config)
    torch.set_num_threads(threads)
    for name, value in environ.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
