"""Benchmark `contactpoint load`: rows per second and peak memory, on SQLite or PostgreSQL.

Generates a population with `synth`, loads it into new, empty databases in a temporary
data directory (or, with --postgres, into databases bench_contactpoint and
bench_contactpoint_keys on 127.0.0.1:5432, dropped and made again), and prints the figures.

Usage: .venv/bin/python benchmarks/bench_load.py [--children N] [--postgres] [--batch-size B]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

from measure import commit, contactpoint, machine, run_timed, synth

PG = "postgres://postgres@127.0.0.1:5432/"


def environment(data: pathlib.Path, postgres: bool) -> dict[str, str]:
    env = {**os.environ, "CONTACTPOINT_ENV": "development", "CONTACTPOINT_DATA_DIR": str(data)}
    if postgres:
        for name in ("bench_contactpoint", "bench_contactpoint_keys"):
            for verb in ("dropdb", "createdb"):
                flags = ["--if-exists"] if verb == "dropdb" else []
                subprocess.run(
                    [verb, "-h", "127.0.0.1", "-U", "postgres", *flags, name], check=True
                )
        env["DATABASE_URL"] = PG + "bench_contactpoint"
        env["CONTACTPOINT_KEYSTORE_URL"] = PG + "bench_contactpoint_keys"
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        data, feeds = pathlib.Path(tmp) / "var", pathlib.Path(tmp) / "feeds"
        env = environment(data, args.postgres)
        rows = synth(env, args.children, args.seed, feeds)
        contactpoint(env, "init", "--quiet")
        load = run_timed(env, "load", str(feeds), "--quiet", "--batch-size", str(args.batch_size))
    print(f"machine:        {machine()}")
    print(f"commit:         {commit()}")
    print(f"database:       {'PostgreSQL 127.0.0.1' if args.postgres else 'SQLite (WAL)'}")
    print(
        f"children:       {args.children:,} (seed {args.seed}), {rows:,} feed rows, "
        f"batch size {args.batch_size}"
    )
    print(f"wall time:      {load.seconds:,.1f} s")
    print(f"rows/s:         {rows / load.seconds:,.0f}")
    print(f"peak RSS:       {load.peak / 1024**2:,.0f} MiB (load process tree)")
    print(f"summary:        {load.stdout}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
