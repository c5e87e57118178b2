"""`contactpoint indexes rebuild`: recompute every child's blind-index entries from their
source records' sealed payloads, for a registry loaded before an index was added
(docs/blind-indexes.md, "Changing an index"). Safe to stop and run again: each chunk of
children is rebuilt in its own transaction, and a rebuilt child is left as it is.
"""

from __future__ import annotations

import argparse
import time

from django.db import transaction

from contactpoint.cli import progress
from contactpoint.registry.golden import rebuild_indexes
from contactpoint.registry.models import Child

CHUNK = 400


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("rebuild", help="recompute every child's blind-index entries")


def run(args: argparse.Namespace) -> int:
    ids = list(Child.objects.order_by("pk").values_list("pk", flat=True))
    started = time.monotonic()
    for done in range(0, len(ids), CHUNK):
        with transaction.atomic():
            rebuild_indexes(ids[done : done + CHUNK])
        if (done // CHUNK) % 25 == 0:
            progress(f"indexes: {min(done + CHUNK, len(ids)):,} of {len(ids):,} children")
    seconds = time.monotonic() - started
    print(f"rebuilt the blind-index entries of {len(ids):,} children in {seconds:.1f} s")
    return 0
