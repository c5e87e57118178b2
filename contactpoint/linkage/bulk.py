"""Bulk linkage with Splink: every record against every other, in one in-memory DuckDB.

Splink scores the pairs the blocking rules find (comparisons.BLOCKING_RULES); pairs at or
above the upper threshold that are `eligible` (not twin-like, no two different valid
identifiers, the same rules as real-time matching) join records into clusters; a cluster
holding two different valid NHS numbers or UPNs is not trusted and goes to review whole.
Pairs between the thresholds, and strong but ineligible pairs, become review candidates.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from splink import DuckDBAPI, Linker
from splink.blocking_analysis import count_comparisons_from_blocking_rules

from contactpoint.linkage import comparisons, training
from contactpoint.linkage.records import LinkRecord
from contactpoint.linkage.scorer import Scorer

Progress = Callable[[str], None]


@dataclass
class BlockingReport:
    records: int
    by_rule: list[tuple[str, int]]  # rule, pairs it adds beyond the rules before it

    @property
    def comparisons(self) -> int:
        return sum(n for _, n in self.by_rule)

    @property
    def per_record(self) -> float:
        return self.comparisons / self.records if self.records else 0.0


@dataclass
class BulkResult:
    records: int
    comparisons: int
    clusters: dict[str, str]  # record id to its cluster (the smallest record id in it)
    review: list[tuple[str, str, float]] = field(default_factory=list)
    untrusted: set[str] = field(default_factory=set)  # clusters with conflicting ids
    seconds: dict[str, float] = field(default_factory=dict)


class _Clusters:
    """Union-find over record ids."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.parent = {i: i for i in ids}

    def find(self, i: str) -> str:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _eligible_sql(scorer: Scorer) -> str:
    """SQL for realtime.eligible over Splink's predictions.

    Splink 5 keeps each comparison's match weight (mw_<name>) rather than its level, so a
    level is recognised by its weight, which Splink and the scorer compute alike.
    """

    def at(comparison: str, label: str) -> str:
        spec = next(c for c in comparisons.COMPARISONS if c.name == comparison)
        n = next(i for i, level in enumerate(spec.levels) if level.label == label)
        weight = scorer.levels[comparison][n].weight
        return f"abs(mw_{comparison} - ({weight!r})) < 1e-9"

    other = "all other comparisons"
    nhs_equal, upn_equal = at("nhs_number", "nhs_number equal"), at("upn", "upn equal")
    twin_like = f"{at('given_name', other)} AND NOT {nhs_equal} AND NOT {upn_equal}"
    conflicting = f"{at('nhs_number', other)} OR {at('upn', other)}"
    return f"NOT ({twin_like}) AND NOT ({conflicting})"


def blocking_report(records: Iterable[LinkRecord], sample: float = 1.0) -> BlockingReport:
    """How many pairs each blocking rule adds, before any is scored (from a sample of
    records on each side of the join when `sample` < 1: Splink scales the count up)."""
    table = training.as_table(records)
    db_api = DuckDBAPI(training.connect())
    frame = db_api.register(table, dataset_display_name="records")
    counts = count_comparisons_from_blocking_rules(
        frame,
        blocking_rules=list(comparisons.BLOCKING_RULES),
        link_type="dedupe_only",
        record_sample_proportion=sample,
    )
    by_rule = [(str(r["blocking_rule"]), int(r["marginal_comparison_count"])) for r in counts]
    return BlockingReport(table.num_rows, by_rule)


def link(
    records: Iterable[LinkRecord],
    model: dict[str, Any],
    upper: float,
    lower: float,
    progress: Progress | None = None,
) -> BulkResult:
    """Cluster records into children.

    Args:
        records: standardised records with unique ids.
        model: a trained Splink model (store.LinkageModel.model).
        upper: match weight at or above which an eligible pair joins two records.
        lower: match weight from which a pair is worth a person's look.
        progress: called with a line for people at each step.

    Returns:
        Each record's cluster, the pairs for review, and the time each step took.
    """
    say = progress or (lambda line: None)
    clock = time.perf_counter()
    seconds: dict[str, float] = {}
    table = training.as_table(records)
    con = training.connect()
    frame = DuckDBAPI(con).register(table, dataset_display_name="records")
    # The comparison levels (gamma columns) are needed to apply the eligibility rules.
    linker = Linker(
        frame, {**model, "retain_intermediate_calculation_columns": True}, log_level=None
    )
    for column in comparisons.TF_COLUMNS:
        linker.table_management.compute_tf_table(column)
    eligible = _eligible_sql(Scorer(model))
    seconds["prepare"] = time.perf_counter() - clock
    say(f"link: {table.num_rows:,} records ready in {seconds['prepare']:.1f} s")
    clock = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_weight=lower)
    name = predictions.physical_name
    # The table name is Splink's own and the thresholds are floats: nothing from input.
    scored = con.execute(f"SELECT count(*) FROM {name}").fetchone()  # noqa: S608
    seconds["predict"] = time.perf_counter() - clock
    say(f"link: {scored[0] if scored else 0:,} pairs above {lower} in {seconds['predict']:.1f} s")
    clock = time.perf_counter()
    clusters = _Clusters(str(i) for i in table.column("unique_id").to_pylist())
    strong = con.execute(
        f"SELECT unique_id_l, unique_id_r FROM {name} "  # noqa: S608
        f"WHERE match_weight >= {upper} AND {eligible}"
    ).fetchall()
    for left, right in strong:
        clusters.join(left, right)
    result = BulkResult(
        records=table.num_rows,
        comparisons=int(scored[0]) if scored else 0,
        clusters={i: clusters.find(i) for i in clusters.parent},
    )
    result.untrusted = _untrusted(result.clusters, table)
    result.review = [
        (left, right, float(weight))
        for left, right, weight in con.execute(
            f"SELECT unique_id_l, unique_id_r, match_weight FROM {name} "  # noqa: S608
            f"WHERE match_weight < {upper} OR NOT ({eligible})"
        ).fetchall()
        if result.clusters[left] != result.clusters[right]
    ]
    seconds["cluster"] = time.perf_counter() - clock
    result.seconds = seconds
    say(
        f"link: {len(set(result.clusters.values())):,} clusters, "
        f"{len(result.untrusted):,} untrusted, {len(result.review):,} pairs for review"
    )
    return result


def _untrusted(clusters: dict[str, str], table: Any) -> set[str]:
    """Clusters holding two different valid NHS numbers or UPNs."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    ids = table.column("unique_id").to_pylist()
    for column in ("nhs_number", "upn"):
        for record, value in zip(ids, table.column(column).to_pylist(), strict=True):
            if value is not None:
                seen[(column, clusters[record])].add(value)
    return {cluster for (_, cluster), values in seen.items() if len(values) > 1}
