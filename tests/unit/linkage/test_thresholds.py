"""Thresholds chosen for a target precision from binned predicted pairs, worked by hand."""

from __future__ import annotations

import pytest

from contactpoint.linkage.thresholds import Bin, choose

# 1,000 records. Expected matches per bin = pairs x the probability of a pair there.
BINS = [
    Bin(20.0, 600, 600 * 1.0),
    Bin(10.0, 300, 300 * 0.999),
    Bin(5.0, 100, 100 * 0.97),
    Bin(0.0, 20, 20 * 0.5),
    Bin(-3.0, 10, 10 * 0.1),
    Bin(-10.0, 5000, 5000 * 0.0001),
]
TOTAL = 600 + 299.7 + 97 + 10 + 1 + 0.5


def test_upper_is_the_lowest_weight_meeting_the_precision() -> None:
    chosen = choose(BINS, records=1000, target=0.995, review_budget=0.05)
    # At 5: (600 + 299.7 + 97) / 1000 = 0.9967; at 0: 1006.7 / 1020 = 0.987.
    assert chosen.upper == 5.0
    assert chosen.precision == pytest.approx(996.7 / 1000)
    assert chosen.recall == pytest.approx(996.7 / TOTAL)
    # Review from -3: 30 pairs over 1,000 records = 3% (within 5%); -10 is too unlikely.
    assert chosen.lower == -3.0
    assert chosen.review_share == pytest.approx(0.03)
    assert chosen.recall_with_review == pytest.approx(1007.7 / TOTAL)


def test_a_stricter_target_raises_upper_and_a_small_budget_raises_lower() -> None:
    chosen = choose(BINS, records=1000, target=0.999, review_budget=0.025)
    assert chosen.upper == 10.0  # 899.7 / 900 = 0.99967
    # Between 10 and 5: 100 pairs (10%) is over 2.5%, so review starts at upper.
    assert chosen.lower == 10.0
    assert chosen.review_share == 0.0


def test_peoples_decisions_raise_upper_above_a_pair_they_found_wrong() -> None:
    labelled = [(7.3, False), (6.0, True), (12.0, True)]
    chosen = choose(BINS, records=1000, target=0.995, review_budget=0.05, labelled=labelled)
    assert chosen.labelled == 3
    assert chosen.labelled_upper == pytest.approx(7.4)
    assert chosen.upper == pytest.approx(7.4)


def test_decisions_that_agree_leave_the_model_estimate() -> None:
    labelled = [(4.0, True), (2.0, True), (-1.0, False)]
    chosen = choose(BINS, records=1000, target=0.995, review_budget=0.05, labelled=labelled)
    assert chosen.labelled_upper == pytest.approx(-0.9)  # just above the one miss
    assert chosen.upper == 5.0


def test_upper_never_links_pairs_the_model_itself_doubts() -> None:
    # 1,000 certain pairs hide ten coin flips at weight 0: 1005 / 1010 = 0.995 on average,
    # but a pair at 0 is one child only half the time. From 4.3, p >= 0.95.
    bins = [Bin(20.0, 1000, 1000.0), Bin(0.0, 10, 5.0)]
    chosen = choose(bins, records=2000, target=0.99, review_budget=0.01)
    assert chosen.upper == pytest.approx(4.3)
    assert chosen.lower == 0.0 and chosen.review_share == pytest.approx(10 / 2000)
