"""Benchmark `contactpoint load --bulk`: rows per second and peak memory of a first load.

Generates a population with `synth`, bulk loads it into new, empty SQLite databases in a
temporary data directory, and prints the figures (the row loader's are bench_load.py's).

Usage: .venv/bin/python benchmarks/bench_bulk_load.py [--children N] [--chunk-size C]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

from bench_load import environment
from measure import commit, contactpoint, machine, run_timed, synth


def steps(stderr: str) -> str:
    """The load's progress lines worth keeping: each step, and the write only when done."""
    kept = [
        line
        for line in stderr.splitlines()
        if line.startswith(("bulk:", "link:", "load:"))
        and ("done" in line or not line.startswith("load: bulk write:"))
    ]
    return "\n".join(f"                {line}" for line in kept)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as tmp:
        data, feeds = pathlib.Path(tmp) / "var", pathlib.Path(tmp) / "feeds"
        env = environment(data, postgres=False)
        rows = synth(env, args.children, args.seed, feeds)
        contactpoint(env, "init", "--quiet")
        load = run_timed(env, "load", "--bulk", "--chunk-size", str(args.chunk_size), str(feeds))
        registry = sum(f.stat().st_size for f in (data / "db").glob("contactpoint.sqlite3*"))
        keystore = sum(f.stat().st_size for f in (data / "db").glob("keystore.sqlite3*"))
    print(f"machine:        {machine()}")
    print(f"commit:         {commit()}")
    print("database:       SQLite (WAL)")
    print(
        f"children:       {args.children:,} (seed {args.seed}), {rows:,} feed rows, "
        f"chunk size {args.chunk_size} clusters"
    )
    print(f"wall time:      {load.seconds:,.1f} s")
    print(f"rows/s:         {rows / load.seconds:,.0f}")
    print(f"peak RSS:       {load.peak / 1024**2:,.0f} MiB (load process tree)")
    print(
        f"on disk:        registry {registry / 1e9:,.2f} GB ({registry / args.children:,.0f} "
        f"bytes a child), key store {keystore / 1e9:,.2f} GB"
    )
    print(f"steps:\n{steps(load.stderr)}")
    print(f"summary:        {load.stdout}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
