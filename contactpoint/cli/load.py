"""`contactpoint load DIR`: load a feed folder (docs/feeds.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from contactpoint.cli import error, progress
from contactpoint.ingest.loader import FeedError, load_folder
from contactpoint.ingest.organisations import OrganisationFileError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, help="a folder written by `contactpoint synth`")
    parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def run(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        return error("--batch-size must be at least 1")
    try:
        report = load_folder(args.folder, None if args.quiet else progress, args.batch_size)
    except (FeedError, OrganisationFileError) as exc:
        return error(str(exc))
    print(report.summary())
    return 0
