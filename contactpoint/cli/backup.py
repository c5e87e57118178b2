"""`contactpoint backup --out FILE`: a consistent backup of the registry (ciphertext only)."""

from __future__ import annotations

import argparse
from pathlib import Path

from contactpoint.backup.archive import write_backup
from contactpoint.cli import error, progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="file to write (.jsonl.gz)")


def run(args: argparse.Namespace) -> int:
    if not args.out.parent.is_dir():
        return error(f"{args.out.parent} is not a folder")
    counts = write_backup(args.out, progress)
    print(f"wrote {sum(counts.values()):,} rows to {args.out}")
    return 0
