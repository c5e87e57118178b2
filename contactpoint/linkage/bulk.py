"""Bulk linkage with Splink: every record against every other, in one in-memory DuckDB.

Splink scores the pairs the blocking rules find (comparisons.BLOCKING_RULES); pairs at or
above the upper threshold that are `eligible` (not twin-like, no two different valid
identifiers, the same rules as real-time matching) join records into clusters, except
through a record strongly like two records that cannot be one child; a cluster holding two
different valid NHS numbers or UPNs is not trusted and goes to review whole.
Pairs between the thresholds, and strong but ineligible pairs, become review candidates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from splink import DuckDBAPI, Linker
from splink.blocking_analysis import count_comparisons_from_blocking_rules
from splink.clustering import cluster_pairwise_predictions_at_threshold

from contactpoint.linkage import comparisons, training
from contactpoint.linkage.records import LinkRecord, as_table
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
    hubs: set[str] = field(default_factory=set)  # records that would join unlike records
    seconds: dict[str, float] = field(default_factory=dict)


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
    table = as_table(records)
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
    records: Iterable[LinkRecord] | pa.Table,
    model: dict[str, Any],
    upper: float,
    lower: float,
    progress: Progress | None = None,
) -> BulkResult:
    """Cluster records into children.

    Args:
        records: standardised records with unique ids, or them as an Arrow table
            (records.as_table, inputs.feed_table).
        model: a trained Splink model (store.LinkageModel.model).
        upper: match weight at or above which an eligible pair joins two records.
        lower: match weight from which a pair is worth a person's look.
        progress: called with a line for people at each step.

    Returns:
        Each record's cluster, the pairs for review, and the time each step took.
    """
    say = progress or (lambda line: None)
    logging.getLogger("splink").setLevel(logging.WARNING)
    clock = time.perf_counter()
    seconds: dict[str, float] = {}
    table = records if isinstance(records, pa.Table) else as_table(records)
    del records
    count = table.num_rows
    con = training.connect()
    # Copied into DuckDB, which spills past CONTACTPOINT_LINKAGE_MEMORY, and the Arrow
    # table let go: at national scale it is gigabytes (a caller that keeps no reference
    # of its own frees it here).
    con.register("cp_input", table)
    con.execute("CREATE TABLE cp_records AS SELECT * FROM cp_input")
    con.unregister("cp_input")
    del table
    frame = DuckDBAPI(con).register("cp_records", dataset_display_name="records")
    # The comparison levels (gamma columns) are needed to apply the eligibility rules.
    linker = Linker(
        frame, {**model, "retain_intermediate_calculation_columns": True}, log_level=None
    )
    for column in comparisons.TF_COLUMNS:
        linker.table_management.compute_tf_table(column)
    eligible = _eligible_sql(Scorer(model))
    seconds["prepare"] = time.perf_counter() - clock
    say(f"link: {count:,} records ready in {seconds['prepare']:.1f} s")
    clock = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_weight=lower)
    name = predictions.physical_name
    # The table name is Splink's own and the thresholds are floats: nothing from input.
    scored = con.execute(f"SELECT count(*) FROM {name}").fetchone()  # noqa: S608
    seconds["predict"] = time.perf_counter() - clock
    say(f"link: {scored[0] if scored else 0:,} pairs above {lower} in {seconds['predict']:.1f} s")
    clock = time.perf_counter()
    result = _cluster(con, DuckDBAPI(con), frame.physical_name, name, upper, eligible)
    result.records, result.comparisons = count, int(scored[0]) if scored else 0
    seconds["cluster"] = time.perf_counter() - clock
    result.seconds = seconds
    say(
        f"link: {len(set(result.clusters.values())):,} clusters, {len(result.hubs):,} records "
        f"joining children that disagree, {len(result.untrusted):,} untrusted clusters, "
        f"{len(result.review):,} pairs for review"
    )
    return result


# Every statement below names only Splink's tables and ours, with float thresholds.
_EDGES = """
CREATE OR REPLACE TEMP TABLE cp_strong AS
  SELECT unique_id_l AS l, unique_id_r AS r FROM {predictions}
  WHERE match_weight >= {upper} AND {eligible};
CREATE OR REPLACE TEMP TABLE cp_weak AS
  SELECT unique_id_l AS l, unique_id_r AS r, match_weight FROM {predictions}
  WHERE NOT (match_weight >= {upper} AND {eligible});
CREATE OR REPLACE TEMP TABLE cp_near AS
  SELECT l AS x, r AS y FROM cp_strong UNION ALL SELECT r AS x, l AS y FROM cp_strong;
CREATE OR REPLACE TEMP TABLE cp_hubs AS
  SELECT DISTINCT a.x AS unique_id FROM cp_near a
  JOIN cp_near b ON a.x = b.x AND a.y < b.y
  JOIN {records} ra ON ra.unique_id = a.y
  JOIN {records} rb ON rb.unique_id = b.y
  WHERE ra.nhs_number <> rb.nhs_number OR ra.upn <> rb.upn
     OR (ra.given_name <> rb.given_name AND ra.given_phonetic <> rb.given_phonetic
         AND len(list_intersect(ra.given_nicknames, rb.given_nicknames)) = 0
         AND damerau_levenshtein(ra.given_name, rb.given_name) > 1);
CREATE OR REPLACE TEMP TABLE cp_edges AS
  SELECT l AS unique_id_l, r AS unique_id_r FROM cp_strong
  WHERE l NOT IN (SELECT unique_id FROM cp_hubs) AND r NOT IN (SELECT unique_id FROM cp_hubs);
"""


def _cluster(
    con: Any, db_api: Any, records: str, predictions: str, upper: float, eligible: str
) -> BulkResult:
    """Connected components over the strong, eligible pairs, in DuckDB.

    A record strongly like two records that cannot be one child (two different valid
    identifiers, or given names that share no form: a nameless record beside twins)
    would chain them into one: such a *hub* joins no one and its pairs go to review
    instead, as two strong candidates do in real time.
    """
    con.execute(
        _EDGES.format(predictions=predictions, records=records, upper=upper, eligible=eligible)
    )
    clustered = cluster_pairwise_predictions_at_threshold(
        nodes=records, edges="cp_edges", db_api=db_api, node_id_column_name="unique_id"
    )
    rows = con.execute(f"SELECT unique_id, cluster_id FROM {clustered.physical_name}")  # noqa: S608
    clusters: dict[str, str] = {}
    while batch := rows.fetchmany(100_000):  # not all at once: millions of tuples
        clusters.update((str(u), str(c)) for u, c in batch)
    untrusted = con.execute(
        f"SELECT c.cluster_id FROM {clustered.physical_name} c "  # noqa: S608
        f"JOIN {records} r USING (unique_id) GROUP BY c.cluster_id "
        "HAVING count(DISTINCT r.nhs_number) > 1 OR count(DISTINCT r.upn) > 1"
    ).fetchall()
    hubs = {str(h) for (h,) in con.execute("SELECT unique_id FROM cp_hubs").fetchall()}
    review = con.execute(
        "SELECT l, r, match_weight FROM cp_weak UNION ALL "
        "SELECT l, r, 1e9 FROM cp_strong WHERE l IN (SELECT unique_id FROM cp_hubs) "
        "OR r IN (SELECT unique_id FROM cp_hubs)"
    ).fetchall()
    return BulkResult(
        records=len(clusters),
        comparisons=0,
        clusters=clusters,
        review=[(a, b, float(w)) for a, b, w in review if clusters[a] != clusters[b]],
        untrusted={str(c) for (c,) in untrusted},
        hubs=hubs,
    )
