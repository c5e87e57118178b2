"""Pairwise precision and recall, the review band, sources and age bands, worked by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from contactpoint.linkage.evaluate import (
    age_band,
    evaluate,
    found_counting_review,
    linked,
    pair_counts,
    read_births,
    read_truth,
    record_bands,
    waiting,
)
from tests.support.feeds import child_row, feed_row, write_feed

# Person A has 3 records (3 true pairs), B has 2 (1 true pair).
TRUTH = {("s", "1"): "A", ("s", "2"): "A", ("s", "3"): "A", ("s", "4"): "B", ("t", "5"): "B"}
AS_AT = dt.date(2026, 11, 25)


def test_a_perfect_clustering_scores_one() -> None:
    counts = pair_counts(TRUTH, TRUTH)
    assert (counts.true_positive, counts.predicted, counts.actual) == (4, 4, 4)
    assert counts.precision == counts.recall == counts.f1 == 1.0


def test_a_wrong_merge_costs_precision_and_a_split_costs_recall() -> None:
    # Records 1-3 right; 4 wrongly merged into A's cluster; 5 left alone.
    predicted = {("s", "1"): 1, ("s", "2"): 1, ("s", "3"): 1, ("s", "4"): 1, ("t", "5"): 2}
    counts = pair_counts(predicted, TRUTH)
    # Predicted pairs: C(4,2) = 6, of which 3 are true (within A); true pairs: 4.
    assert (counts.true_positive, counts.predicted, counts.actual) == (3, 6, 4)
    assert counts.precision == 0.5 and counts.recall == 0.75
    assert abs(counts.f1 - 0.6) < 1e-12


def test_waiting_records_are_singletons_and_counted_by_source() -> None:
    states = {
        ("s", "1"): linked("c1"),
        ("s", "2"): linked("c1"),
        ("s", "3"): waiting(),
        ("s", "4"): linked("c2"),
        ("t", "5"): waiting(),
    }
    result = evaluate(TRUTH, states)
    # Only (1, 2) is predicted, and it is true: precision 1, recall 1/4.
    assert (result.overall.true_positive, result.overall.predicted) == (1, 1)
    assert result.overall.counts.recall == 0.25
    assert result.overall.waiting == 2 and result.by_source["t"].waiting == 1
    assert result.as_dict()["review_share"] == 0.4


def test_a_review_candidate_finds_the_pair_only_when_it_is_the_right_child() -> None:
    # A: 1 linked to c1; 2 waits with c1 among its candidates; 3 waits with only c2.
    states = [linked("c1"), waiting("review_band", ["c1", "c9"]), waiting("several", ["c2"])]
    # (1,2) by rule 2; (1,3) not (c1 is not a candidate of 3); (2,3) share no candidate.
    assert found_counting_review(states) == 1


def test_two_waiting_records_sharing_a_candidate_are_found() -> None:
    states = [waiting("several", ["c7", "c8"]), waiting("review_band", ["c8"]), waiting()]
    # Only the first two share a candidate; a record with no open item has none.
    assert found_counting_review(states) == 1


def test_recall_counting_review_on_one_person_with_six_records() -> None:
    truth = {("s", str(i)): "A" for i in range(1, 7)} | {("t", "9"): "B"}
    states = {
        ("s", "1"): linked("c1"),
        ("s", "2"): linked("c1"),
        ("s", "3"): waiting("review_band", ["c1", "c9"]),  # pairs with 1 and 2
        ("s", "4"): waiting("several", ["c7"]),  # pairs with 5 through c7
        ("s", "5"): waiting("several", ["c7", "c8"]),
        ("s", "6"): waiting(),
        ("t", "9"): linked("c9"),  # c9 is a candidate of 3, but B is someone else
    }
    overall = evaluate(truth, states).overall
    # C(6,2) = 15 true pairs: (1,2) auto-linked; (1,3), (2,3), (4,5) through review.
    assert (overall.actual, overall.true_positive, overall.found_counting_review) == (15, 1, 4)
    assert overall.counts.recall == 1 / 15 and overall.recall_with_review == 4 / 15
    assert overall.counts.precision == 1.0


def test_waiting_records_are_counted_by_reason() -> None:
    states = {
        ("s", "1"): linked("c1"),
        ("s", "2"): waiting("several", ["c1"]),
        ("s", "3"): waiting("several", ["c1"]),
        ("s", "4"): waiting(),
        ("t", "5"): waiting("shielded", ["c2"]),
    }
    assert evaluate(TRUTH, states).reasons == {"several": 2, "none": 1, "shielded": 1}


def test_a_pair_between_two_sources_counts_for_both() -> None:
    # B's one pair is (s4, t5): it counts for s and for t; A's three pairs only for s.
    states = {key: linked(person) for key, person in TRUTH.items()}
    states[("t", "5")] = waiting("review_band", ["B"])
    result = evaluate(TRUTH, states)
    s, t = result.by_source["s"], result.by_source["t"]
    assert (s.records, s.actual, s.true_positive, s.found_counting_review) == (4, 4, 3, 4)
    assert (t.records, t.actual, t.true_positive, t.found_counting_review) == (1, 1, 0, 1)
    assert t.counts.recall == 0.0 and t.recall_with_review == 1.0 and t.review_share == 1.0


def test_a_wrong_merge_across_bands_costs_precision_in_both() -> None:
    bands = {("s", "1"): "0-4", ("s", "2"): "0-4", ("s", "3"): "0-4"}
    bands |= {("s", "4"): "11-15", ("t", "5"): "11-15"}
    # 3 is wrongly linked to B's child: predicted pairs (1,2) in 0-4; (3,4), (3,5), (4,5)
    # touch 11-15, and (3,4), (3,5) touch 0-4 as well.
    states = {("s", "1"): linked(1), ("s", "2"): linked(1)}
    states |= {("s", "3"): linked(2), ("s", "4"): linked(2), ("t", "5"): linked(2)}
    result = evaluate(TRUTH, states, bands, AS_AT)
    young, older = result.by_age_band["0-4"], result.by_age_band["11-15"]
    assert (young.predicted, young.true_positive, young.actual) == (3, 1, 3)
    assert (older.predicted, older.true_positive, older.actual) == (3, 1, 1)
    assert list(result.as_dict()["by_age_band"]) == ["0-4", "11-15"]


@pytest.mark.parametrize(
    ("born", "band"),
    [
        (dt.date(2026, 11, 25), "0-4"),  # born that day: age 0
        (dt.date(2021, 11, 26), "0-4"),  # 5 tomorrow
        (dt.date(2021, 11, 25), "5-10"),  # 5 today
        (dt.date(2015, 11, 26), "5-10"),
        (dt.date(2015, 11, 25), "11-15"),
        (dt.date(2010, 11, 25), "16-17"),
        (dt.date(2008, 11, 25), "18-25"),
        (dt.date(2000, 11, 26), "18-25"),  # 25 until tomorrow
        (dt.date(2000, 11, 25), "outside 0-25"),
        (dt.date(2026, 11, 26), "outside 0-25"),  # not born yet
        (None, "unknown"),
    ],
)
def test_age_bands_are_whole_years_at_the_as_at_date(born: dt.date | None, band: str) -> None:
    assert age_band(born, AS_AT) == band


def test_a_person_is_banded_by_the_birth_date_most_of_their_records_give() -> None:
    truth = {("school_census", "1"): "A", ("child_benefit", "2"): "A"}
    truth |= {("nhs_demographics", "3"): "A", ("child_benefit", "4"): "B"}
    truth |= {("child_benefit", "5"): "C", ("nhs_demographics", "6"): "C"}
    births = {
        # A: two records say 4 years old, one (a slip) says 5.
        ("school_census", "1"): dt.date(2021, 12, 1),
        ("child_benefit", "2"): dt.date(2021, 1, 12),
        ("nhs_demographics", "3"): dt.date(2021, 12, 1),
        # B: no readable date. C: one each way; the NHS feed's date wins the tie.
        ("child_benefit", "5"): dt.date(2010, 1, 1),
        ("nhs_demographics", "6"): dt.date(2020, 1, 1),
    }
    bands = record_bands(truth, births, AS_AT)
    assert {bands[k] for k in truth if truth[k] == "A"} == {"0-4"}
    assert bands[("child_benefit", "4")] == "unknown"
    assert bands[("child_benefit", "5")] == bands[("nhs_demographics", "6")] == "5-10"


def test_birth_dates_are_read_from_the_feeds_for_wanted_records_only(feeds: Path) -> None:
    write_feed(
        feeds,
        "nhs_demographics",
        [
            child_row("N1", date_of_birth="2016-05-05"),
            child_row("N2", date_of_birth="2016-02-30"),  # no such day
            child_row("N3", date_of_birth="2015-01-01"),  # not in the truth
        ],
    )
    write_feed(feeds, "child_benefit", [feed_row(record_id="CB1", date_of_birth="2019-07-01")])
    wanted = [("nhs_demographics", "N1"), ("nhs_demographics", "N2"), ("child_benefit", "CB1")]
    assert read_births(feeds, wanted) == {
        ("nhs_demographics", "N1"): dt.date(2016, 5, 5),
        ("child_benefit", "CB1"): dt.date(2019, 7, 1),
    }


def test_targets_are_reported_met_or_not() -> None:
    states = {key: linked(person) for key, person in TRUTH.items()}
    states[("t", "5")] = waiting()  # 1 of 5 waiting: over the 2% target
    targets = evaluate(TRUTH, states).as_dict()["targets"]
    assert targets["precision"]["met"] is True
    assert targets["review_share"]["met"] is False and targets["review_share"]["value"] == 0.2
    # B's only pair is lost: recall counting review 3/4, under 0.995.
    assert targets["recall_with_review"]["met"] is False


def test_records_in_the_truth_but_not_loaded_are_counted(tmp_path: Path) -> None:
    truth_file = tmp_path / "truth.csv"
    truth_file.write_text("source,record_id,child_key\ns,1,A\ns,2,A\n")
    truth = read_truth(truth_file)
    assert truth == {("s", "1"): "A", ("s", "2"): "A"}
    result = evaluate(truth, {("s", "1"): linked("c")})
    assert result.missing == 1 and result.overall.records == 1
