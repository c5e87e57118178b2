"""Feed rows and feed files in the standard format, written as a source system sends them."""

from __future__ import annotations

import csv
from pathlib import Path

from contactpoint.registry.feeds import COLUMNS

ORGANISATIONS = (
    "code,kind,name,council_area_code,council_area_name,address_line1,town,postcode,phone,email\n"
    "A81001,gp_practice,Elm Tree Surgery,E09000007,Camden,1 High Street,London,NW1 1AA,"
    "020 7946 0000,surgery@example.nhs.uk\n"
    "100001,school,Parkside Primary School,E09000007,Camden,2 School Road,London,NW1 2AB,"
    "020 7946 0001,office@parkside.example\n"
)


def feed_row(**values: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(values)
    return row


# A made-up child the loading and linkage tests share.
AMELIA = dict(
    given_name="Amelia",
    family_name="Hartley",
    date_of_birth="2015-03-04",
    sex="F",
    address_line1="3 Elm Road",
    town="London",
    postcode="NW1 3AB",
    nhs_number="4010232137",
)


def child_row(record_id: str = "N1", **values: str) -> dict[str, str]:
    """An NHS demographics row for a made-up child, Ola Nowak; `values` change any field."""
    base = {
        "as_at": "2026-11-01",
        "given_name": "Ola",
        "family_name": "Nowak",
        "date_of_birth": "2016-05-05",
        "sex": "F",
        "nhs_number": "4010232137",
    }
    return feed_row(record_id=record_id, **{**base, **values})


def write_feed(folder: Path, source: str, rows: list[dict[str, str]], part: int = 0) -> Path:
    """Write a standard feed file (docs/feeds.md) and organisations.csv beside it."""
    (folder / source).mkdir(parents=True, exist_ok=True)
    if not (folder / "organisations.csv").exists():
        (folder / "organisations.csv").write_text(ORGANISATIONS, encoding="utf-8")
    path = folder / source / f"part-{part:05d}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path
