"""The review pages' words and waterfall, worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from contactpoint.linkage.review import CandidateView
from contactpoint.web.views.linkage.words import BAR_WIDTH, age_words, level_words, waterfall


def candidate(weight: float, parts: tuple[tuple[str, str, float], ...]) -> CandidateView:
    return CandidateView(1, False, False, "CP-1", "active", weight, parts, None)


def test_the_waterfall_starts_at_the_prior_and_ends_at_the_weight() -> None:
    # prior = 6 - (8 - 4) = 2; totals 2, 10, 6: the scale runs 0..10, 24 px a bit.
    parts = (("family_name", "family_name equal", 8.0), ("dob", "all other comparisons", -4.0))
    steps = waterfall(candidate(6.0, parts))
    assert [(s.bits, s.total) for s in steps] == [(2.0, 2.0), (8.0, 10.0), (-4.0, 6.0)]
    assert [(s.x, s.width, s.adds) for s in steps] == [
        (0.0, 48.0, True),
        (48.0, 192.0, True),
        (144.0, 96.0, False),
    ]
    assert [(s.what, s.result) for s in steps[1:]] == [
        ("Family name", "the same"),
        ("Date of birth", "different"),
    ]
    assert max(s.x + s.width for s in steps) == BAR_WIDTH


def test_a_negative_prior_draws_left_of_zero() -> None:
    steps = waterfall(candidate(-1.0, (("sex", "sex equal", 1.0),)))
    assert [(s.bits, s.total) for s in steps] == [(-2.0, -2.0), (1.0, -1.0)]
    assert steps[0].x == 0.0 and steps[0].width == BAR_WIDTH  # from zero (right) to -2 (left)


def test_a_withheld_candidate_has_no_waterfall() -> None:
    assert waterfall(CandidateView(1, True, False, None, None, None, (), None)) == []


@pytest.mark.parametrize(
    ("name", "label", "words"),
    [
        ("given_name", "given_name one edit apart", "one edit apart"),
        ("postcode", "postcode missing", "missing from one or both"),
        ("dob", "dob day and month swapped", "day and month swapped"),
    ],
)
def test_level_words(name: str, label: str, words: str) -> None:
    assert level_words(name, label) == words


def test_age_words() -> None:
    assert age_words(dt.timedelta(minutes=5)) == "5 minutes"
    assert age_words(dt.timedelta(hours=1)) == "1 hour"
    assert age_words(dt.timedelta(days=3, hours=2)) == "3 days"
