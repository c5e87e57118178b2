"""Pairwise precision and recall, worked by hand."""

from __future__ import annotations

from pathlib import Path

from contactpoint.linkage.evaluate import evaluate, pair_counts, read_truth

TRUTH = {("s", "1"): "A", ("s", "2"): "A", ("s", "3"): "A", ("s", "4"): "B", ("t", "5"): "B"}


def test_a_perfect_clustering_scores_one() -> None:
    counts = pair_counts(TRUTH, TRUTH)
    # A has 3 records (3 pairs), B has 2 (1 pair).
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
    linked = {
        ("s", "1"): "c1",
        ("s", "2"): "c1",
        ("s", "3"): None,
        ("s", "4"): "c2",
        ("t", "5"): None,
    }
    result = evaluate(TRUTH, linked)
    assert (result.counts.true_positive, result.counts.predicted) == (1, 1)
    assert result.waiting == 2 and result.by_source["t"].waiting == 1
    assert result.as_dict()["waiting_share"] == 0.4


def test_records_in_the_truth_but_not_loaded_are_counted(tmp_path: Path) -> None:
    truth_file = tmp_path / "truth.csv"
    truth_file.write_text("source,record_id,child_key\ns,1,A\ns,2,A\n")
    truth = read_truth(truth_file)
    assert truth == {("s", "1"): "A", ("s", "2"): "A"}
    assert evaluate(truth, {("s", "1"): "c"}).missing == 1
