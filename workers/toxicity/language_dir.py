"""A language model's directory (`MODERATOR_LANGUAGE_MODELS`) and its manifest.

```
<dir>/
  config.json               the model's config, its labels in id2label
  tokenizer.json, ...       the tokenizer files
  model.safetensors         the weights (or pytorch_model.bin, or shards of either)
  manifest.json             {"files": {relative path: sha256}}
```

An operator copies in what `save_pretrained` wrote and runs `moderator models manifest
--dir DIR` (`write_manifest`). `verify` checks every file against the manifest, and
refuses one not listed in it, before anything is loaded (pytorch_model.bin is a
pickle). Hidden files and directories (`.git`, `.cache`) are neither listed nor
read. The hashing is `workers.toxicity.modeldir`'s, as for detoxify's directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from workers.errors import ModelUnavailable
from workers.toxicity.modeldir import MANIFEST, check_file, read_json, sha256_file

CONFIG = "config.json"
# What transformers loads: model.safetensors, pytorch_model.bin, or their shards.
_WEIGHTS = re.compile(r"(model|pytorch_model)(-\d+-of-\d+)?\.(safetensors|bin)")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class LanguageManifest:
    """A verified language model directory: every file and its sha256."""

    directory: Path
    files: dict[str, str]  # path relative to `directory` -> sha256

    @property
    def weights(self) -> list[str]:
        return sorted(name for name in self.files if _is_weights(name))

    @property
    def weights_sha256(self) -> str:
        """The weights file's sha256; for shards, the sha256 of their names and sums."""
        if len(self.weights) == 1:
            return self.files[self.weights[0]]
        listing = "".join(f"{name} {self.files[name]}\n" for name in self.weights)
        return hashlib.sha256(listing.encode()).hexdigest()

    def to_json(self) -> str:
        return json.dumps({"files": self.files}, indent=2, sort_keys=True) + "\n"


def how_to(directory: Path) -> str:
    """What the directory must hold: part of every error message."""
    return (
        f"{directory} must hold a Hugging Face sequence-classification model as "
        f"`save_pretrained` writes it ({CONFIG} with id2label, the tokenizer files, "
        f"model.safetensors or pytorch_model.bin) and {MANIFEST}: copy the files in, then "
        f"run `moderator models manifest --dir {directory}`"
    )


def write_manifest(directory: Path) -> LanguageManifest:
    """Hash every file of `directory` into its manifest.json (replaced if there is one)."""
    if not directory.is_dir():
        raise ModelUnavailable(f"{directory}: no such directory; {how_to(directory)}")
    files = {name: sha256_file(directory / name) for name in sorted(_on_disk(directory))}
    manifest = LanguageManifest(directory, files)
    _check_layout(manifest)
    partial = directory / f".{MANIFEST}.partial"
    partial.write_text(manifest.to_json(), encoding="utf-8")
    os.replace(partial, directory / MANIFEST)
    return manifest


def verify(directory: Path) -> LanguageManifest:
    """Check `directory` against its manifest: every file listed, present and unchanged."""
    if not directory.is_dir():
        raise ModelUnavailable(f"{directory}: no such directory; {how_to(directory)}")
    manifest = LanguageManifest(directory, _read(directory / MANIFEST))
    _check_layout(manifest)
    unlisted = sorted(_on_disk(directory) - manifest.files.keys())
    if unlisted:
        raise ModelUnavailable(
            f"{directory / unlisted[0]} is not listed in {directory / MANIFEST}: remove it, "
            f"or run `moderator models manifest --dir {directory}` if it belongs there"
        )
    for name, digest in sorted(manifest.files.items()):
        check_file(directory / name, digest, directory / MANIFEST)
    return manifest


def _read(path: Path) -> dict[str, str]:
    body = read_json(path, how_to(path.parent))
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, dict):
        raise ModelUnavailable(f'{path}: expected {{"files": {{path: sha256}}}}')
    for name, digest in files.items():
        if not (_is_listable(name) and isinstance(digest, str) and _SHA256.fullmatch(digest)):
            raise ModelUnavailable(f"{path}: bad entry {name!r}: {digest!r}")
    return dict(files)


def _check_layout(manifest: LanguageManifest) -> None:
    if CONFIG not in manifest.files or not manifest.weights:
        raise ModelUnavailable(
            f"{manifest.directory}: no {CONFIG} or no weights; {how_to(manifest.directory)}"
        )


def _on_disk(directory: Path) -> set[str]:
    """Every file under `directory` but the manifest and hidden ones, relative, with /."""
    found = set()
    for path in directory.rglob("*"):
        name = path.relative_to(directory).as_posix()
        if path.is_file() and name != MANIFEST and _is_listable(name):
            found.add(name)
    return found


def _is_listable(name: object) -> bool:
    """A relative path inside the directory, no part of it hidden."""
    if not isinstance(name, str) or not name or name.startswith("/"):
        return False
    return all(part not in ("", "..") and not part.startswith(".") for part in name.split("/"))


def _is_weights(name: str) -> bool:
    return _WEIGHTS.fullmatch(name) is not None
