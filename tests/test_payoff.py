"""When the cascade's int8 pass stops paying for itself (`workers.toxicity.payoff`):
timings are given, not measured, so these hold on any machine."""

from __future__ import annotations

from workers.toxicity.payoff import PROBE_EVERY, Payoff


def test_int8_first_until_both_passes_have_been_timed() -> None:
    payoff = Payoff()
    assert payoff.through_int8() and payoff.break_even is None
    payoff.saw_int8(1.0, 1000, share=1.0)  # everything went back, fp32 not yet timed
    assert payoff.through_int8()


def test_above_the_break_even_batches_go_to_fp32_alone_and_int8_is_probed() -> None:
    """int8 at a third of fp32's time per token pays while under two thirds go back."""
    payoff = Payoff()
    payoff.saw_fp32(3.0, 1000)
    for _ in range(20):
        payoff.saw_int8(1.0, 1000, share=0.9)
    assert payoff.break_even is not None and abs(payoff.break_even - 2 / 3) < 1e-9
    turns = [payoff.through_int8() for _ in range(3 * (PROBE_EVERY + 1))]
    assert turns.count(True) == 3  # one probe in every PROBE_EVERY + 1 batches
    assert turns[PROBE_EVERY] and not any(turns[:PROBE_EVERY])


def test_the_traffic_coming_back_under_the_break_even_brings_int8_back() -> None:
    payoff = Payoff()
    payoff.saw_fp32(3.0, 1000)
    for _ in range(20):
        payoff.saw_int8(1.0, 1000, share=0.9)
    for _ in range(20):  # the probes see a calmer traffic
        payoff.saw_int8(1.0, 1000, share=0.1)
    assert payoff.share < 0.2
    assert all(payoff.through_int8() for _ in range(2 * PROBE_EVERY))


def test_a_share_under_the_break_even_keeps_the_cascade() -> None:
    payoff = Payoff()
    payoff.saw_fp32(3.0, 1000)
    for _ in range(50):
        payoff.saw_int8(1.0, 1000, share=0.5)
    assert all(payoff.through_int8() for _ in range(3 * PROBE_EVERY))
