"""Benchmark `contactpoint load`: rows per second and peak memory, on SQLite or PostgreSQL.

Generates a population with `synth`, loads it into new, empty databases in a temporary
data directory (or, with --postgres, into databases bench_contactpoint and
bench_contactpoint_keys on 127.0.0.1:5432, dropped and made again), and prints the figures.

Usage: .venv/bin/python benchmarks/bench_load.py [--children N] [--postgres] [--batch-size B]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from measure import REPO, SAMPLE_SECONDS, commit, machine, tree_rss

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


def contactpoint(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "contactpoint", *args]
    return subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True, text=True)


def timed_load(env: dict[str, str], feeds: pathlib.Path, batch: int) -> tuple[float, int, str]:
    """Run the load in a subprocess; return (seconds, peak tree RSS, its summary line)."""
    command = [
        sys.executable,
        "-m",
        "contactpoint",
        "load",
        str(feeds),
        "--quiet",
        "--batch-size",
        str(batch),
    ]
    started = time.monotonic()
    child = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, text=True)
    peak = 0
    while child.poll() is None:
        peak = max(peak, tree_rss(child.pid))
        time.sleep(SAMPLE_SECONDS)
    seconds = time.monotonic() - started
    summary = child.stdout.read().strip() if child.stdout else ""
    if child.returncode != 0:
        raise SystemExit(f"load failed with status {child.returncode}")
    return seconds, peak, summary


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
        contactpoint(
            env,
            "synth",
            "--children",
            str(args.children),
            "--seed",
            str(args.seed),
            "--out",
            str(feeds),
        )
        contactpoint(env, "init", "--quiet")
        seconds, peak, summary = timed_load(env, feeds, args.batch_size)
        rows = sum(
            s["rows"] for s in json.loads((feeds / "manifest.json").read_text())["sources"].values()
        )
    print(f"machine:        {machine()}")
    print(f"commit:         {commit()}")
    print(f"database:       {'PostgreSQL 127.0.0.1' if args.postgres else 'SQLite (WAL)'}")
    print(
        f"children:       {args.children:,} (seed {args.seed}), {rows:,} feed rows, "
        f"batch size {args.batch_size}"
    )
    print(f"wall time:      {seconds:,.1f} s")
    print(f"rows/s:         {rows / seconds:,.0f}")
    print(f"peak RSS:       {peak / 1024**2:,.0f} MiB (load process tree)")
    print(f"summary:        {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
