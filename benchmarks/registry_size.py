"""Bytes a child, by table and including every index, of a registry built by `load --bulk`.

Writes a synthetic population with `synth` and bulk loads it, as `make demo-data` does, into
new databases: SQLite in a temporary data directory and PostgreSQL in the databases named
by `--database-url` (and the same name plus `_keys` for the key store), both dropped and
created afresh. Then it prints each table's bytes (rows and indexes apart) divided by the
children on the index. The audit log (`audit_*`) is printed but left out of the total, as
is the key store (another database).

SQLite: the pages of each table and index from the `dbstat` virtual table (the file's free
pages are printed apart). PostgreSQL: `pg_table_size` (heap and TOAST) and
`pg_indexes_size`, after `VACUUM ANALYZE` so the figures do not count rows a load updated.

Usage: .venv/bin/python benchmarks/registry_size.py [--children N] [--seed S]
           [--database-url postgres://postgres@127.0.0.1:5432/NAME] [--no-postgres]
           [--no-sqlite] [--keep DIR]
       .venv/bin/python benchmarks/registry_size.py [--data DIR] [--measure-url URL]
           (measure an existing SQLite registry in DIR, an existing PostgreSQL one at URL)
"""

from __future__ import annotations

import argparse
import pathlib
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from measure import commit, contactpoint, machine, registry_env, synth

AUDIT = "audit_"


@dataclass(frozen=True)
class Table:
    name: str
    rows: int
    data: int  # bytes of the table itself (PostgreSQL: heap and TOAST)
    indexes: int  # bytes of all its indexes

    @property
    def total(self) -> int:
        return self.data + self.indexes


def sqlite_tables(path: pathlib.Path) -> tuple[list[Table], int]:
    """Every table of the SQLite database at `path` and its free bytes."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        owner = dict(
            db.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")
        )
        data: dict[str, int] = {}
        indexes: dict[str, int] = {}
        for name, size in db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            bucket = data if table == name else indexes
            bucket[table] = bucket.get(table, 0) + size
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0] * page_size
        tables = []
        for name in sorted(set(data) | set(indexes)):
            if name.startswith("sqlite_"):
                continue
            (rows,) = db.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()  # noqa: S608
            tables.append(Table(name, rows, data.get(name, 0), indexes.get(name, 0)))
        return tables, free
    finally:
        db.close()


def postgres_tables(url: str) -> list[Table]:
    """Every table of the PostgreSQL database at `url` (schema public), after VACUUM ANALYZE."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute("VACUUM ANALYZE")
        names = [
            n
            for (n,) in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        tables = []
        for name in names:
            (rows,) = db.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()  # type: ignore[misc]  # noqa: S608
            size, indexes = db.execute(
                "SELECT pg_table_size(%s::regclass), pg_indexes_size(%s::regclass)",
                (f'"{name}"', f'"{name}"'),
            ).fetchone()  # type: ignore[misc]
            tables.append(Table(name, rows, size, indexes))
        return tables


def children_of(tables: list[Table]) -> int:
    return next(t.rows for t in tables if t.name == "registry_child")


def _line(name: str, *cells: str) -> str:
    return f"  {name:<34}" + "".join(f" {c:>10}" for c in cells)


def report(title: str, tables: list[Table], extra: str = "") -> None:
    """Print one database's tables, largest first, bytes a child."""
    children = children_of(tables)
    registry = [t for t in tables if not t.name.startswith(AUDIT)]
    audit = [t for t in tables if t.name.startswith(AUDIT)]
    total = sum(t.total for t in registry)

    def per_child(size: int) -> str:
        return f"{size / children:,.0f}"

    print(f"\n{title}: {children:,} children on the index")
    print(_line("table", "rows", "rows/child", "table B/ch", "index B/ch", "total B/ch"))
    small = [t for t in registry if t.total * 200 < total]  # under 0.5%: summed
    for t in sorted(registry, key=lambda t: -t.total):
        if t not in small:
            print(
                _line(
                    t.name,
                    f"{t.rows:,}",
                    f"{t.rows / children:.2f}",
                    per_child(t.data),
                    per_child(t.indexes),
                    per_child(t.total),
                )
            )
    print(
        _line(
            f"({len(small)} smaller tables)", "", "", "", "", per_child(sum(t.total for t in small))
        )
    )
    data = sum(t.data for t in registry)
    indexes = sum(t.indexes for t in registry)
    print(
        _line(
            "registry, audit log excluded",
            "",
            "",
            per_child(data),
            per_child(indexes),
            per_child(total),
        )
        + f"   ({total / 1e6:,.1f} MB)"
    )
    print(_line("audit log (not counted)", "", "", "", "", per_child(sum(t.total for t in audit))))
    if extra:
        print(f"  {extra}")


def recreate(url: str) -> None:
    """Drop and create the PostgreSQL database at `url` and its key store (`url` + _keys)."""
    for full in (url, url + "_keys"):
        base, name = full.rsplit("/", 1)
        host = base.split("@", 1)[1].split(":")[0]
        for verb in ("dropdb", "createdb"):
            flags = ["--if-exists"] if verb == "dropdb" else []
            subprocess.run([verb, "-h", host, "-U", "postgres", *flags, name], check=True)


def load(env: dict[str, str], feeds: pathlib.Path) -> float:
    contactpoint(env, "init", "--quiet")
    started = time.monotonic()
    contactpoint(env, "load", "--bulk", "--quiet", str(feeds))
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/registry_size"
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--keep", type=pathlib.Path, help="build in DIR and keep it")
    parser.add_argument("--data", type=pathlib.Path, help="only measure the SQLite registry in DIR")
    parser.add_argument("--measure-url", help="only measure the PostgreSQL registry at this URL")
    args = parser.parse_args()
    print(f"machine:        {machine()}")
    print(f"commit:         {commit()}")
    if args.data or args.measure_url:
        if args.data:
            tables, free = sqlite_tables(args.data / "db" / "contactpoint.sqlite3")
            report(f"SQLite ({args.data})", tables, f"free pages in the file: {free / 1e6:,.1f} MB")
        if args.measure_url:
            report(f"PostgreSQL ({args.measure_url})", postgres_tables(args.measure_url))
        return 0
    with tempfile.TemporaryDirectory(prefix="registry-size-") as tmp:
        root = args.keep or pathlib.Path(tmp)
        feeds = root / "feeds"
        if not (feeds / "manifest.json").exists():
            synth(registry_env(root / "synth", 0), args.children, args.seed, feeds)
        print(f"children:       {args.children:,} synthesised (seed {args.seed}), load --bulk")
        if not args.no_sqlite:
            seconds = load(registry_env(root / "sqlite", 0), feeds)
            path = root / "sqlite" / "db" / "contactpoint.sqlite3"
            tables, free = sqlite_tables(path)
            report(
                f"SQLite (load {seconds:,.0f} s)",
                tables,
                f"free pages in the file: {free / 1e6:,.1f} MB; "
                f"file {path.stat().st_size / 1e6:,.1f} MB",
            )
            sys.stdout.flush()
        if not args.no_postgres:
            recreate(args.database_url)
            seconds = load(registry_env(root / "postgres", 0, args.database_url), feeds)
            report(f"PostgreSQL (load {seconds:,.0f} s)", postgres_tables(args.database_url))
            if not args.keep:
                for full in (args.database_url, args.database_url + "_keys"):
                    name = full.rsplit("/", 1)[1]
                    subprocess.run(
                        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
