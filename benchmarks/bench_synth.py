"""Benchmark `contactpoint synth`: wall time and peak memory of the whole process tree.

Usage: .venv/bin/python benchmarks/bench_synth.py [--children N] [--seed S] [--workers W] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

from measure import REPO, SAMPLE_SECONDS, commit, machine, tree_rss


def run(args: argparse.Namespace, out: pathlib.Path) -> tuple[float, int, int]:
    """Run the generator in a subprocess; return (seconds, peak tree RSS, exit status)."""
    command = [
        sys.executable,
        "-m",
        "contactpoint.synth.cli",
        "--children",
        str(args.children),
        "--seed",
        str(args.seed),
        "--out",
        str(out),
    ]
    if args.workers:
        command += ["--workers", str(args.workers)]
    started = time.monotonic()
    child = subprocess.Popen(command, cwd=REPO)
    peak = 0
    while child.poll() is None:
        peak = max(peak, tree_rss(child.pid))
        time.sleep(SAMPLE_SECONDS)
    return time.monotonic() - started, peak, child.returncode


def report(args: argparse.Namespace, out: pathlib.Path, seconds: float, peak: int) -> None:
    """Print the figures."""
    manifest = json.loads((out / "manifest.json").read_text())
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    truth = sum(p.stat().st_size for p in (out / "truth").glob("*.csv"))
    print(f"machine:        {machine()}")
    print(f"commit:         {commit()}")
    print(
        f"children:       {args.children:,} (seed {args.seed}, "
        f"workers {args.workers or os.cpu_count()})"
    )
    print(f"wall time:      {seconds:,.1f} s")
    print(f"children/s:     {args.children / seconds:,.0f}")
    for source, summary in manifest["sources"].items():
        print(f"rows {source + ':':21s}{summary['rows']:>12,}")
    rows = sum(s["rows"] for s in manifest["sources"].values())
    print(f"rows total:          {rows:>12,}  ({rows / seconds:,.0f} rows/s)")
    print(f"organisations:       {manifest['organisations']:>12,}")
    print(f"bytes written:  {size / 1e9:,.2f} GB (ground truth {truth / 1e9:,.2f} GB)")
    print(
        f"peak RSS:       {peak / 1024**3:,.2f} GiB "
        f"(sum over the process tree, sampled every {SAMPLE_SECONDS} s)"
    )


def main() -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=11_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the output and print where")
    parser.add_argument(
        "--dir", type=pathlib.Path, default=None, help="parent of the temporary output"
    )
    args = parser.parse_args()
    out = pathlib.Path(tempfile.mkdtemp(prefix="bench-synth-", dir=args.dir)) / "out"
    try:
        seconds, peak, status = run(args, out)
        if status != 0:
            print(f"synth failed with exit status {status}", file=sys.stderr)
            return status
        report(args, out, seconds, peak)
    finally:
        if args.keep:
            print(f"output kept in {out}")
        else:
            shutil.rmtree(out.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
