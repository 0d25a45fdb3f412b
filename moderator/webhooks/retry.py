"""When a failed webhook delivery is tried again, and when it is given up on."""

from __future__ import annotations

import random
from dataclasses import dataclass

RETRY_BASE_S = 1.0  # first retry after about a second, then 2 s, 4 s, …
RETRY_CAP_S = 600.0  # … every 10 minutes at most
GIVE_UP_AFTER_S = 24 * 3600  # then give up after about a day of attempts


def _attempts_within(total_s: float, base_s: float, cap_s: float) -> int:
    """How many attempts the nominal backoff makes before `total_s` have passed."""
    attempts, elapsed = 1, 0.0
    while elapsed < total_s:
        elapsed += min(cap_s, base_s * 2.0 ** min(attempts - 1, 30))
        attempts += 1
    return attempts


MAX_ATTEMPTS = _attempts_within(GIVE_UP_AFTER_S, RETRY_BASE_S, RETRY_CAP_S)  # 154


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with ±`jitter`, capped; give up after `max_attempts`."""

    base_s: float = RETRY_BASE_S
    cap_s: float = RETRY_CAP_S
    max_attempts: int = MAX_ATTEMPTS
    jitter: float = 0.2

    def delay_s(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1 for the first)."""
        nominal = min(self.cap_s, self.base_s * 2.0 ** min(attempt - 1, 30))
        return nominal * random.uniform(1 - self.jitter, 1 + self.jitter)  # noqa: S311
