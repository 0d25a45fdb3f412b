"""Whether the cascade's int8 pass pays for itself on the comments it is given.

The cascade (`workers.toxicity.cascade`) scores every comment in int8, then again in
fp32 those near a threshold. Per token, int8 costs a share `c` of fp32 (about 0.35 on
the full-size model here), so a batch costs `c + s` of fp32 alone when a share `s` of
it goes back: the int8 pass pays while `s < 1 - c`. On traffic where most comments
sit near a threshold (the bench's `straddle` shape: 97% sent back) it does not, and
the cascade ran slower than ONNX Runtime fp32 alone (1.08× against 1.45× the
baseline). `Payoff` keeps moving averages of `s` and of both passes' time per token;
while `s` is above the break-even, batches go to fp32 alone, and every PROBE_EVERY-th
still goes through int8 first, so that the average follows the traffic back. Either
way the decisions are fp32's; only the time spent changes, and each score's path
(`fp32` when scored in fp32 alone) says which.
"""

from __future__ import annotations

from typing import Final

PROBE_EVERY: Final = 8  # batches sent to fp32 alone between two through int8
WEIGHT: Final = 0.2  # of the latest batch in each moving average


class Payoff:
    """The moving averages of the share sent back and of each pass's seconds per token."""

    def __init__(self) -> None:
        self.share = 0.0  # of comments sent back to fp32, per batch through int8
        self.int8: float | None = None  # seconds per token
        self.fp32: float | None = None
        self._skipped = 0

    @property
    def break_even(self) -> float | None:
        """The share sent back above which int8 first costs more than fp32 alone."""
        if self.int8 is None or self.fp32 is None:
            return None
        return 1.0 - self.int8 / self.fp32

    def through_int8(self) -> bool:
        """Whether the next batch goes through int8 first."""
        even = self.break_even
        if even is None or self.share <= even:
            self._skipped = 0
            return True
        self._skipped += 1
        if self._skipped > PROBE_EVERY:
            self._skipped = 0
            return True
        return False

    def saw_int8(self, seconds: float, tokens: int, share: float) -> None:
        """A batch went through int8 (`tokens` in `seconds`); `share` of it went back."""
        self.share += WEIGHT * (share - self.share)
        self.int8 = _moved(self.int8, seconds, tokens)

    def saw_fp32(self, seconds: float, tokens: int) -> None:
        """`tokens` were scored in fp32 in `seconds`."""
        self.fp32 = _moved(self.fp32, seconds, tokens)


def _moved(average: float | None, seconds: float, tokens: int) -> float | None:
    if tokens <= 0:
        return average
    latest = seconds / tokens
    return latest if average is None else average + WEIGHT * (latest - average)
