"""Bulk linkage with Splink: every record against every other, in one in-memory DuckDB.

Splink scores the pairs the blocking rules find (blocking.BLOCKING_RULES); pairs at or
above the upper threshold that are `eligible` (not twin-like, no two different valid
identifiers, the same rules as real-time matching) join records into clusters, except
through a record strongly like two records that cannot be one child; a cluster holding two
different valid NHS numbers or UPNs is not trusted and goes to review whole.
Pairs between the thresholds, and strong but ineligible pairs, become review candidates.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from splink import DuckDBAPI, Linker
from splink.blocking_analysis import count_comparisons_from_blocking_rules
from splink.clustering import cluster_pairwise_predictions_at_threshold

from contactpoint.linkage import blocking, comparisons, realtime, training
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
    cluster_count: int = 0
    review: list[tuple[str, str, float]] = field(default_factory=list)
    untrusted: set[str] = field(default_factory=set)  # clusters with conflicting ids
    hubs: set[str] = field(default_factory=set)  # records that would join unlike records
    seconds: dict[str, float] = field(default_factory=dict)
    refused_as_twins: int = 0  # pairs at or above upper kept apart by the twin rule alone


def _at(scorer: Scorer, comparison: str, label: str) -> str:
    """SQL: the pair's comparison is at this level. Splink 5 keeps each comparison's match
    weight (mw_<name>) rather than its level, so a level is recognised by its weight,
    which Splink and the scorer compute alike."""
    spec = next(c for c in comparisons.COMPARISONS if c.name == comparison)
    n = next(i for i, level in enumerate(spec.levels) if level.label == label)
    weight = scorer.levels[comparison][n].weight
    return f"abs(mw_{comparison} - ({weight!r})) < 1e-9"


def _conflicting_sql(scorer: Scorer) -> str:
    """SQL for realtime._conflicting_identifier: two different valid NHS numbers or UPNs."""
    other = "all other comparisons"
    return f"({_at(scorer, 'nhs_number', other)} OR {_at(scorer, 'upn', other)})"


def _twin_sql(a: str, b: str) -> str:
    """SQL for realtime.twin_like over two records' columns (table aliases a and b); never
    NULL. The same rule, term for term, with the same Damerau-Levenshtein distance."""
    ga, gb = f"{a}.given_name", f"{b}.given_name"
    edits = f"CASE WHEN least(length({ga}), length({gb})) >= {realtime.LONG_NAME} THEN 2 ELSE 1 END"
    different = (
        f"{ga} IS NOT NULL AND {gb} IS NOT NULL"
        f" AND NOT starts_with({ga}, {gb}) AND NOT starts_with({gb}, {ga})"
        f" AND len(list_intersect(coalesce({a}.given_nicknames, []),"
        f" coalesce({b}.given_nicknames, []))) = 0"
        f" AND damerau_levenshtein({ga}, {gb}) > {edits}"
    )
    household = (
        f"({a}.postcode IS NULL OR {b}.postcode IS NULL"
        f" OR {a}.postcode_district = {b}.postcode_district)"
    )
    shared = " OR ".join(f"coalesce({a}.{i} = {b}.{i}, false)" for i in ("nhs_number", "upn"))
    born = f"({a}.dob = {b}.dob OR {a}.dob = {b}.dob_swapped)"
    return f"coalesce({born} AND {household} AND NOT ({shared}) AND {different}, false)"


def _eligible_sql(scorer: Scorer) -> str:
    """SQL for realtime.eligible over Splink's predictions joined to both records, as
    table aliases a (unique_id_l) and b (unique_id_r)."""
    return f"NOT {_twin_sql('a', 'b')} AND NOT {_conflicting_sql(scorer)}"


def blocking_report(records: Iterable[LinkRecord], sample: float = 1.0) -> BlockingReport:
    """How many pairs each blocking rule adds, before any is scored (from a sample of
    records on each side of the join when `sample` < 1: Splink scales the count up)."""
    table = as_table(records)
    db_api = DuckDBAPI(training.connect())
    frame = db_api.register(table, dataset_display_name="records")
    counts = count_comparisons_from_blocking_rules(
        frame,
        blocking_rules=list(blocking.BLOCKING_RULES),
        link_type="dedupe_only",
        record_sample_proportion=sample,
    )
    by_rule = [(str(r["blocking_rule"]), int(r["marginal_comparison_count"])) for r in counts]
    return BlockingReport(table.num_rows, by_rule)


@dataclass
class BlockingRecall:
    """How many true pairs (two records of one person) the blocking rules reach."""

    records: int
    true_pairs: int
    reached: int
    by_rule: list[tuple[str, int, int]]  # rule, pairs it adds, true pairs among them

    @property
    def recall(self) -> float:
        return self.reached / self.true_pairs if self.true_pairs else 1.0


def blocking_recall(
    records: Iterable[LinkRecord], truth: Mapping[str, str], rules: Sequence[Any] = ()
) -> BlockingRecall:
    """Blocking recall against a ground truth: the true pairs that reach scoring, over all
    true pairs among the records the truth names.

    Args:
        records: standardised records.
        truth: record id (unique_id) to the person it is; records not in it are left out.
        rules: Splink blocking rules; blocking.BLOCKING_RULES by default.
    """
    logging.getLogger("splink").setLevel(logging.WARNING)  # its timings are not figures here
    table = as_table(r for r in records if r.unique_id in truth)
    people = pa.array([truth[u] for u in table.column("unique_id").to_pylist()], pa.string())
    con = training.connect()
    con.register("cp_arrow", table.append_column("cp_person", people))
    con.execute("CREATE TABLE cp_truth_records AS SELECT * FROM cp_arrow")
    con.unregister("cp_arrow")
    db_api = DuckDBAPI(con)
    frame = db_api.register("cp_truth_records", dataset_display_name="records")
    chosen = list(rules or blocking.BLOCKING_RULES)
    settings = comparisons.settings() | {
        "blocking_rules_to_generate_predictions": [
            r.create_blocking_rule_dict("duckdb") for r in chosen
        ]
    }
    linker = Linker(frame, settings, log_level=None)
    blocked = linker.inference.compute_blocked_pairs_for_predict().physical_name
    rows = con.execute(
        f"SELECT match_key, count(*), count(*) FILTER (WHERE a.cp_person = b.cp_person) "  # noqa: S608
        f"FROM {blocked} p JOIN cp_truth_records a ON a.unique_id = p.join_key_l "
        "JOIN cp_truth_records b ON b.unique_id = p.join_key_r GROUP BY match_key"
    ).fetchall()
    found = {int(k): (int(n), int(t)) for k, n, t in rows}
    [(true_pairs,)] = con.execute(
        "SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM "
        "(SELECT count(*) AS n FROM cp_truth_records GROUP BY cp_person)"
    ).fetchall()
    by_rule = [
        (r.get_blocking_rule("duckdb").blocking_rule_sql, *found.get(k, (0, 0)))
        for k, r in enumerate(chosen)
    ]
    return BlockingRecall(table.num_rows, int(true_pairs), sum(t for _, _, t in by_rule), by_rule)


CHUNK = 16_000_000  # blocked pairs scored in one predict step


@dataclass
class Linked:
    """What `link_in` leaves in its DuckDB connection, counted.

    Tables: cp_clusters (record_id, cluster: the smallest record id in it), cp_review
    (a, b, weight: pairs for review between two clusters), cp_untrusted (cluster) and
    cp_hub_ids (record_id).
    """

    records: int
    comparisons: int
    clusters: int
    review: int
    untrusted: int
    hubs: int
    seconds: dict[str, float] = field(default_factory=dict)
    refused_as_twins: int = 0  # pairs at or above upper kept apart by the twin rule alone


def link(
    records: Iterable[LinkRecord] | pa.Table,
    model: dict[str, Any],
    upper: float,
    lower: float,
    progress: Progress | None = None,
    chunk: int = CHUNK,
) -> BulkResult:
    """Cluster records into children.

    Args:
        records: standardised records with unique ids, or them as an Arrow table
            (records.as_table, inputs.feed_table).
        model: a trained Splink model (store.LinkageModel.model).
        upper: match weight at or above which an eligible pair joins two records.
        lower: match weight from which a pair is worth a person's look.
        progress: called with a line for people at each step.
        chunk: blocked pairs scored in one step (link_in).

    Returns:
        Each record's cluster, the pairs for review, and the time each step took.
    """
    table = records if isinstance(records, pa.Table) else as_table(records)
    del records
    con = training.connect()
    # Copied into DuckDB, which spills past CONTACTPOINT_LINKAGE_MEMORY, and the Arrow
    # table let go: at national scale it is gigabytes (a caller that keeps no reference
    # of its own frees it here).
    con.register("cp_arrow", table)
    con.execute("CREATE TABLE cp_input AS SELECT * FROM cp_arrow")
    con.unregister("cp_arrow")
    del table
    linked = link_in(con, "cp_input", model, upper, lower, progress, chunk)
    clusters: dict[str, str] = {}
    rows = con.execute("SELECT record_id, cluster FROM cp_clusters ORDER BY cluster")
    name = ""
    while batch := rows.fetchmany(100_000):  # not all at once: millions of tuples
        for record, cluster in batch:
            if cluster != name:  # one string per cluster, not one per record
                name = cluster
            clusters[record] = name
    review = con.execute("SELECT a, b, weight FROM cp_review ORDER BY l, r").fetchall()
    untrusted = con.execute("SELECT cluster FROM cp_untrusted").fetchall()
    hubs = con.execute("SELECT record_id FROM cp_hub_ids").fetchall()
    return BulkResult(
        records=linked.records,
        comparisons=linked.comparisons,
        clusters=clusters,
        cluster_count=linked.clusters,
        review=[(a, b, float(w)) for a, b, w in review],
        untrusted={str(c) for (c,) in untrusted},
        hubs={str(h) for (h,) in hubs},
        seconds=linked.seconds,
        refused_as_twins=linked.refused_as_twins,
    )


def link_in(
    con: Any,
    table: str,
    model: dict[str, Any],
    upper: float,
    lower: float,
    progress: Progress | None = None,
    chunk: int = CHUNK,
) -> Linked:
    """Cluster the records of a table in `con` into children, leaving the result there.

    For callers whose records are too many to hold in Python (a national first load):
    nothing per record comes back, only counts (`Linked` names the tables). The input
    table, and every table Splink made from it, is dropped once the result is made: at
    national scale they are gigabytes the caller's next steps do not need.

    Args:
        con: a DuckDB connection (training.connect).
        table: its table of standardised records (records.as_table's columns), unique ids.
        model, upper, lower, progress: as for `link`.
        chunk: blocked pairs scored in one step. The pairs are found once; Splink's scored
            pairs (every comparison's weight) exist for one step at a time, and only each
            kept pair's ids and weight outlive it.
    """
    say = progress or (lambda line: None)
    logging.getLogger("splink").setLevel(logging.WARNING)
    clock = time.perf_counter()
    seconds: dict[str, float] = {}
    # Splink sees each record by a number given in the order of its id, so the pairs it
    # keeps are two integers, not two strings.
    con.execute(
        "CREATE TABLE cp_records AS SELECT row_number() OVER (ORDER BY unique_id) AS unique_id,"  # noqa: S608
        f" unique_id AS record_id, * EXCLUDE (unique_id) FROM {table}"
    )
    con.execute(f"DROP TABLE {table}")
    [(count,)] = con.execute("SELECT count(*) FROM cp_records").fetchall()
    db_api = DuckDBAPI(con)
    frame = db_api.register("cp_records", dataset_display_name="records")
    # Each comparison's weight (mw_ columns) is needed to apply the eligibility rules; the
    # compared values are not. Blocking is this code's, not the saved model's.
    linker = Linker(
        frame,
        {
            **model,
            "blocking_rules_to_generate_predictions": blocking.settings_rules(),
            "retain_matching_columns": False,
            "retain_intermediate_calculation_columns": True,
        },
        log_level=None,
    )
    for column in comparisons.TF_COLUMNS:
        linker.table_management.compute_tf_table(column)
    seconds["prepare"] = time.perf_counter() - clock
    say(f"link: {count:,} records ready in {seconds['prepare']:.1f} s")
    clock = time.perf_counter()
    scorer = Scorer(model)
    rules = Rules(
        frame.physical_name,
        strong=f"match_weight >= {upper} AND {_eligible_sql(scorer)}",
        twins=f"match_weight >= {upper} AND {_twin_sql('a', 'b')}"
        f" AND NOT {_conflicting_sql(scorer)}",
    )
    scored, twins = _predict(con, db_api, linker, lower, rules, chunk, say)
    seconds["predict"] = time.perf_counter() - clock
    say(
        f"link: {scored:,} pairs above {lower} in {seconds['predict']:.1f} s,"
        f" {twins:,} refused as twins"
    )
    clock = time.perf_counter()
    linked = _cluster(con, db_api, frame.physical_name)
    linked.records, linked.comparisons, linked.refused_as_twins = int(count), scored, twins
    seconds["cluster"] = time.perf_counter() - clock
    linked.seconds = seconds
    say(
        f"link: {linked.clusters:,} clusters, {linked.hubs:,} records "
        f"joining children that disagree, {linked.untrusted:,} untrusted clusters, "
        f"{linked.review:,} pairs for review"
    )
    return linked


@dataclass(frozen=True)
class Rules:
    """What each scored pair is tested for, in SQL over Splink's predictions joined to
    both records (aliases a and b)."""

    records: str  # the records table Splink was given
    strong: str  # joins two records (at or above upper, and eligible)
    twins: str  # at or above upper, and kept apart by the twin rule alone


def _predict(
    con: Any, db_api: Any, linker: Linker, lower: float, rules: Rules, chunk: int, say: Progress
) -> tuple[int, int]:
    """Score the blocked pairs, `chunk` of them at a time, keeping those `rules.strong`
    holds for (cp_strong) and the rest above `lower` (cp_weak); return how many were kept,
    and how many `rules.twins` held for.

    The blocking rules are applied once, to integer ids (Splink's blocked-pairs table);
    each step registers a share of those pairs and Splink scores exactly that share.
    """
    clock = time.perf_counter()
    blocked = linker.inference.compute_blocked_pairs_for_predict()
    [(pairs,)] = con.execute(f"SELECT count(*) FROM {blocked.physical_name}").fetchall()  # noqa: S608
    steps = max(1, -(-int(pairs) // chunk))
    # Cut into shares in one pass, as Parquet files beside DuckDB's own spill files (ids and
    # rule numbers only): at national scale the pairs are a billion rows, and reading them
    # all again for each share cost more than scoring it.
    [(spill,)] = con.execute("SELECT current_setting('temp_directory')").fetchall()
    folder = Path(tempfile.mkdtemp(prefix="pairs-", dir=spill))
    try:
        con.execute(
            f"COPY (SELECT *, join_key_l % {steps} AS share FROM {blocked.physical_name}) "  # noqa: S608
            f"TO {_quoted(folder)} (FORMAT parquet, PARTITION_BY (share), OVERWRITE_OR_IGNORE)"
        )
        blocked.drop_table_from_database_and_remove_from_cache()
        say(f"link: {pairs:,} blocked pairs in {time.perf_counter() - clock:.1f} s, {steps} steps")
        con.execute("CREATE OR REPLACE TEMP TABLE cp_strong (l BIGINT, r BIGINT)")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE cp_weak (l BIGINT, r BIGINT, match_weight DOUBLE)"
        )
        twins = 0
        for step in range(steps):
            share = folder / f"share={step}"
            twins += _score_share(con, db_api, linker, share, lower, rules, step)
            if steps > 1:
                say(f"link: scored step {step + 1} of {steps}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    [(strong_count,)] = con.execute("SELECT count(*) FROM cp_strong").fetchall()
    [(weak_count,)] = con.execute("SELECT count(*) FROM cp_weak").fetchall()
    return int(strong_count) + int(weak_count), twins


def _quoted(path: Path) -> str:
    """A path as an SQL string literal (the data directory is the operator's choice)."""
    return "'" + str(path).replace("'", "''") + "'"


def _score_share(
    con: Any, db_api: Any, linker: Linker, share: Path, lower: float, rules: Rules, step: int
) -> int:
    """Score the blocked pairs in the folder `share` into cp_strong and cp_weak; return how
    many the twin rule alone kept apart."""
    if not share.exists():  # no pair has its left-hand record in this share
        return 0
    table = f"cp_share_{step}"  # Splink wants a new name for each table it is given
    con.execute(
        f"CREATE TEMP TABLE {table} AS SELECT * FROM "  # noqa: S608
        f"read_parquet({_quoted(share / '*.parquet')}, hive_partitioning = false)"
    )
    registered = db_api.register(table, dataset_display_name=f"share_{step}")
    linker.table_management.register_blocked_pairs_for_predict(registered)
    part = linker.inference.predict(threshold_match_weight=lower, warning_mode="never")
    # Splink's own tables; thresholds are floats. Both records are joined for the twin
    # rule, which Splink's weights alone cannot tell (a given name two letters out).
    pairs = (
        f"{part.physical_name} p JOIN {rules.records} a ON a.unique_id = p.unique_id_l"
        f" JOIN {rules.records} b ON b.unique_id = p.unique_id_r"
    )
    con.execute(
        f"INSERT INTO cp_strong SELECT unique_id_l, unique_id_r FROM {pairs} WHERE {rules.strong}"  # noqa: S608
    )
    con.execute(
        f"INSERT INTO cp_weak SELECT unique_id_l, unique_id_r, match_weight FROM {pairs} "  # noqa: S608
        f"WHERE NOT ({rules.strong})"
    )
    [(twins,)] = con.execute(f"SELECT count(*) FROM {pairs} WHERE {rules.twins}").fetchall()  # noqa: S608
    part.drop_table_from_database_and_remove_from_cache()
    con.execute(f"DROP TABLE {table}")
    return int(twins)


# Every statement below names only Splink's tables and ours.
_EDGES = """
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
DROP TABLE cp_near;
CREATE OR REPLACE TEMP TABLE cp_edges AS
  SELECT l AS unique_id_l, r AS unique_id_r FROM cp_strong
  WHERE l NOT IN (SELECT unique_id FROM cp_hubs) AND r NOT IN (SELECT unique_id FROM cp_hubs);
"""

# The result, by record id: each record's cluster, the pairs for review (the weak ones and a
# hub's strong ones, between two clusters), untrusted clusters (two different valid NHS
# numbers or UPNs) and hubs.
_RESULT = """
CREATE OR REPLACE TABLE cp_clusters AS
  SELECT r.record_id, k.record_id AS cluster FROM {clustered} c
  JOIN {records} r ON r.unique_id = c.unique_id
  JOIN {records} k ON k.unique_id = c.cluster_id;
CREATE OR REPLACE TABLE cp_review AS
  WITH pairs AS (
    SELECT l, r, match_weight FROM cp_weak UNION ALL
    SELECT l, r, 1e9 FROM cp_strong
    WHERE l IN (SELECT unique_id FROM cp_hubs) OR r IN (SELECT unique_id FROM cp_hubs))
  SELECT p.l, p.r, a.record_id AS a, b.record_id AS b, p.match_weight AS weight FROM pairs p
  JOIN {clustered} ca ON ca.unique_id = p.l
  JOIN {clustered} cb ON cb.unique_id = p.r
  JOIN {records} a ON a.unique_id = p.l
  JOIN {records} b ON b.unique_id = p.r
  WHERE ca.cluster_id <> cb.cluster_id;
CREATE OR REPLACE TABLE cp_untrusted AS
  SELECT k.record_id AS cluster FROM {clustered} c
  JOIN {records} r ON r.unique_id = c.unique_id
  JOIN {records} k ON k.unique_id = c.cluster_id GROUP BY k.record_id
  HAVING count(DISTINCT r.nhs_number) > 1 OR count(DISTINCT r.upn) > 1;
CREATE OR REPLACE TABLE cp_hub_ids AS
  SELECT r.record_id FROM cp_hubs JOIN {records} r USING (unique_id);
DROP TABLE cp_strong; DROP TABLE cp_weak; DROP TABLE cp_edges; DROP TABLE cp_hubs;
DROP TABLE {clustered}; DROP TABLE {records};
"""


def _cluster(con: Any, db_api: Any, records: str) -> Linked:
    """Connected components over the strong, eligible pairs (cp_strong), in DuckDB.

    A record strongly like two records that cannot be one child (two different valid
    identifiers, or given names that share no form: a nameless record beside twins)
    would chain them into one: such a *hub* joins no one and its pairs go to review
    instead, as two strong candidates do in real time.
    """
    con.execute(_EDGES.format(records=records))
    clustered = cluster_pairwise_predictions_at_threshold(
        nodes=records, edges="cp_edges", db_api=db_api, node_id_column_name="unique_id"
    ).physical_name
    # A cluster is named by its smallest record id: records are numbered in id order and
    # a cluster's id is its smallest number.
    con.execute(_RESULT.format(clustered=clustered, records=records))
    counted = con.execute(
        "SELECT (SELECT count(DISTINCT cluster) FROM cp_clusters),"
        " (SELECT count(*) FROM cp_review), (SELECT count(*) FROM cp_untrusted),"
        " (SELECT count(*) FROM cp_hub_ids)"
    ).fetchall()
    [(clusters, review, untrusted, hubs)] = counted
    return Linked(0, 0, int(clusters), int(review), int(untrusted), int(hubs))
