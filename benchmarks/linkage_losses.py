"""Where the true pairs a registry missed went: counts by cause, never a value.

Reads a registry that `benchmarks/linkage_independent.py --keep` (or any load) left in a
data directory, and the truth file of the same records, and puts every true pair in one
class:

- found: both records linked to one child;
- quarantined: a record of the pair never loaded (an empty family name, say);
- both thin: both records wait, each too thin to match safely (`realtime.too_thin`), by
  what they lack (no date of birth, no given name);
- one thin: one record waits as too thin, the other is linked; with or without its
  child among the waiting record's candidates;
- review: one or both wait for another reason (review band, runner-up, several,
  shielded), with or without the right child among the candidates;
- split: both linked, to two children.

The registry's payloads are opened in this process (development keys): benchmarks only.

Usage: .venv/bin/python benchmarks/linkage_losses.py DATA_DIR TRUTH_CSV
"""

from __future__ import annotations

import csv
import json
import sys
import uuid
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

from measure import setup_django


def main() -> None:
    data, truth = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    setup_django(data)
    from contactpoint.linkage.models import ReviewItem
    from contactpoint.linkage.realtime import too_thin
    from contactpoint.linkage.records import from_feed
    from contactpoint.linkage.relink import owner_of
    from contactpoint.linkage.review_items import abouts
    from contactpoint.registry.children import ciphers_for
    from contactpoint.registry.feeds import FeedRecord
    from contactpoint.registry.models import SourceRecord
    from contactpoint.registry.sources import record_ref

    people: dict[str, list[bytes]] = defaultdict(list)
    with truth.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            people[row["child_key"]].append(record_ref(row["source"], row["record_id"]))
    records = {bytes(sr.record_ref): sr for sr in SourceRecord.objects.all()}
    ciphers = ciphers_for({owner_of(sr) for sr in records.values()})
    lacks: dict[bytes, str] = {}
    for ref, sr in records.items():
        body = ciphers[owner_of(sr)].open(SourceRecord, "payload", sr.pk, bytes(sr.payload))
        if body is None:
            continue
        link = from_feed(str(sr.pk), FeedRecord.from_canonical(json.loads(body)))
        if too_thin(link):
            lacks[ref] = "no birth date" if link.dob is None else "no given name"
    open_items = list(ReviewItem.objects.filter(status=ReviewItem.Status.OPEN))
    opened = {
        i.source_record_id: a for i, a in zip(open_items, abouts(open_items).values(), strict=True)
    }
    listed: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for sr_id, about in opened.items():
        listed[sr_id] |= about.child_ids()

    def reason(sr: SourceRecord) -> str:
        about = opened.get(sr.pk)
        return about.reason if about else "none"

    causes: Counter[str] = Counter()
    for refs in people.values():
        for a, b in combinations(refs, 2):
            left, right = records.get(a), records.get(b)
            if left is None or right is None:
                causes["quarantined"] += 1
                continue
            if left.child_id and left.child_id == right.child_id:
                causes["found"] += 1
            elif left.child_id and right.child_id:
                causes["split between two children"] += 1
            elif not left.child_id and not right.child_id:
                both = sorted({lacks.get(a, reason(left)), lacks.get(b, reason(right))})
                shared = " (a shared candidate)" if listed[left.pk] & listed[right.pk] else ""
                causes[f"both wait: {' + '.join(both)}{shared}"] += 1
            else:
                waiting, linked = (left, right) if not left.child_id else (right, left)
                ref = bytes(waiting.record_ref)
                why = f"thin, {lacks[ref]}" if ref in lacks else reason(waiting)
                right_child = linked.child_id in listed[waiting.pk]
                where = "its child a candidate" if right_child else "its child not a candidate"
                causes[f"one waits ({why}), {where}"] += 1
    total = sum(causes.values())
    print(f"true pairs: {total:,}")
    for cause, n in causes.most_common():
        print(f"{n:>6,}  {cause}")


if __name__ == "__main__":
    main()
