"""`contactpoint quarantine list`: rows and fields that were not loaded, and why."""

from __future__ import annotations

import argparse

from contactpoint.ingest.models import QuarantinedRow


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", help="list quarantined rows, oldest first")
    listing.add_argument("--source", help="only this source, e.g. school_census")
    listing.add_argument("--rejected", action="store_true", help="only rows not loaded at all")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")


def run(args: argparse.Namespace) -> int:
    rows = QuarantinedRow.objects.select_related("loaded_file__source").order_by("id")
    if args.source:
        rows = rows.filter(loaded_file__source__code=args.source)
    if args.rejected:
        rows = rows.filter(severity=QuarantinedRow.Severity.REJECTED)
    total = rows.count()
    print("source\tfile\tline\tfield\tseverity\treason")
    for row in rows[: args.limit]:
        f = row.loaded_file
        print(
            f"{f.source.code}\t{f.file_name}\t{row.line}\t{row.field}\t{row.severity}\t{row.reason}"
        )
    if total > args.limit:
        print(f"... and {total - args.limit:,} more (use --limit)")
    return 0
