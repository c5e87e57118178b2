"""Blocking recall under one error per record, by kind of error (docs/linkage.md).

Takes records of a synthetic feed folder, and for each kind of error pairs every record
with a copy of itself carrying that one error (identifiers removed, so that nothing else
can find it). Prints, per kind, the share of pairs that reach scoring: in bulk under the
rules before the date-part rules (birth year + both names) and now
(blocking.BLOCKING_RULES), and in real time on the exact blind-index keys
(candidates.record_entries) and with the error variants (candidates.variant_entries), the
copy's lookups against the entries the original would write. The errors are made here,
apart from `synth`'s error model.

Usage: CONTACTPOINT_DATA_DIR=... .venv/bin/python benchmarks/blocking_errors.py FEEDS
       [--records N] [--no-postcode]  (the copy also loses its postcode)
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import logging
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Change = Callable[[Any], dict[str, Any] | None]
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def typo(text: str, rng: random.Random) -> str:
    chars, i = list(text), rng.randrange(len(text))
    kind = rng.choice("sdit")
    if kind == "s":
        chars[i] = rng.choice(LETTERS)
    elif kind == "d" and len(chars) > 2:
        del chars[i]
    elif kind == "i":
        chars.insert(i, rng.choice(LETTERS))
    elif i + 1 < len(chars):
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def digit(d: dt.date, rng: random.Random) -> dt.date:
    """One digit of the year's last two, the month or the day, to a real date in 2000-2026."""
    iso = d.isoformat()
    while True:
        i = rng.choice([2, 3, 5, 6, 8, 9])
        try:
            found = dt.date.fromisoformat(iso[:i] + rng.choice("0123456789") + iso[i + 1 :])
        except ValueError:
            continue
        if found != d and 2000 <= found.year <= 2026:
            return found


def year_off(d: dt.date, rng: random.Random) -> dt.date:
    step = rng.choice((-1, 1))
    try:
        return d.replace(year=d.year + step)
    except ValueError:  # 29 February
        return d.replace(day=28, year=d.year + step)


def kinds(rng: random.Random) -> dict[str, Change]:
    def swap(r: Any) -> dict[str, Any] | None:
        d = r.date_of_birth
        if d.day > 12 or d.day == d.month:
            return None
        return {"date_of_birth": d.replace(month=d.day, day=d.month).isoformat()}

    return {
        "typo in the given name": lambda r: {"given_name": typo(r.given_name, rng)},
        "typo in the family name": lambda r: {"family_name": typo(r.family_name, rng)},
        "a digit of the birth date": lambda r: {
            "date_of_birth": digit(r.date_of_birth, rng).isoformat()
        },
        "year off by one": lambda r: {"date_of_birth": year_off(r.date_of_birth, rng).isoformat()},
        "day and month swapped": swap,
        "names swapped": lambda r: {"given_name": r.family_name, "family_name": r.given_name},
        "no birth date": lambda r: {"date_of_birth": None},
        "no postcode": lambda r: {"postcode": None},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("feeds", type=Path)
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--no-postcode", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactpoint.settings")
    import django

    django.setup()
    logging.getLogger("splink").setLevel(logging.WARNING)
    from splink import block_on

    from contactpoint.linkage import bulk
    from contactpoint.linkage.records import LinkRecord, from_canonical
    from contactpoint.registry import blind_index
    from contactpoint.registry.candidates import record_entries, variant_entries
    from contactpoint.registry.feeds import FeedRecord, RowParser, source_files

    before = (
        block_on("nhs_number"),
        block_on("upn"),
        block_on("dob", "family_phonetic"),
        block_on("dob", "given_phonetic"),
        block_on("birth_year", "given_phonetic", "family_phonetic"),
        block_on("postcode", "given_phonetic"),
    )
    rows = RowParser(dt.date.today())
    base: list[FeedRecord] = []
    for _, path in source_files(args.feeds):
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader)
            base += [r for v in reader if (r := rows.parse_values(v)) and r.given_name]
    rng = random.Random(7)
    rng.shuffle(base)
    base = base[: args.records]

    def stored(r: FeedRecord) -> set[tuple[int, int]]:
        found: set[tuple[int, int]] = set()
        for family in {r.family_name, r.former_family_name} - {""}:
            entries = blind_index.name_entries(r.given_name, family, r.date_of_birth, r.postcode)
            found |= {(int(i), v) for i, v in entries}
        return found

    print("| error | pairs | bulk before | bulk now | real time, exact | with variants |")
    for kind, change in kinds(rng).items():
        links: list[LinkRecord] = []
        truth: dict[str, str] = {}
        exact = reached = pairs = 0
        for n, record in enumerate(base):
            wrong = change(record)
            if wrong is None:
                continue
            doc = {**record.canonical(), "nhs_number": None, "upn": None}
            bad = {**doc, **wrong, **({"postcode": None} if args.no_postcode else {})}
            links += [from_canonical(f"a{n}", doc), from_canonical(f"b{n}", bad)]
            truth[f"a{n}"] = truth[f"b{n}"] = str(n)
            copy, held = FeedRecord.from_canonical(bad), stored(FeedRecord.from_canonical(doc))
            keys = record_entries(copy)
            exact += bool(keys & held)
            reached += bool((keys | variant_entries(copy)) & held)
            pairs += 1
        old = bulk.blocking_recall(links, truth, before).recall
        new = bulk.blocking_recall(links, truth).recall
        print(
            f"| {kind} | {pairs} | {old:.4f} | {new:.4f} | {exact / pairs:.4f} "
            f"| {reached / pairs:.4f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
