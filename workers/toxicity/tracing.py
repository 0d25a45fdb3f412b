"""A detoxify model traced into an ONNX graph by torch's exporter.

`trace` is shared by both ways the export is made (`workers.toxicity.exporting`): the
loaded model with its weights, or its architecture with weights as graph inputs
(`workers.toxicity.streamed_export`). torch is imported by the function.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

OPSET: Final = 17


def trace(model: Any, path: Path, *, weights: bool = True) -> None:
    """`model`'s logits as an ONNX graph, from batches of any size and length; without
    `weights`, the weights are inputs of the graph named as in `model` under `model.`
    (`workers.toxicity.streamed_export` makes them its initializers): traced as inputs,
    not as the model's parameters, which the exporter's shape inference would write out
    whole (2.4 GB for XLM-R base, of weights that are one number each).

    Traced on two rows, the second padded, so that the attention mask is traced as an
    input rather than as all ones; with eager attention, plain operators that export
    cleanly.
    The model's attention implementation and training flag are put back after."""
    import torch

    names = [name for name, _ in model.named_parameters()] if not weights else []

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if weights:
                self.model = model  # a submodule: its weights are exported as weights

        def forward(self, input_ids: Any, attention_mask: Any, *values: Any) -> Any:
            # Without `weights`, `values` are the model's own parameters: the tracer,
            # which knows each tensor it was given, reads them as these inputs.
            return model(input_ids=input_ids, attention_mask=attention_mask).logits

    ids = torch.full((2, 8), model.config.pad_token_id or 0, dtype=torch.long)
    ids[0, :], ids[1, :5] = torch.arange(5, 13), torch.arange(5, 10)
    mask = (torch.arange(8) < torch.tensor([[8], [5]])).long()
    values = tuple(dict(model.named_parameters())[name] for name in names)
    attention, training = model.config._attn_implementation, model.training
    model.set_attn_implementation("eager")
    model.eval()
    try:
        with _quiet():
            torch.onnx.export(
                # In eval mode: the exporter puts back the flag of the module it is given,
                # and with it its submodules', the model's included.
                Logits().eval(),
                (ids, mask, *values),
                str(path),
                dynamo=False,
                opset_version=OPSET,
                input_names=["input_ids", "attention_mask", *(f"model.{n}" for n in names)],
                output_names=["logits"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "sequence"},
                    "attention_mask": {0: "batch", 1: "sequence"},
                    "logits": {0: "batch"},
                },
            )
    finally:
        model.set_attn_implementation(attention)
        model.train(training)


@contextmanager
def _quiet() -> Iterator[None]:
    """Without the exporter's warnings (deprecation, tracing, opset notes: about code
    paths the tests check), which would land in a worker's log."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
