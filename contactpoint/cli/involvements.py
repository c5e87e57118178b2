"""`contactpoint involvements expire`: the nightly reminder and expiry of involvements.

Involvements not confirmed for 24 months end and leave the record; a month before, their
practitioners get an alert (and an e-mail with no child data) to confirm them. Safe to run
any number of times a day; `--dry-run` only counts (docs/practice.md).
"""

from __future__ import annotations

import argparse

from django.utils import timezone

from contactpoint.cli.common import answered, parse_date
from contactpoint.practice.involvements import expiry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    run_it = sub.add_parser("expire", help="remind, then expire, unconfirmed involvements")
    run_it.add_argument(
        "--dry-run", action="store_true", help="count what would happen; change nothing"
    )
    run_it.add_argument("--today", metavar="YYYY-MM-DD", help="act as on this day (default: today)")


def run(args: argparse.Namespace) -> int:
    return answered(_expire, args)


def _expire(args: argparse.Namespace) -> int:
    today = parse_date("--today", args.today) if args.today else timezone.localdate()
    report = expiry.run(today, dry_run=args.dry_run)
    verb = "would be" if args.dry_run else "were"
    print(f"{report.reminded} involvement(s) {verb} reminded to confirm")
    print(f"{report.expired} involvement(s) {verb} expired (not confirmed for 24 months)")
    return 0
