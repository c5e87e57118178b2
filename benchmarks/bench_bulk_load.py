"""Benchmark `contactpoint load --bulk`: rows per second and peak memory of a first load.

Generates a population with `synth`, bulk loads it into new, empty SQLite databases in a
temporary data directory, and prints the figures (the row loader's are bench_load.py's).

Usage: .venv/bin/python benchmarks/bench_bulk_load.py [--children N] [--chunk-size C]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

from bench_load import contactpoint, environment
from measure import REPO, SAMPLE_SECONDS, commit, machine, tree_rss


def timed_bulk_load(
    env: dict[str, str], feeds: pathlib.Path, chunk: int
) -> tuple[float, int, str, str]:
    """Run the bulk load in a subprocess; return (seconds, peak tree RSS, summary, progress)."""
    command = [
        sys.executable,
        "-m",
        "contactpoint",
        "load",
        "--bulk",
        "--chunk-size",
        str(chunk),
        str(feeds),
    ]
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=err, text=True
        )
        peak = 0
        while child.poll() is None:
            peak = max(peak, tree_rss(child.pid))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.monotonic() - started
        err.seek(0)
        lines = [
            ln
            for ln in err.read().splitlines()
            if ln.startswith(("bulk:", "link:", "load:"))
            and ("done" in ln or not ln.startswith("load: bulk write:"))  # not every tick
        ]
    summary = child.stdout.read().strip() if child.stdout else ""
    if child.returncode != 0:
        raise SystemExit(f"bulk load failed with status {child.returncode}: {lines[-1:]}")
    return seconds, peak, summary, "\n".join(f"                {ln}" for ln in lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as tmp:
        data, feeds = pathlib.Path(tmp) / "var", pathlib.Path(tmp) / "feeds"
        env = environment(data, postgres=False)
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
        seconds, peak, summary, steps = timed_bulk_load(env, feeds, args.chunk_size)
        rows = sum(
            s["rows"] for s in json.loads((feeds / "manifest.json").read_text())["sources"].values()
        )
    print(f"machine:        {machine()}")
    print(f"commit:         {commit()} (with uncommitted work)")
    print("database:       SQLite (WAL)")
    print(
        f"children:       {args.children:,} (seed {args.seed}), {rows:,} feed rows, "
        f"chunk size {args.chunk_size} clusters"
    )
    print(f"wall time:      {seconds:,.1f} s")
    print(f"rows/s:         {rows / seconds:,.0f}")
    print(f"peak RSS:       {peak / 1024**2:,.0f} MiB (load process tree)")
    print(f"steps:\n{steps}")
    print(f"summary:        {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
