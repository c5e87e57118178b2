"""`contactpoint synth`: write a synthetic national population and its source feeds.

--out must be empty or missing, or hold only a previous synth output (a manifest.json
of format contactpoint-synth/1 plus the files and folders synth writes); that output is
then deleted and replaced. Anything else in --out makes the command refuse, exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import sys
import time

from contactpoint.synth import rates
from contactpoint.synth.generate import generate

OWN_ENTRIES = frozenset({"manifest.json", "organisations.csv", "truth", *rates.SOURCES})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the synth options to a (sub)command parser."""
    parser.add_argument(
        "--children", type=int, default=20_000, help="children to generate (default 20,000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--out", type=pathlib.Path, required=True, help="output directory")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count(), help="processes (default: all cores)"
    )


def previous_output(out: pathlib.Path) -> bool:
    """Return whether out holds nothing but an earlier synth output."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    names = {p.name for p in out.iterdir()}
    return (
        isinstance(manifest, dict)
        and manifest.get("format") == rates.FORMAT
        and names <= OWN_ENTRIES
    )


def clear_previous(out: pathlib.Path) -> None:
    """Delete an earlier synth output from out."""
    for entry in out.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def run(args: argparse.Namespace) -> int:
    """Run the command; return the exit status."""
    out: pathlib.Path = args.out
    if args.children < 1 or (args.workers is not None and args.workers < 1):
        print("synth: --children and --workers must be at least 1", file=sys.stderr)
        return 2
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not previous_output(out):
            print(
                f"synth: {out} is not empty and does not hold a previous synth output; "
                "choose an empty or new directory",
                file=sys.stderr,
            )
            return 2
        print(f"synth: replacing the previous synth output in {out}", file=sys.stderr)
        clear_previous(out)
    started = time.monotonic()
    manifest = generate(
        args.children,
        args.seed,
        out,
        workers=args.workers,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    rows = sum(s.rows for s in manifest.sources.values())
    print(
        f"synth: wrote {args.children:,} children, {rows:,} source rows, "
        f"{manifest.bytes_written / 1e9:.2f} GB to {out} in {time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run synth as a stand-alone program (python -m contactpoint.synth.cli)."""
    parser = argparse.ArgumentParser(prog="contactpoint synth", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
