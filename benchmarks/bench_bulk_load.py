"""Benchmark `contactpoint load --bulk`: rows per second and peak memory of a first load.

Generates a population with `synth`, bulk loads it into new, empty SQLite databases in a
temporary data directory (or, with --database-url, into that PostgreSQL database and the
one of the same name plus `_keys`, dropped and made again before each load; their names
must start with `bench_` or end with `_bench`), and prints the figures (the row loader's
are bench_load.py's). With --compare, the same feeds are loaded --repeat times each way,
interleaved: rows written with executemany (as before COPY) and as the code writes them
(COPY on PostgreSQL); it prints each load's bulk write rate and the medians.

Usage: .venv/bin/python benchmarks/bench_bulk_load.py [--children N] [--chunk-size C]
       [--database-url postgres://postgres@127.0.0.1:5432/bench_bulk] [--compare --repeat R]
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys
import tempfile

from measure import (
    EXECUTEMANY,
    Timed,
    commit,
    contactpoint,
    fresh_postgres,
    interleaved,
    machine,
    registry_env,
    run_timed,
    synth,
)

WRITE_DONE = re.compile(r"load: bulk write: done, ([\d,]+) rows, (\d+) s, ([\d,]+) rows/s")


def steps(stderr: str) -> str:
    """The load's progress lines worth keeping: each step, and the write only when done."""
    kept = [
        line
        for line in stderr.splitlines()
        if line.startswith(("bulk:", "link:", "load:"))
        and ("done" in line or not line.startswith("load: bulk write:"))
    ]
    return "\n".join(f"                {line}" for line in kept)


def write_rate(load: Timed) -> float:
    """The bulk write step's rows per second, as the load reported it."""
    found = WRITE_DONE.search(load.stderr)
    if found is None:
        raise SystemExit("the load reported no bulk write")
    return float(found.group(3).replace(",", ""))


def load_once(
    tmp: pathlib.Path, feeds: pathlib.Path, url: str | None, chunk: int, executemany: bool
) -> tuple[Timed, pathlib.Path]:
    """Bulk load `feeds` into new databases; return the timing and the data directory."""
    data = pathlib.Path(tempfile.mkdtemp(prefix="var-", dir=tmp))
    if url:
        fresh_postgres(url)
    env = registry_env(data, 0, url)
    if executemany:
        env[EXECUTEMANY] = "1"
    contactpoint(env, "init", "--quiet")
    return run_timed(env, "load", "--bulk", "--chunk-size", str(chunk), str(feeds)), data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--database-url", help="PostgreSQL, e.g. postgres://...:5432/bench_x")
    parser.add_argument("--compare", action="store_true", help="executemany against COPY")
    parser.add_argument("--repeat", type=int, default=2, help="loads each way with --compare")
    args = parser.parse_args()
    database = "PostgreSQL" if args.database_url else "SQLite (WAL)"
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as name:
        tmp = pathlib.Path(name)
        feeds = tmp / "feeds"
        rows = synth(registry_env(tmp / "synth", 0), args.children, args.seed, feeds)
        print(f"machine:        {machine()}")
        print(f"commit:         {commit()}")
        print(f"database:       {database}")
        print(
            f"children:       {args.children:,} (seed {args.seed}), {rows:,} feed rows, "
            f"chunk size {args.chunk_size} clusters"
        )
        if args.compare:

            def run(way: str) -> tuple[float, str]:
                executemany = way == "executemany"
                load, _ = load_once(tmp, feeds, args.database_url, args.chunk_size, executemany)
                return write_rate(load), f"load {load.seconds:,.1f} s, bulk write"

            interleaved(["executemany", "as written"], args.repeat, run)
            return 0
        load, data = load_once(tmp, feeds, args.database_url, args.chunk_size, False)
        registry = sum(f.stat().st_size for f in (data / "db").glob("contactpoint.sqlite3*"))
        keystore = sum(f.stat().st_size for f in (data / "db").glob("keystore.sqlite3*"))
    print(f"wall time:      {load.seconds:,.1f} s")
    print(f"rows/s:         {rows / load.seconds:,.0f}")
    print(f"bulk write:     {write_rate(load):,.0f} rows/s")
    print(f"peak RSS:       {load.peak / 1024**2:,.0f} MiB (load process tree)")
    if not args.database_url:
        print(
            f"on disk:        registry {registry / 1e9:,.2f} GB ({registry / args.children:,.0f} "
            f"bytes a child), key store {keystore / 1e9:,.2f} GB"
        )
    print(f"steps:\n{steps(load.stderr)}")
    print(f"summary:        {load.stdout}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
