"""Train the linkage model with Splink on an in-memory DuckDB database.

The records are decrypted into this process's memory only: DuckDB runs in memory (its
spill directory is in the data directory, see docs/linkage.md), and what is kept
afterwards is the model (m and u probabilities, no data) and the term frequencies keyed
by a keyed digest of each value, never the value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings
from splink import DuckDBAPI, Linker, block_on

from contactpoint.linkage import comparisons
from contactpoint.linkage.records import LinkRecord, as_table

Progress = Callable[[str], None]
M_FLOOR = 1e-4
U_FLOOR = 1e-7


@dataclass(frozen=True)
class Trained:
    model: dict[str, Any]  # Splink's saved-model JSON
    term_frequencies: dict[str, dict[str, float]]  # column to value to frequency
    records: int


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
        The trained model and the term frequencies it was trained with.
    """
    say = progress or (lambda line: None)
    logging.getLogger("splink").setLevel(logging.WARNING)
    table = as_table(records)
    db_api = DuckDBAPI(connect())
    frame = db_api.register(table, dataset_display_name="records")
    linker = Linker(frame, comparisons.settings(), log_level=None)
    say(f"train: {table.num_rows:,} records")
    linker.training.estimate_probability_two_random_records_match(
        [block_on("nhs_number"), block_on("upn")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    say("train: u probabilities estimated")
    for rule in comparisons.TRAINING_BLOCKS:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, record_sample_proportion=1.0, max_pairs=5e6
        )
        say("train: m probabilities estimated from one blocking rule")
    tf = {c: _term_frequencies(linker, c) for c in comparisons.TF_COLUMNS}
    return Trained(regularise(linker.misc.save_model_to_json()), tf, table.num_rows)


def regularise(model: dict[str, Any]) -> dict[str, Any]:
    """Keep every m and u at or above a floor, so no level is worth thousands of bits.

    EM leaves m at 0 for a level it never saw among matches, and random sampling leaves u
    at 0 for an identifier no two random records share; Splink would then weigh such a
    level at about +/-1,000 bits. A floor of 1e-7 on u (about one in the children of a
    country) and 1e-4 on m bounds every level. The result is still an ordinary Splink
    model, which Splink and the in-process scorer score alike.
    """
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            level["m_probability"] = max(float(level.get("m_probability") or 0.0), M_FLOOR)
            level["u_probability"] = max(float(level.get("u_probability") or 0.0), U_FLOOR)
    return model


def _term_frequencies(linker: Linker, column: str) -> dict[str, float]:
    frame = linker.table_management.compute_tf_table(column)
    rows = frame.as_record_list()
    return {str(r[column]): float(r[f"tf_{column}"]) for r in rows}
