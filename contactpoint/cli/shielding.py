"""`contactpoint shielding remind`: the daily reminder of shieldings due for review.

Each shielding decided by two people carries a review date; when it comes, the local index
team that decided it gets an alert in the service (and an e-mail with no child data), once
per review date. Safe to run any number of times a day (docs/shielding.md).
"""

from __future__ import annotations

import argparse

from django.utils import timezone

from contactpoint.cli.common import answered, parse_date
from contactpoint.practice import shielding


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    remind = sub.add_parser("remind", help="remind the index teams of shieldings due for review")
    remind.add_argument("--today", metavar="YYYY-MM-DD", help="act as on this day (default: today)")


def run(args: argparse.Namespace) -> int:
    return answered(_remind, args)


def _remind(args: argparse.Namespace) -> int:
    today = parse_date("--today", args.today) if args.today else timezone.localdate()
    reminded = shielding.remind(today)
    print(f"{reminded} shielding(s) due for review were reminded")
    return 0
