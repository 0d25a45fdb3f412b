"""`moderator models` (also `python -m workers.toxicity.cli`): the offline model directory.

- `download`: on a machine with internet, fetch detoxify's released checkpoint and the
  base model's config and tokenizer files, and lay them out (DESIGN.md §2).
- `import`: lay the directory out from files brought in by hand.
- `check`: verify every sha256, load the model as a worker does and score one sentence;
  with `--runtime onnx`, export it to ONNX first when the export is missing or stale
  (so that workers with a read-only model directory find it made).
- `manifest`: write the manifest of a language model directory brought in by hand
  (`MODERATOR_LANGUAGE_MODELS`), once its labels are known to map.
- `check-language`: verify and load language model directories, score one sentence.

Exit codes: 0 done, 1 the model cannot be had or does not load, 2 a usage or
configuration error.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import re
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from moderator import entry
from workers.errors import ModelUnavailable
from workers.toxicity import language_dir, modeldir
from workers.toxicity.language_models import LabelMap, config_label_map, load_model
from workers.toxicity.loading import RUNTIMES, load_scorer, runtime_of
from workers.toxicity.onnx_runtime import onnx_file

DOWNLOAD_TIMEOUT_S = 30.0  # per connection attempt or read, not for the whole file
CHECK_SENTENCE = "Merci pour cet article, il explique clairement les enjeux du débat."
LANGUAGE_CHECK_SENTENCE = "شكرا على هذا المقال، هاد الموضوع مهم بزاف."
_CHUNK = 1 << 20
# detoxify's release files end in -<first hex digits of their sha256>.ckpt (torch.hub's rule).
_HASH_PREFIX = re.compile(r"-([0-9a-f]{8,})\.")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result: int = args.run(args)
    except ModelUnavailable as exc:
        print(f"moderator models: {exc}", file=sys.stderr)
        return 1
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moderator models", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    models = modeldir.MODEL_TYPES

    download_cmd = commands.add_parser(
        "download", help="fetch a model from the internet and lay out its directory"
    )
    download_cmd.add_argument("--model", required=True, choices=models)
    download_cmd.add_argument("--dir", required=True, type=Path, help="the model directory root")
    download_cmd.add_argument(
        "--timeout",
        type=float,
        default=DOWNLOAD_TIMEOUT_S,
        help=f"seconds to wait for the network at each step (default {DOWNLOAD_TIMEOUT_S:g})",
    )
    download_cmd.set_defaults(run=_download)

    import_cmd = commands.add_parser(
        "import", help="lay out a model directory from a checkpoint and hf/ files brought by hand"
    )
    import_cmd.add_argument("--model", required=True, choices=models)
    import_cmd.add_argument(
        "--checkpoint", required=True, type=Path, help="detoxify's released .ckpt file"
    )
    import_cmd.add_argument(
        "--hf", required=True, type=Path, help="the base model's config.json and tokenizer files"
    )
    import_cmd.add_argument("--dir", required=True, type=Path, help="the model directory root")
    import_cmd.set_defaults(run=_import)

    check_cmd = commands.add_parser(
        "check", help="verify a model directory, load it and score one sentence"
    )
    check_cmd.add_argument(
        "--model", choices=models, help="default: MODERATOR_TOXICITY_MODEL (multilingual)"
    )
    check_cmd.add_argument("--dir", type=Path, help="default: MODERATOR_MODEL_DIR")
    check_cmd.add_argument(
        "--runtime",
        choices=RUNTIMES,
        help="default: MODERATOR_TOXICITY_RUNTIME (auto); onnx and cascade (and auto, where "
        "<dir> is writable) export the model into <dir>/<model>/onnx/ first if it is not there "
        "yet (about a minute, a few GB of memory, in a process of its own), cascade also its "
        "int8 copy",
    )
    check_cmd.set_defaults(run=_check)

    manifest_cmd = commands.add_parser(
        "manifest", help="write the manifest of a language model directory (LANG=DIR)"
    )
    manifest_cmd.add_argument(
        "--dir", required=True, type=Path, help="what save_pretrained wrote, copied in"
    )
    manifest_cmd.set_defaults(run=_manifest)

    language_cmd = commands.add_parser(
        "check-language", help="verify language model directories, load them, score a sentence"
    )
    language_cmd.add_argument(
        "--dir", type=Path, help="default: every directory of MODERATOR_LANGUAGE_MODELS"
    )
    language_cmd.set_defaults(run=_check_language)
    return parser


def _download(args: argparse.Namespace) -> int:
    directory = download(args.model, args.dir, timeout_s=args.timeout)
    return _written(args.model, args.dir, directory)


def _import(args: argparse.Namespace) -> int:
    if not args.checkpoint.is_file():
        raise ModelUnavailable(f"{args.checkpoint}: no such file (the detoxify checkpoint)")
    if not args.hf.is_dir():
        raise ModelUnavailable(f"{args.hf}: no such directory (config.json and tokenizer files)")
    args.dir.mkdir(parents=True, exist_ok=True)
    directory = modeldir.write_layout(
        args.dir, args.model, checkpoint=args.checkpoint, hf_dir=args.hf
    )
    return _written(args.model, args.dir, directory)


def _written(model_type: str, root: Path, directory: Path) -> int:
    manifest = modeldir.verify(root, model_type)
    print(f"wrote {directory}")
    print(f"checkpoint sha256: {manifest.checkpoint_sha256}")
    print(f"check it with: moderator models check --model {model_type} --dir {root}")
    print(f"workers use it with MODERATOR_MODEL_DIR={root} MODERATOR_TOXICITY_MODEL={model_type}")
    return 0


def _check(args: argparse.Namespace) -> int:
    settings = entry.start(
        "moderator models",
        service="moderator-models",
        stream=sys.stderr,
        cache=False,  # one short command: nothing to gain, and main() may run in-process
    )
    if settings is None:
        return entry.CONFIG_ERROR
    model_type: str = args.model or settings.toxicity_model
    root = args.dir if args.dir is not None else settings.model_dir
    if root is None:
        print(
            "moderator models: no model directory: pass --dir or set MODERATOR_MODEL_DIR",
            file=sys.stderr,
        )
        return 2
    runtime: str = args.runtime or settings.toxicity_runtime
    # Every sha256 against the manifest, the checkpoint's included (a worker starting
    # from the ONNX export skips it), before anything is unpickled or loaded.
    modeldir.verify(Path(root), model_type)
    scorer = load_scorer(model_type, str(root), runtime=runtime)
    [scores] = scorer.score([CHECK_SENTENCE])
    print(f"model: {scorer.info.name}")
    print(f"directory: {Path(root) / model_type}")
    if runtime_of(scorer) != "torch":
        print(f"runtime: {runtime_of(scorer)}")
        print(f"onnx export: {onnx_file(Path(root) / model_type)}")
    print(f"checkpoint sha256: {scorer.info.checkpoint_sha256}")
    print(f"sentence: {CHECK_SENTENCE}")
    print("scores:")
    width = max(map(len, scores))
    for label, value in scores.items():
        print(f"  {label:<{width}}  {value:.4f}")
    return 0


def _manifest(args: argparse.Namespace) -> int:
    directory: Path = args.dir
    labels = config_label_map(directory)  # config.json alone: nothing is unpickled
    manifest = language_dir.write_manifest(directory)
    print(f"wrote {directory / modeldir.MANIFEST} ({len(manifest.files)} files)")
    print(f"weights sha256: {manifest.weights_sha256}")
    _print_labels(labels)
    print(f"check it with: moderator models check-language --dir {directory}")
    print(f"workers use it with MODERATOR_LANGUAGE_MODELS=<language>={directory}")
    return 0


def _check_language(args: argparse.Namespace) -> int:
    settings = entry.start(
        "moderator models", service="moderator-models", stream=sys.stderr, cache=False
    )
    if settings is None:
        return entry.CONFIG_ERROR
    given = [str(args.dir)] if args.dir is not None else [d for _, d in settings.language_models]
    if not given:
        print(
            "moderator models: no language model: pass --dir or set MODERATOR_LANGUAGE_MODELS",
            file=sys.stderr,
        )
        return 2
    for directory in dict.fromkeys(given):  # each once, in order
        scorer = load_model(Path(directory))
        [scores] = scorer.score([LANGUAGE_CHECK_SENTENCE])
        print(f"model: {scorer.info.name}")
        print(f"directory: {directory}")
        print(f"weights sha256: {scorer.info.checkpoint_sha256}")
        _print_labels(scorer.label_map)
        print(f"sentence: {LANGUAGE_CHECK_SENTENCE}")
        print("scores:")
        for label, value in scores.items():
            print(f"  {label:<16}  {value:.4f}")
    return 0


def _print_labels(labels: LabelMap) -> None:
    kind = "multi-label, a sigmoid per output" if labels.multi_label else "single-label, softmax"
    print(f"labels ({kind}):")
    for name, label in zip(labels.names, labels.outputs, strict=True):
        print(f"  {name} -> {label or '(not toxic: dropped)'}")


def download(model_type: str, root: Path, *, timeout_s: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Fetch `model_type`'s checkpoint and its base model's config and tokenizer files,
    lay out `<root>/<model_type>` and return it. Every network wait is bounded by
    `timeout_s`; without network this fails at once with ModelUnavailable."""
    from detoxify.detoxify import MODEL_URLS

    if model_type not in MODEL_URLS:
        raise ModelUnavailable(f"unknown model type {model_type!r}, expected one of {MODEL_URLS}")
    url = MODEL_URLS[model_type]
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{model_type}.download-", dir=root) as scratch:
        checkpoint = Path(scratch) / url.rsplit("/", 1)[-1]
        fetch(url, checkpoint, timeout_s=timeout_s)
        base_model = _base_model(checkpoint)
        hf_dir = Path(scratch) / modeldir.HF_DIR
        _fetch_hf_files(model_type, base_model, hf_dir, timeout_s=timeout_s)
        return modeldir.write_layout(root, model_type, checkpoint=checkpoint, hf_dir=hf_dir)


def fetch(url: str, destination: Path, *, timeout_s: float) -> None:
    """Download `url` (https only) to `destination`, checking the sha256 prefix its name
    carries, if any. Raises ModelUnavailable saying how to do without the network."""
    if not url.startswith("https://"):
        raise ModelUnavailable(f"refusing to download {url}: not an https URL")
    print(f"downloading {url}", file=sys.stderr, flush=True)
    request = urllib.request.Request(url, headers={"User-Agent": "moderator-models"})  # noqa: S310
    digest = hashlib.sha256()
    try:
        with (
            urllib.request.urlopen(request, timeout=timeout_s) as response,  # noqa: S310
            destination.open("wb") as out,
        ):
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except (OSError, http.client.HTTPException) as exc:
        raise ModelUnavailable(
            f"could not download {url} ({type(exc).__name__}: {exc}); on a server without "
            f"internet, fetch it and the base model's config and tokenizer files elsewhere, "
            f"then run `moderator models import --checkpoint FILE --hf DIR`"
        ) from exc
    expected = _HASH_PREFIX.search(url.rsplit("/", 1)[-1])
    if expected and not digest.hexdigest().startswith(expected.group(1)):
        raise ModelUnavailable(
            f"{url}: the downloaded file's sha256 {digest.hexdigest()} does not start with "
            f"{expected.group(1)} as its name says; download it again"
        )


def _base_model(checkpoint: Path) -> str:
    """The base model's name, from the checkpoint's config (read with weights_only)."""
    base_model, _ = modeldir._checkpoint_arch(checkpoint)
    return base_model


def _fetch_hf_files(
    model_type: str, base_model: str, destination: Path, *, timeout_s: float
) -> None:
    """Save `base_model`'s config and tokenizer files (tokenizer.json included) into
    `destination`, through a throw-away hub cache beside it: nothing is left in ~/.cache."""
    from huggingface_hub import constants

    cache = destination.parent / "hub"

    # Read at each request, so they apply even though huggingface_hub is imported.
    constants.HF_HUB_ETAG_TIMEOUT = max(1, round(timeout_s))
    constants.HF_HUB_DOWNLOAD_TIMEOUT = max(1, round(timeout_s))
    print(f"downloading {base_model}'s config and tokenizer", file=sys.stderr, flush=True)
    try:
        from transformers import AutoConfig, AutoTokenizer

        config = AutoConfig.from_pretrained(base_model, cache_dir=str(cache))
        tokenizer = AutoTokenizer.from_pretrained(base_model, cache_dir=str(cache))
    except Exception as exc:  # whatever the hub client raises: say what to do instead
        raise ModelUnavailable(
            f"could not download {base_model}'s config and tokenizer "
            f"({type(exc).__name__}: {exc}); {modeldir.how_to(model_type)}"
        ) from exc
    config.save_pretrained(destination)
    tokenizer.save_pretrained(destination)


if __name__ == "__main__":
    raise SystemExit(main())
