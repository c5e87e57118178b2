"""`contactpoint retention run`: the nightly retention job (docs/retention.md).

Removes involvements that ended 12 months ago, archives children at 18 (25 with an
extension) and purges children archived six years ago by destroying their data keys. Safe
to run any number of times; `--dry-run` only counts; `--today` acts as on another day.
Counts go to stdout, progress to stderr; no child is ever named.

Exit codes: 0 done; 2 a mistake in the options, or the audit log could not be written
(every batch before is kept: run it again to finish).
"""

from __future__ import annotations

import argparse

from django.utils import timezone

from contactpoint.audit import log as audit_log
from contactpoint.cli import error, progress
from contactpoint.cli.common import answered, parse_date
from contactpoint.practice import retention

STOPPED = (
    "stopped: the audit log cannot be written just now; every batch before this one is done "
    "and audited, this one changed nothing: run it again to finish"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    run_it = sub.add_parser("run", help="archive, remove ended involvements, purge")
    run_it.add_argument(
        "--dry-run", action="store_true", help="count what would happen; change nothing"
    )
    run_it.add_argument("--today", metavar="YYYY-MM-DD", help="act as on this day (default: today)")


def run(args: argparse.Namespace) -> int:
    return answered(_run, args)


def _run(args: argparse.Namespace) -> int:
    today = parse_date("--today", args.today) if args.today else timezone.localdate()
    shown: dict[str, int] = {}

    def report(step: str, done: int) -> None:
        # Every 10 batches, so a long run shows it is alive without flooding the log.
        if done - shown.get(step, 0) >= 10 * retention.BATCH:
            shown[step] = done
            progress(f"{step}: {done:,} so far")

    try:
        done = retention.run(today, dry_run=args.dry_run, progress=report)
    except audit_log.AuditUnavailable:
        return error(STOPPED)
    verb = "would be" if args.dry_run else "were"
    print(f"retention as of {today.isoformat()}" + (" (dry run)" if args.dry_run else ""))
    print(f"{done.involvements_removed:,} ended involvement(s) {verb} removed")
    print(f"{done.archived:,} child(ren) {verb} archived")
    print(f"{done.purged:,} child(ren) {verb} purged (data key destroyed)")
    if done.age_unknown:
        print(f"{done.age_unknown:,} active child(ren) have no date of birth to go by")
    return 0
