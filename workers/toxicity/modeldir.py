"""The offline model directory (DESIGN.md §2 "Model directory").

```
<root>/<model_type>/
  checkpoint.ckpt   detoxify's released checkpoint, unmodified (a pickle)
  hf/               the base model's transformers config.json and tokenizer files
  manifest.json     {"model_type", "base_model", "files": {relative path: sha256}}
```

`verify` checks the layout and every file's sha256 against the manifest before
anything is unpickled. `prepare_hub_cache` derives, from hf/ alone, the one
thing detoxify still looks up by name (the base model's config), so nothing
else has to be in the directory. `write_layout` lays a directory out from files
brought in by hand. torch is imported lazily, by `write_layout` only.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from workers.errors import ModelUnavailable

MODEL_TYPES = ("original", "unbiased", "multilingual", "original-small", "unbiased-small")
BASE_MODELS = {
    "original": "bert-base-uncased",
    "unbiased": "roberta-base",
    "multilingual": "xlm-roberta-base",
    "original-small": "albert-base-v2",
    "unbiased-small": "albert-base-v2",
}
CHECKPOINT = "checkpoint.ckpt"
HF_DIR = "hf"
MANIFEST = "manifest.json"
MODEL_MAX_LENGTH = 512  # the window of every detoxify base model

_REQUIRED = (CHECKPOINT, f"{HF_DIR}/config.json", f"{HF_DIR}/tokenizer.json")
_WEIGHT_SUFFIXES = frozenset(
    {".bin", ".safetensors", ".h5", ".msgpack", ".ckpt", ".pt", ".pth", ".onnx", ".ot", ".gguf"}
)
_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Manifest:
    """A verified model directory: what it holds and where."""

    directory: Path
    model_type: str
    base_model: str
    files: dict[str, str]  # path relative to `directory` -> sha256

    @property
    def checkpoint(self) -> Path:
        return self.directory / CHECKPOINT

    @property
    def hf_dir(self) -> Path:
        return self.directory / HF_DIR

    @property
    def checkpoint_sha256(self) -> str:
        return self.files[CHECKPOINT]

    def to_json(self) -> str:
        body = {"model_type": self.model_type, "base_model": self.base_model, "files": self.files}
        return json.dumps(body, indent=2, sort_keys=True) + "\n"


def how_to(model_type: str) -> str:
    """How an operator provides weights without internet: part of every error message."""
    base = BASE_MODELS.get(model_type, "the base model")
    return (
        f"to run offline, set MODERATOR_MODEL_DIR to a directory holding "
        f"{model_type}/{CHECKPOINT} (detoxify's released checkpoint), {model_type}/{HF_DIR}/ "
        f"(config.json and tokenizer files, tokenizer.json included, of {base}) and "
        f"{model_type}/{MANIFEST}; `moderator models import --checkpoint FILE --hf DIR` "
        f"writes this layout"
    )


def sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def verify(root: Path, model_type: str, *, checkpoint: bool = True) -> Manifest:
    """Check `<root>/<model_type>` against its manifest: layout, then every sha256;
    with `checkpoint` False, not the checkpoint's (for a start from its ONNX export,
    which never reads it: the export's own files are checked instead)."""
    directory = root / model_type
    if model_type not in MODEL_TYPES:
        raise ModelUnavailable(f"unknown model type {model_type!r}, expected one of {MODEL_TYPES}")
    if not directory.is_dir():
        raise ModelUnavailable(f"model directory {directory} does not exist; {how_to(model_type)}")
    manifest = _read_manifest(directory, model_type)
    on_disk = {CHECKPOINT} | {
        p.relative_to(directory).as_posix() for p in (directory / HF_DIR).rglob("*") if p.is_file()
    }
    unlisted = sorted(on_disk - manifest.files.keys())
    if unlisted:
        raise ModelUnavailable(f"{directory / unlisted[0]} is not listed in {directory / MANIFEST}")
    # The checkpoint first: it is the file that must never be unpickled unverified.
    for name in sorted(manifest.files, key=lambda n: n != CHECKPOINT):
        if name == CHECKPOINT and not checkpoint:
            continue
        check_file(directory / name, manifest.files[name], directory / MANIFEST)
    return manifest


def check_file(path: Path, digest: str, manifest: Path) -> None:
    """`path` is there and its sha256 is `digest`, as `manifest` lists it."""
    if not path.is_file():
        raise ModelUnavailable(f"{path} is missing (listed in {manifest})")
    if sha256_file(path) != digest:
        raise ModelUnavailable(
            f"{path}: sha256 does not match {manifest}; the file was changed "
            "or corrupted, copy it again"
        )


def read_json(path: Path, how: str) -> object:
    """A manifest's JSON; ModelUnavailable, saying `how` to make it, when it is missing
    or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelUnavailable(f"{path} is missing; {how}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelUnavailable(f"{path} is unreadable: {exc}") from exc


def _read_manifest(directory: Path, model_type: str) -> Manifest:
    path = directory / MANIFEST
    body = read_json(path, how_to(model_type))
    if not isinstance(body, dict):
        raise ModelUnavailable(f"{path}: expected a JSON object")
    if body.get("model_type") != model_type:
        raise ModelUnavailable(
            f"{path}: model_type is {body.get('model_type')!r}, expected {model_type!r}"
        )
    base_model = body.get("base_model")
    if not isinstance(base_model, str) or not _REPO_ID.fullmatch(base_model):
        raise ModelUnavailable(f"{path}: base_model must be a name such as 'xlm-roberta-base'")
    return Manifest(directory, model_type, base_model, _files(path, body.get("files")))


def _files(path: Path, files: object) -> dict[str, str]:
    if not isinstance(files, dict):
        raise ModelUnavailable(f"{path}: files must map each file to its sha256")
    for name, digest in files.items():
        if not (_is_layout_path(name) and isinstance(digest, str) and _SHA256.fullmatch(digest)):
            raise ModelUnavailable(f"{path}: bad entry {name!r}: {digest!r}")
    for name in _REQUIRED:
        if name not in files:
            raise ModelUnavailable(f"{path}: {name} is required and not listed")
    return dict(files)


def _is_layout_path(name: str) -> bool:
    """checkpoint.ckpt or hf/<relative path>, never outside the directory."""
    if name == CHECKPOINT:
        return True
    parts = name.split("/")
    return len(parts) > 1 and parts[0] == HF_DIR and all(p not in ("", ".", "..") for p in parts)


def prepare_hub_cache(manifest: Manifest, hub_cache: Path) -> None:
    """Make `hub_cache` (a huggingface_hub cache, i.e. HF_HUB_CACHE) answer a lookup of
    the base model's config by name, from hf/config.json: detoxify asks for it by name
    even when given hf/, and offline that lookup is served from the cache alone."""
    config = (manifest.hf_dir / "config.json").read_bytes()
    revision = hashlib.sha256(config).hexdigest()[:40]
    repo = hub_cache / ("models--" + manifest.base_model.replace("/", "--"))
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True, exist_ok=True)
    (snapshot / "config.json").write_bytes(config)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(revision, encoding="ascii")


def write_layout(root: Path, model_type: str, *, checkpoint: Path, hf_dir: Path) -> Path:
    """Lay out `<root>/<model_type>` from a detoxify checkpoint and the base model's
    files, write its manifest and return the directory (an existing one is replaced).
    The checkpoint is copied unmodified; config.json gets the checkpoint's number of
    classes as num_labels, tokenizer_config.json a model_max_length of 512. Weight
    files of the base model in `hf_dir` are left out: the checkpoint holds the weights."""
    if model_type not in MODEL_TYPES:
        raise ModelUnavailable(f"unknown model type {model_type!r}, expected one of {MODEL_TYPES}")
    for name in ("config.json", "tokenizer.json"):
        if not (hf_dir / name).is_file():
            raise ModelUnavailable(
                f"{hf_dir} has no {name}: copy the files of {BASE_MODELS[model_type]} "
                f"(transformers needs tokenizer.json to load its tokenizer offline)"
            )
    base_model, num_classes = _checkpoint_arch(checkpoint)

    directory = root / model_type
    staging = root / f".{model_type}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    (staging / HF_DIR).mkdir(parents=True)
    shutil.copyfile(checkpoint, staging / CHECKPOINT)
    for source in sorted(hf_dir.iterdir()):
        if source.is_file() and not source.name.startswith(".") and not _is_weights(source):
            shutil.copyfile(source, staging / HF_DIR / source.name)
    _set_num_labels(staging / HF_DIR / "config.json", num_classes)
    _set_model_max_length(staging / HF_DIR / "tokenizer_config.json", MODEL_MAX_LENGTH)

    files = {CHECKPOINT: sha256_file(staging / CHECKPOINT)}
    for path in sorted((staging / HF_DIR).iterdir()):
        files[f"{HF_DIR}/{path.name}"] = sha256_file(path)
    manifest = Manifest(directory, model_type, base_model, files)
    (staging / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    if directory.exists():
        shutil.rmtree(directory)
    staging.rename(directory)
    return directory


def _is_weights(path: Path) -> bool:
    return path.suffix in _WEIGHT_SUFFIXES


def _checkpoint_arch(checkpoint: Path) -> tuple[str, int]:
    """The base model's name and number of classes, from the checkpoint's config.
    Read with weights_only=True: only tensors and plain containers are unpickled."""
    import pickle

    import torch

    try:
        loaded = torch.load(checkpoint, map_location="cpu", weights_only=True)
        args = loaded["config"]["arch"]["args"]
        base_model, num_classes = args["model_type"], args["num_classes"]
    except (OSError, RuntimeError, pickle.UnpicklingError, KeyError, TypeError) as exc:
        raise ModelUnavailable(f"{checkpoint} is not a detoxify checkpoint: {exc}") from exc
    if not isinstance(base_model, str) or not _REPO_ID.fullmatch(base_model):
        raise ModelUnavailable(f"{checkpoint}: unexpected base model name {base_model!r}")
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ModelUnavailable(f"{checkpoint}: unexpected num_classes {num_classes!r}")
    return base_model, num_classes


def _set_num_labels(path: Path, num_labels: int) -> None:
    config = json.loads(path.read_text(encoding="utf-8"))
    labels = config.get("id2label")
    current = len(labels) if isinstance(labels, dict) else config.get("num_labels", 2)
    if current != num_labels:
        config.pop("id2label", None)
        config.pop("label2id", None)
        config["num_labels"] = num_labels
        path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def _set_model_max_length(path: Path, max_length: int) -> None:
    """Without it a tokenizer loaded from a directory has no limit, and a long
    comment overflows the model's position embeddings."""
    body = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    current = body.get("model_max_length")
    if not isinstance(current, int) or current > max_length:
        body["model_max_length"] = max_length
        path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
