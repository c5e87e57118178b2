"""`contactpoint oversight`: misuse detection for the privacy officers (docs/oversight.md).

- `detect [--day YYYY-MM-DD]`: judge the audited accesses of each UK day not judged yet
  (the last seven at most; one day with --day) and put the alerts in the privacy officers'
  queues. Run it every night after 02:00 UK time. Safe to run any number of times: a day
  is judged once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from contactpoint.audit.log import AuditUnavailable
from contactpoint.oversight import detection


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    detect = sub.add_parser("detect", help="judge the days not judged yet and raise alerts")
    detect.add_argument(
        "--day", type=_day, default=None, help="judge this UK day only (YYYY-MM-DD)"
    )


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from None


def run(args: argparse.Namespace) -> int:
    try:
        judged = detection.run(day=args.day)
    except ValueError as exc:
        print(f"contactpoint: error: {exc}", file=sys.stderr)
        return 2
    except AuditUnavailable:
        print(
            "contactpoint: error: the audit log cannot be written, so no day was judged; "
            "run again when it can",
            file=sys.stderr,
        )
        return 1
    if not judged:
        print("every day up to yesterday is judged already")
    for day in judged:
        if day.already:
            print(f"{day.day.isoformat()}: judged already, nothing done")
        else:
            print(
                f"{day.day.isoformat()}: {_count(day.accesses, 'access', 'accesses')}, "
                f"{_count(day.alerts, 'alert', 'alerts')} found, "
                f"{day.queued} new in the privacy officers' queues"
            )
    return 0


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"
