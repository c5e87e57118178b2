"""How many pairs each bulk blocking rule makes at national size, counted, not scored.

For the standardised records of a synthetic population, prints per rule of
blocking.BLOCKING_RULES (or of the rules at a git revision, `--rules REV`): the pairs it
makes alone, counted by group-by (the sum of n(n-1)/2 over its keys' groups; for a rule
joining one column to another, such as the birth date against its swap, the products of
the two sides' group sizes), and the pairs it adds beyond the rules before it (a join
counted, each pair that an earlier rule makes left out, as Splink counts and scores them).
The sum of the added pairs is the union, what Splink scores. With `--sizes`, the same for
random shares of the children (every record of a chosen child, none of the others) to
show how the pairs grow with the population, and each rule's pairs projected to
`--project` children from the two largest counts.

Standardising tens of millions of records takes long, so `--keys FILE` keeps the columns
the rules need (and the child of each record) as Parquet: written from `--feeds` the first
time, read from then on.

Usage: .venv/bin/python benchmarks/blocking_national.py --keys FILE [--feeds DIR]
       [--sizes 1000000,3000000] [--rules REV] [--project CHILDREN]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile
import time
from typing import Any

from blocking_compare import rules_at
from measure import commit, machine, setup_django

COLUMNS = (
    "unique_id",
    "nhs_number",
    "upn",
    "dob",
    "dob_swapped",
    "given_phonetic",
    "family_phonetic",
    "given_name",
    "family_name",
    "postcode",
    "postcode_sector",
    "postcode_district",
    "sex",
)


def write_keys(feeds: pathlib.Path, keys: pathlib.Path) -> None:
    """Standardise the feeds and keep the blocking columns and each record's child."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from contactpoint.linkage.evaluate import truth_rows
    from contactpoint.linkage.inputs import feed_table

    table = feed_table(feeds, workers=os.cpu_count() or 1).select(list(COLUMNS))
    child = {f"{s}:{r}": c for s, r, c in truth_rows(feeds / "truth")}
    people = pa.array([child.get(u) for u in table.column("unique_id").to_pylist()], pa.string())
    del child
    pq.write_table(table.append_column("cp_person", people), keys)


def equi_pairs(con: Any, rule: Any, where: str) -> int:
    """The pairs one rule makes alone, by group-by over its keys' expressions."""
    conditions = rule.get_blocking_rule("duckdb")._equi_join_conditions
    filters = rule.get_blocking_rule("duckdb")._filter_conditions
    if filters:
        return join_pairs(con, rule, [], where)
    lefts = [left for left, _ in conditions]
    rights = [right for _, right in conditions]
    if lefts == rights:
        keys = ", ".join(lefts)
        present = " AND ".join(f"({k}) IS NOT NULL" for k in lefts)
        sql = (
            f"SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) AS n "  # noqa: S608
            f"FROM cp_keys WHERE {where} AND {present} GROUP BY {keys})"
        )
    else:
        # One side's keys against the other's: ordered pairs are the products of the two
        # sides' group sizes, less each record against itself; the condition is symmetric
        # (a swap against a swap), so each unordered pair is two ordered ones.
        left = ", ".join(f"{k} AS k{i}" for i, k in enumerate(lefts))
        right = ", ".join(f"{k} AS k{i}" for i, k in enumerate(rights))
        on = " AND ".join(f"a.k{i} = b.k{i}" for i in range(len(lefts)))
        itself = " AND ".join(f"({a}) = ({b})" for a, b in conditions)
        sql = (
            f"SELECT (coalesce((SELECT sum(a.n * b.n) FROM "  # noqa: S608
            f"(SELECT {left}, count(*) AS n FROM cp_keys WHERE {where} GROUP BY ALL) a JOIN "
            f"(SELECT {right}, count(*) AS n FROM cp_keys WHERE {where} GROUP BY ALL) b "
            f"ON {on}), 0) - (SELECT count(*) FROM cp_keys WHERE {where} AND {itself})) / 2"
        )
    [(pairs,)] = con.execute(sql).fetchall()
    return int(pairs)


def join_pairs(con: Any, rule: Any, earlier: list[Any], where: str) -> int:
    """The pairs a rule adds beyond the earlier rules: Splink's join, counted."""
    return added_pairs(con, rule, earlier, where)[0]


def added_pairs(con: Any, rule: Any, earlier: list[Any], where: str) -> tuple[int, int]:
    """The pairs a rule adds beyond the earlier rules (Splink's join, counted), and how many
    of them are two records of one child."""
    sql = rule.get_blocking_rule("duckdb").blocking_rule_sql
    before = "".join(
        f" AND NOT coalesce(({r.get_blocking_rule('duckdb').blocking_rule_sql}), false)"
        for r in earlier
    )
    [(pairs, true)] = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE l.cp_person = r.cp_person) "  # noqa: S608
        f"FROM (SELECT * FROM cp_keys WHERE {where}) l "
        f"JOIN (SELECT * FROM cp_keys WHERE {where}) r "
        f"ON ({sql}) AND l.unique_id < r.unique_id WHERE true{before}"
    ).fetchall()
    return int(pairs), int(true)


def count(con: Any, rules: tuple[Any, ...], children: int, total: int) -> tuple[int, list[int]]:
    """Print each rule's pairs for a random share of the children (all of them if equal);
    return the children counted and the pairs each rule added."""
    where = (
        "true"
        if children >= total
        else f"hash(cp_person) % 1000000 < {children * 1_000_000 // total}"
    )
    [(records, people)] = con.execute(
        f"SELECT count(*), count(DISTINCT cp_person) FROM cp_keys WHERE {where}"  # noqa: S608
    ).fetchall()
    started = time.process_time()
    alone = [equi_pairs(con, rule, where) for rule in rules]
    both = [added_pairs(con, rule, list(rules[:k]), where) for k, rule in enumerate(rules)]
    cpu = time.process_time() - started
    added = [pairs for pairs, _ in both]
    union = sum(added)
    print(
        f"\n{people:,} children, {records:,} records: {union:,} blocked pairs, "
        f"{union / records:.2f} a record (counted in {cpu:,.0f} s of CPU)"
    )
    print("| rule | pairs alone | pairs added | true pairs added | share of the union |")
    print("|---|---|---|---|---|")
    for k, rule in enumerate(rules):
        sql = rule.get_blocking_rule("duckdb").blocking_rule_sql
        print(
            f"| `{sql}` | {alone[k]:,} | {added[k]:,} | {both[k][1]:,} "
            f"| {added[k] / max(union, 1):.1%} |"
        )
    return people, added


def project(rules: tuple[Any, ...], counted: list[tuple[int, list[int]]], children: int) -> None:
    """Each rule's added pairs at `children`, from the two largest counts: a part that grows
    with the children (a child's own records, twins) and one with their square (strangers
    who share a birth date, say), fitted as a*n + b*n*n through both."""
    (n1, small), (n2, large) = counted[-2:]
    total = 0.0
    print(f"\nprojected at {children:,} children (a*n + b*n^2 through {n1:,} and {n2:,}):")
    print("| rule | pairs added |")
    print("|---|---|")
    for k, rule in enumerate(rules):
        b = (large[k] / n2 - small[k] / n1) / (n2 - n1)
        a = small[k] / n1 - b * n1
        pairs = max(a * children + b * children**2, 0.0)
        total += pairs
        print(f"| `{rule.get_blocking_rule('duckdb').blocking_rule_sql}` | {pairs:,.0f} |")
    print(f"| union | {total:,.0f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=pathlib.Path, required=True, help="a Parquet file")
    parser.add_argument("--feeds", type=pathlib.Path, help="a synth folder, if --keys is new")
    parser.add_argument("--sizes", default="", help="children, comma-separated")
    parser.add_argument("--rules", help="a git revision (default: the working tree's rules)")
    parser.add_argument("--project", type=int, default=11_000_000, help="children to project to")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="blocking-national-") as tmp:
        setup_django(pathlib.Path(tmp) / "var")
        from contactpoint.linkage import blocking, training

        if not args.keys.exists():
            write_keys(args.feeds, args.keys)
        rules = rules_at(args.rules) if args.rules else blocking.BLOCKING_RULES
        con = training.connect()
        con.execute(f"CREATE TABLE cp_keys AS SELECT * FROM read_parquet('{args.keys}')")  # noqa: S608
        [(total,)] = con.execute("SELECT count(DISTINCT cp_person) FROM cp_keys").fetchall()
        print(f"machine:  {machine()}")
        print(f"commit:   {commit()}; rules of {args.rules or 'the working tree'}")
        sizes = sorted(int(s) for s in args.sizes.split(",") if s)
        counted = [
            count(con, rules, children, total)
            for children in [*(s for s in sizes if s < total), total]
        ]
        if len(counted) > 1:
            project(rules, counted, args.project)
    return 0


if __name__ == "__main__":
    sys.exit(main())
