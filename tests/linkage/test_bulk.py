"""Bulk linkage on hand-made records: the clusters, the hub rule, untrusted clusters."""

from __future__ import annotations

import pathlib

import pytest
from django.conf import settings
from splink import DuckDBAPI, Linker

from contactpoint.linkage import bulk, comparisons, inputs, store, training
from contactpoint.linkage.inputs import feed_records, feed_table
from contactpoint.linkage.realtime import eligible
from contactpoint.linkage.records import LinkRecord, as_table, from_canonical
from contactpoint.linkage.scorer import Scorer
from contactpoint.synth.generate import generate

TWIN = {
    "family_name": "Hartley",
    "date_of_birth": "2015-03-04",
    "sex": "F",
    "postcode": "NW1 3AB",
}


def _record(unique_id: str, **values: str) -> LinkRecord:
    return from_canonical(unique_id, {**TWIN, **values})


def _link(records: list[LinkRecord]) -> bulk.BulkResult:
    return bulk.link(records, store.bootstrap_model(), store.DEFAULT_UPPER, store.DEFAULT_LOWER)


def test_records_of_one_child_cluster_and_twins_stay_apart() -> None:
    result = _link(
        [
            _record("a1", given_name="Amelia", nhs_number="4010232137"),
            _record("a2", given_name="Millie"),  # a nickname, no identifier
            _record("b1", given_name="Isla", nhs_number="4010232145"),
            _record("b2", given_name="Isla", upn="Z801234567890"),
        ]
    )
    c = result.clusters
    assert c["a1"] == c["a2"] and c["b1"] == c["b2"] and c["a1"] != c["b1"]
    assert result.untrusted == set()


def test_a_nameless_record_beside_twins_joins_neither() -> None:
    result = _link(
        [
            _record("a1", given_name="Amelia", nhs_number="4010232137"),
            _record("b1", given_name="Isla", nhs_number="4010232145"),
            _record("x", given_name="Baby"),  # strongly like both twins
        ]
    )
    c = result.clusters
    assert len({c["a1"], c["b1"], c["x"]}) == 3
    assert result.hubs == {"x"}
    assert {frozenset((a, b)) for a, b, _ in result.review} >= {
        frozenset(("x", "a1")),
        frozenset(("x", "b1")),
    }


def test_records_no_rule_pairs_stay_apart_with_nothing_to_score() -> None:
    """No blocked pair at all: no share of pairs is written, and each record is a child."""
    result = _link(
        [
            _record("a1", given_name="Amelia", nhs_number="4010232137"),
            from_canonical("z1", {"given_name": "Oscar", "family_name": "Quint"}),
        ]
    )
    assert result.comparisons == 0
    assert result.clusters == {"a1": "a1", "z1": "z1"} and result.review == []


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("bulk") / "feeds"
    generate(children=400, seed=5, out=out, workers=1, shard_size=150)
    return out


def test_the_parallel_reader_gives_the_same_table(
    folder: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = as_table(feed_records(folder))
    monkeypatch.setattr(inputs, "BLOCK", 97)  # many blocks per file, shared by two workers
    assert feed_table(folder, workers=2).equals(one)
    assert feed_table(folder, workers=3).equals(one)
    assert one.num_rows > 900


def test_bulk_eligibility_is_the_real_time_rule_on_every_scored_pair(
    folder: pathlib.Path,
) -> None:
    """The SQL that bulk linkage applies over Splink's weights (bulk._eligible_sql) and
    realtime.eligible over the scorer's levels must agree, or the two paths would link
    differently."""
    model = store.bootstrap_model()
    scorer = Scorer(model)
    records = list(feed_records(folder))
    by_id = {r.unique_id: r for r in records}
    con = training.connect()
    frame = DuckDBAPI(con).register(as_table(records), dataset_display_name="records")
    linker = Linker(frame, {**model, "retain_intermediate_calculation_columns": True})
    for column in comparisons.TF_COLUMNS:
        linker.table_management.compute_tf_table(column)
    name = linker.inference.predict().physical_name
    rule, table = bulk._eligible_sql(scorer), frame.physical_name
    query = (
        f"SELECT unique_id_l, unique_id_r, {rule} FROM {name} p "  # noqa: S608 (ours)
        f"JOIN {table} a ON a.unique_id = p.unique_id_l "
        f"JOIN {table} b ON b.unique_id = p.unique_id_r"
    )
    rows = con.execute(query).fetchall()
    verdicts = [
        (bool(ok), eligible(by_id[left], by_id[right], scorer.score(by_id[left], by_id[right])))
        for left, right, ok in rows
    ]
    assert len(verdicts) > 500
    assert {sql for sql, _ in verdicts} == {True, False}  # both outcomes are exercised
    assert all(sql == python for sql, python in verdicts)


def test_scoring_a_share_of_the_pairs_at_a_time_links_the_same(folder: pathlib.Path) -> None:
    """Splink's scored pairs exist for one step at a time (bulk.CHUNK blocked pairs);
    however many steps, the clusters and the pairs for review are the same."""
    model = store.bootstrap_model()
    table = feed_table(folder, workers=1)

    lines: list[str] = []

    def run(chunk: int) -> bulk.BulkResult:
        return bulk.link(
            table, model, store.DEFAULT_UPPER, store.DEFAULT_LOWER, lines.append, chunk=chunk
        )

    whole = run(bulk.CHUNK)
    assert not any("scored step" in line for line in lines)  # one step
    steps = run(97)
    assert any("scored step 3 of" in line for line in lines)  # several steps
    assert steps.clusters == whole.clusters
    assert sorted(steps.review) == sorted(whole.review)
    assert (steps.hubs, steps.untrusted, steps.comparisons) == (
        whole.hubs,
        whole.untrusted,
        whole.comparisons,
    )
    assert whole.cluster_count == len(set(whole.clusters.values())) < table.num_rows
    assert whole.review  # the population has pairs for review, so they are compared
    # The shares of pairs written beside DuckDB's spill files are gone.
    assert not list((pathlib.Path(settings.DATA_DIR) / "linkage-spill").iterdir())
