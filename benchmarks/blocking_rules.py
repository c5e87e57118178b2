"""What each bulk blocking rule costs and what it alone finds (docs/linkage.md).

For a synthetic population's feed folder, prints per rule of blocking.BLOCKING_RULES: the
pairs it adds beyond the rules before it (Splink's own count, every pair, no sample), the
true pairs (two records of one child, from the folder's `truth`) it finds at all, those it
adds beyond the rules before it, and those no other rule finds (what dropping it would
lose). The true pairs are every pair of one child's records, each rule's condition
evaluated on them in DuckDB, so the figures need no scoring.

Usage: .venv/bin/python benchmarks/blocking_rules.py [--records N] [--seed S] [--feeds DIR]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile
import time

from measure import commit, machine, setup_django, synth

RECORDS_PER_CHILD = 2.55  # what the generator writes on average (docs/synthetic-population.md)


def run(feeds: pathlib.Path) -> None:
    import pyarrow as pa
    from splink import DuckDBAPI
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    from contactpoint.linkage import blocking, training
    from contactpoint.linkage.evaluate import truth_rows
    from contactpoint.linkage.inputs import feed_table

    table = feed_table(feeds, workers=os.cpu_count() or 1)
    child = {f"{s}:{r}": c for s, r, c in truth_rows(feeds / "truth")}
    ids = table.column("unique_id").to_pylist()
    people = pa.array([child.get(u) for u in ids], pa.string())
    del child, ids
    con = training.connect()
    con.register("cp_arrow", table.append_column("cp_person", people))
    con.execute("CREATE TABLE cp_records AS SELECT * FROM cp_arrow")
    con.unregister("cp_arrow")
    del table, people
    started = time.perf_counter()
    frame = DuckDBAPI(con).register("cp_records", dataset_display_name="records")
    counts = count_comparisons_from_blocking_rules(
        frame,
        blocking_rules=list(blocking.BLOCKING_RULES),
        link_type="dedupe_only",
        record_sample_proportion=1.0,
    )
    added = [int(r["marginal_comparison_count"]) for r in counts]
    counted = time.perf_counter() - started
    sqls = [r.get_blocking_rule("duckdb").blocking_rule_sql for r in blocking.BLOCKING_RULES]
    hits = ", ".join(f"coalesce({sql}, false) AS r{k}" for k, sql in enumerate(sqls))
    con.execute(
        f"CREATE TABLE cp_true AS SELECT {hits} FROM cp_records l JOIN cp_records r "  # noqa: S608
        "ON l.cp_person = r.cp_person AND l.unique_id < r.unique_id"
    )
    rules = [f"r{k}" for k in range(len(sqls))]
    found = " + ".join(f"{r}::int" for r in rules)
    selects = []
    for k, rule in enumerate(rules):
        earlier = " OR ".join(rules[:k]) or "false"
        others = " OR ".join(rules[:k] + rules[k + 1 :])
        selects.append(
            f"count(*) FILTER (WHERE {rule}), count(*) FILTER (WHERE {rule} AND NOT ({earlier})),"
            f" count(*) FILTER (WHERE {rule} AND NOT ({others}))"
        )
    row = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {found} > 0), "  # noqa: S608
        + ", ".join(selects)
        + " FROM cp_true"
    ).fetchone()
    assert row is not None
    true_pairs, reached, *per_rule = (int(v) for v in row)
    [(records,)] = con.execute("SELECT count(*) FROM cp_records").fetchall()
    total = sum(added)
    print(f"machine:        {machine()}")
    print(f"commit:         {commit()}")
    print(f"records:        {records:,}; blocked pairs {total:,}, {total / records:.2f} a record")
    print(f"                (counted in {counted:,.1f} s)")
    print(f"blocking recall {reached / true_pairs:.5f} ({reached:,} of {true_pairs:,} true pairs)")
    print("| rule | pairs added | true pairs found | true pairs added | found by no other |")
    print("|---|---|---|---|---|")
    for k, sql in enumerate(sqls):
        every, first, alone = per_rule[3 * k : 3 * k + 3]
        print(f"| `{sql}` | {added[k]:,} | {every:,} | {first:,} | {alone:,} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--feeds", type=pathlib.Path, help="an existing synth folder")
    args = parser.parse_args()
    children = round(args.records / RECORDS_PER_CHILD)
    with tempfile.TemporaryDirectory(prefix="blocking-rules-") as tmp:
        feeds = args.feeds or pathlib.Path(tmp) / "feeds"
        if not args.feeds:
            synth({**os.environ, "CONTACTPOINT_ENV": "development"}, children, args.seed, feeds)
        setup_django(pathlib.Path(tmp) / "var")
        run(feeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
