"""`contactpoint restore FILE`: restore a backup into a new, empty registry."""

from __future__ import annotations

import argparse
from pathlib import Path

from contactpoint.backup.archive import BackupError, restore_backup
from contactpoint.cli import error, progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="a file written by `contactpoint backup`")


def run(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        return error(f"{args.file} does not exist")
    try:
        counts = restore_backup(args.file, progress)
    except BackupError as exc:
        return error(str(exc))
    print(f"restored {sum(counts.values()):,} rows from {args.file}")
    return 0
