"""Baselines beside the registry: Splink 5's own link_only pipeline and recordlinkage's ECM.

Both read the same CSVs the registry loads, with the same light preparation anyone would
do (lower case, spaces squeezed, the date read with the file's own format, the postcode
in upper case with one space); neither sees the truth until the pairs are counted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from contactpoint.corrupt.export import Written, read_source

Record = dict[str, Any]
PREDICT_BLOCKS = ("given_name", "family_name", "date_of_birth", "postcode")


def standard_records(data: Written) -> list[Record]:
    """Every row of every file, prepared for the baselines, with its true person."""
    truth: dict[tuple[str, str], str] = {}
    with data.truth.open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            code, record_id, person = line.rstrip("\n").split(",")
            truth[(code, record_id)] = person
    records = []
    for source in data.sources:
        for row in read_source(source):
            record = _prepared(row, source.layout.date_format)
            record["unique_id"] = f"{source.code}|{row['record_id']}"
            record["source"] = source.code
            record["person"] = truth[(source.code, row["record_id"])]
            records.append(record)
    return records


def _prepared(row: dict[str, str], date_format: str) -> Record:
    def text(value: str) -> str | None:
        return " ".join(value.lower().split()) or None

    try:
        born: str | None = (
            dt.datetime.strptime(row["date_of_birth"], date_format).date().isoformat()
        )
    except ValueError:
        born = None
    postcode = "".join(row["postcode"].upper().split())
    address = " ".join(v for v in (row["address_line1"], row["address_line2"]) if v)
    return {
        "given_name": text(row["given_name"]),
        "family_name": text(row["family_name"]),
        "date_of_birth": born,
        "address": text(address),
        "town": text(row["town"]),
        "postcode": f"{postcode[:-3]} {postcode[-3:]}" if len(postcode) > 4 else None,
        "local_id": row.get("local_id") or None,
    }


def _comparisons(fields: Sequence[str]) -> list[Any]:
    library: dict[str, Any] = {
        "given_name": cl.NameComparison("given_name"),
        "family_name": cl.NameComparison("family_name"),
        "date_of_birth": cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
        "address": cl.JaroWinklerAtThresholds("address", [0.95, 0.88]),
        "town": cl.ExactMatch("town").configure(term_frequency_adjustments=True),
        "postcode": cl.PostcodeComparison("postcode"),
        "local_id": cl.ExactMatch("local_id"),
    }
    return [library[f] for f in fields]


def splink_link(
    records: list[Record], fields: Sequence[str], thresholds: Sequence[float]
) -> dict[float, dict[str, Any]]:
    """Splink's link_only pipeline, EM-trained on these records; clusters at each threshold.

    Returns:
        threshold -> unique_id -> cluster id.
    """
    logging.getLogger("splink").setLevel(logging.ERROR)
    db_api = DuckDBAPI(duckdb.connect(":memory:"))
    columns = ["unique_id", *fields]
    frames = [
        db_api.register(
            pa.Table.from_pylist([{c: r[c] for c in columns} for r in records if r["source"] == s]),
            dataset_display_name=s,
        )
        for s in sorted({r["source"] for r in records})
    ]
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=_comparisons(fields),
        blocking_rules_to_generate_predictions=[block_on(f) for f in PREDICT_BLOCKS],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(frames, settings, log_level=None)
    _train(linker)
    predictions = linker.inference.predict(threshold_match_probability=0.01)
    clusters = {}
    for t in thresholds:
        frame = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, t)
        clusters[t] = {r["unique_id"]: r["cluster_id"] for r in frame.as_record_list()}
    return clusters


def _train(linker: Linker) -> None:
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("given_name", "family_name", "date_of_birth"),
            block_on("family_name", "date_of_birth", "postcode"),
        ],
        recall=0.7,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    for rule in (
        block_on("date_of_birth"),
        block_on("family_name"),
        block_on("given_name", "postcode"),
    ):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)


def pairwise_of_clusters(records: list[Record], clusters: dict[str, Any]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of clusters over every record (missing: alone)."""
    both: Counter[tuple[Any, str]] = Counter()
    for r in records:
        both[(clusters.get(r["unique_id"], ("alone", r["unique_id"])), r["person"])] += 1
    predicted: Counter[Any] = Counter()
    actual: Counter[str] = Counter()
    for (cluster, person), n in both.items():
        predicted[cluster] += n
        actual[person] += n
    return _prf(_pairs(both), _pairs(predicted), _pairs(actual))


def _pairs(counts: Counter[Any]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def _prf(tp: int, predicted: int, actual: int) -> dict[str, float]:
    p = tp / predicted if predicted else 1.0
    r = tp / actual if actual else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def ecm(records: list[Record], fields: Sequence[str]) -> dict[str, float]:
    """recordlinkage's ECM classifier on binary agreement of the same fields and blocks.

    Names and addresses agree at Jaro-Winkler 0.85 or more, the rest exactly; a pair is a
    link when ECM says so. Precision and recall are over the linked pairs themselves.
    """
    import pandas as pd  # type: ignore[import-untyped]
    import recordlinkage  # type: ignore[import-untyped]

    sources = sorted({r["source"] for r in records})
    a, b = (
        pd.DataFrame([r for r in records if r["source"] == s]).set_index("unique_id")
        for s in sources
    )
    indexer = recordlinkage.Index()
    for f in PREDICT_BLOCKS:
        indexer.block(f)
    pairs = indexer.index(a, b)
    compare = recordlinkage.Compare()
    for f in fields:
        if f in ("given_name", "family_name", "address"):
            compare.string(f, f, method="jarowinkler", threshold=0.85, label=f)
        else:
            compare.exact(f, f, label=f)
    features = compare.compute(pairs, a, b)
    links = recordlinkage.ECMClassifier(binarize=None).fit_predict(features)
    person = {r["unique_id"]: r["person"] for r in records}
    tp = sum(person[x] == person[y] for x, y in links)
    actual = _pairs(Counter(person.values()))
    return _prf(tp, len(links), actual)
