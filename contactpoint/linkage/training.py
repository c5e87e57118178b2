"""Train the linkage model with Splink on an in-memory DuckDB database.

The records are decrypted into this process's memory only: DuckDB runs in memory (its
spill directory is in the data directory, see docs/linkage.md), and what is kept
afterwards is the model (m and u probabilities, no data), the figures it was trained on
(counts only) and the term frequencies keyed by a keyed digest of each value, never the
value.

The model is trained on the records in front of it: u by random sampling, m by
expectation maximisation on blocking rules that between them train every comparison,
and the prior from deterministic rules that need no national identifier (both names and
the birth date; family name, birth date and postcode), with the NHS number and UPN too
when any record has one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from django.conf import settings
from splink import DuckDBAPI, Linker, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator

from contactpoint.linkage import comparisons
from contactpoint.linkage.records import LinkRecord, as_table

Progress = Callable[[str], None]
M_FLOOR = 1e-4
U_FLOOR = 1e-7
# The share of true pairs the deterministic rules are assumed to find (Splink's `recall`).
# Measured on the synthetic populations: exact names and birth date, or family name,
# birth date and postcode, find about 0.8 of the pairs of one child (docs/linkage.md).
PRIOR_RECALL = 0.8
# Deterministic rules for the prior: each column list is one rule (all columns equal).
PRIOR_RULES: tuple[tuple[str, ...], ...] = (
    ("given_name", "family_name", "dob"),
    ("family_name", "dob", "postcode"),
    ("nhs_number",),
    ("upn",),
)
# Rules for EM: each leaves out the comparisons it blocks on, so together they train all.
EM_RULES: tuple[tuple[str, ...], ...] = (
    ("dob",),
    ("given_phonetic", "family_phonetic"),
)
EM_MAX_PAIRS = 5e6
U_MAX_PAIRS = 2e6


class TooLittleToTrain(ValueError):
    """The records hold no pair a rule can learn from; the message says which rule."""


@dataclass(frozen=True)
class Trained:
    model: dict[str, Any]  # Splink's saved-model JSON
    term_frequencies: dict[str, dict[str, float]]  # column to value to frequency
    records: int
    figures: dict[str, Any] = field(default_factory=dict)  # what it was trained on: counts


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose spill files, if memory runs short, go to a private folder
    in the data directory (docs/linkage.md: that folder must be on encrypted storage), past
    CONTACTPOINT_LINKAGE_MEMORY when it is set."""
    spill = Path(settings.DATA_DIR) / "linkage-spill"
    spill.mkdir(mode=0o700, parents=True, exist_ok=True)
    config: dict[str, str | bool | int | float | list[str]] = {"temp_directory": str(spill)}
    if settings.LINKAGE_MEMORY:
        config["memory_limit"] = settings.LINKAGE_MEMORY
    return duckdb.connect(":memory:", config=config)


def train(
    records: Iterable[LinkRecord], seed: int = 1, progress: Progress | None = None
) -> Trained:
    """Estimate the model from unlabelled records.

    Args:
        records: standardised records, several of which may be the same child.
        seed: seeds u sampling, so the same records give the same model.
        progress: called with a line for people at each step.

    Returns:
        The trained model, the term frequencies it was trained with and its figures.

    Raises:
        TooLittleToTrain: no two records meet on any prior rule or on an EM rule.
    """
    return train_table(as_table(records), seed, progress)


def train_on(records: Iterable[LinkRecord], progress: Progress | None = None) -> Trained:
    """train with the default seed: what a first load calls before it links."""
    return train(records, progress=progress)


def train_table(table: pa.Table, seed: int = 1, progress: Progress | None = None) -> Trained:
    """train on records already in an Arrow table of records.SCHEMA's columns."""
    return _train([table], seed, progress)


def train_across(
    tables: Sequence[pa.Table], seed: int = 1, progress: Progress | None = None
) -> Trained:
    """Train on pairs across sources only: each table is one source's records.

    Splink's link_only: the prior, u and m are estimated among pairs of records of two
    different sources, which is where a second local system's records meet the registry's
    (within one system's export, two records are seldom one child, and a population of
    brothers and sisters at one address would teach EM that an address is identity). The
    model is saved for deduplication, as every other use applies it to one table; its
    prior is that of two records of two sources.

    Raises:
        TooLittleToTrain: fewer than two tables with records, or no pair across them on
            any prior rule or on an EM rule.
    """
    tables = [t for t in tables if t.num_rows]
    if len(tables) < 2:
        raise TooLittleToTrain("records of fewer than two sources: nothing to link across")
    return _train(tables, seed, progress)


def _train(tables: Sequence[pa.Table], seed: int, progress: Progress | None) -> Trained:
    """Estimate the model on one table (deduplication) or across several (link_only)."""
    say = progress or (lambda line: None)
    # Splink warns of each level no pair reached (the floors in `regularise` cover them):
    # a list of level names in the middle of a load, not a problem to act on.
    logging.getLogger("splink").setLevel(logging.ERROR)
    across = len(tables) > 1
    con = connect()
    sides = [
        t.append_column("cp_side", pa.array([n] * t.num_rows, pa.int32()))
        for n, t in enumerate(tables)
    ]
    con.register("cp_training", pa.concat_tables(sides))
    db_api = DuckDBAPI(con)
    frames = [db_api.register(t, dataset_display_name=f"records_{n}") for n, t in enumerate(tables)]
    link_type: comparisons.LinkType = "link_only" if across else "dedupe_only"
    linker = Linker(frames, comparisons.settings(link_type=link_type), log_level=None)
    records = sum(t.num_rows for t in tables)
    say(f"train: {records:,} records" + (f" of {len(tables)} sources" if across else ""))
    figures: dict[str, Any] = {"records": records, "seed": seed, "link_type": link_type}
    figures["prior"] = _estimate_prior(linker, con, across)
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
    say("train: u probabilities estimated")
    linker, figures["em"], figures["em_skipped"] = _estimate_m(linker, frames, con, say, across)
    tf = {c: _term_frequencies(linker, c) for c in comparisons.TF_COLUMNS}
    model = regularise(linker.misc.save_model_to_json())
    model["link_type"] = "dedupe_only"
    figures["levels"] = level_figures(model)
    return Trained(model, tf, records, figures)


def pair_count(
    con: duckdb.DuckDBPyConnection, columns: tuple[str, ...], across: bool = False
) -> int:
    """Pairs of records equal on every one of `columns` (none of them missing); `across`:
    only pairs of records of two different sources (tables)."""
    keys = ", ".join(f'"{c}"' for c in columns)
    present = " AND ".join(f'"{c}" IS NOT NULL' for c in columns)
    # Per key, s records of which q are the sum of squares of each side's count: s*s - q
    # ordered pairs lie across sides. The columns are this module's own names, never input.
    pairs = "(s * s - q) // 2" if across else "s * (s - 1) // 2"
    rows = con.execute(
        f"SELECT coalesce(sum({pairs}), 0) FROM (SELECT sum(n) AS s, sum(n * n) AS q FROM "  # noqa: S608
        f"(SELECT {keys}, count(*) AS n FROM cp_training WHERE {present} "
        f"GROUP BY {keys}, cp_side) GROUP BY {keys})"
    ).fetchall()
    return int(rows[0][0])


def _estimate_prior(
    linker: Linker, con: duckdb.DuckDBPyConnection, across: bool = False
) -> dict[str, Any]:
    """The prior from the deterministic rules that find any pair in these records."""
    counts = {"+".join(rule): pair_count(con, rule, across) for rule in PRIOR_RULES}
    rules: list[str | BlockingRuleCreator] = [
        block_on(*rule) for rule in PRIOR_RULES if counts["+".join(rule)]
    ]
    if not rules:
        raise TooLittleToTrain("no two records share both names and a birth date")
    linker.training.estimate_probability_two_random_records_match(rules, recall=PRIOR_RECALL)
    prior = linker._settings_obj._probability_two_random_records_match
    return {"rule_pairs": counts, "recall": PRIOR_RECALL, "probability": prior}


def _estimate_m(
    linker: Linker,
    frames: list[Any],
    con: duckdb.DuckDBPyConnection,
    say: Progress,
    across: bool = False,
) -> tuple[Linker, dict[str, int], list[str]]:
    """m by EM on each rule that finds pairs; the linker holding the estimates, the pairs
    each rule offered, by rule, and the rules EM had to skip."""
    pairs = {"+".join(rule): pair_count(con, rule, across) for rule in EM_RULES}
    trained, skipped = 0, []
    for rule in EM_RULES:
        name = "+".join(rule)
        if not pairs[name]:
            raise TooLittleToTrain(f"no two records share {name}: nothing for EM")
        before = linker.misc.save_model_to_json()
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*rule), record_sample_proportion=1.0, max_pairs=EM_MAX_PAIRS
            )
        except ValueError:
            # Splink refuses an m that EM drove below 1e-300 (a level all but absent among
            # the pairs the rule offers), part-way through changing the model: go on from
            # the model as it was before this rule, with the other rules' estimates.
            linker = Linker(frames, before, log_level=None)
            skipped.append(name)
            say(f"train: EM on {name} left a level's m too small to hold; skipped")
            continue
        trained += 1
        say(f"train: m probabilities estimated on {name}")
    if not trained:
        raise TooLittleToTrain("EM could not estimate m on any rule")
    return linker, pairs, skipped


def regularise(model: dict[str, Any]) -> dict[str, Any]:
    """Keep every m and u at or above a floor, so no level is worth thousands of bits.

    EM leaves m at 0 for a level it never saw among matches, and random sampling leaves u
    at 0 for an identifier no two random records share; Splink would then weigh such a
    level at about +/-1,000 bits. A floor of 1e-7 on u (about one in the children of a
    country) and 1e-4 on m bounds every level. A comparison random sampling never saw
    (no record has that identifier) gets its last level's u as the rest of 1, so two
    different values are evidence against, as they are. The result is still an ordinary
    Splink model, which Splink and the in-process scorer score alike.
    """
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        seen = sum(float(lv.get("u_probability") or 0.0) for lv in levels[:-1])
        if not float(levels[-1].get("u_probability") or 0.0):
            levels[-1]["u_probability"] = max(1.0 - seen, U_FLOOR)
        for level in levels:
            level["m_probability"] = max(float(level.get("m_probability") or 0.0), M_FLOOR)
            level["u_probability"] = max(float(level.get("u_probability") or 0.0), U_FLOOR)
    return model


def level_figures(model: dict[str, Any]) -> dict[str, list[list[Any]]]:
    """Each comparison's levels as [label, m, u] (null levels have neither)."""
    return {
        c["output_column_name"]: [
            [lv["label_for_charts"], lv.get("m_probability"), lv.get("u_probability")]
            for lv in c["comparison_levels"]
        ]
        for c in model["comparisons"]
    }


def _term_frequencies(linker: Linker, column: str) -> dict[str, float]:
    frame = linker.table_management.compute_tf_table(column)
    rows = frame.as_record_list()
    return {str(r[column]): float(r[f"tf_{column}"]) for r in rows}
