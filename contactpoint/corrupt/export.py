"""Write clean children as local systems would export them: each its own layout and slips.

Each system (`Layout`) has its own column headings, delimiter, date format, address layout
("12 High Street" or "High St, 12") and case; each writes a CSV, the mapping file that
reads it with `contactpoint load --source CODE --mapping FILE`, and the ground truth rows
(`source,record_id,child_key`) that `contactpoint linkage evaluate --truth` reads. No file
has an NHS number or a UPN.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from contactpoint.corrupt.errors import Rates, Slips
from contactpoint.corrupt.people import Person, people

FIELDS = (
    "record_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
)
# strptime format -> how to write (day, month, year) digits in it.
DATE_FORMATS = {
    "%d/%m/%Y": "{d}/{m}/{y}",
    "%Y-%m-%d": "{y}-{m}-{d}",
    "%d.%m.%Y": "{d}.{m}.{y}",
}
SHORT_KINDS = {"Street": "St", "Road": "Rd", "Avenue": "Ave", "Close": "Cl", "Drive": "Dr"}
AS_AT = dt.date(2026, 11, 1)  # the extract date of every file, and the date ages are taken at
IN_BOTH = 0.85  # share of people in both systems; the rest are in one only, split evenly


@dataclass(frozen=True)
class Layout:
    """How one local system writes its extract."""

    code: str
    name: str
    record_prefix: str
    delimiter: str
    date_format: str  # a key of DATE_FORMATS
    headings: dict[str, str]  # standard field (FIELDS, and perhaps local_id) -> column heading
    street_first: bool = False  # "High St, 12" rather than "12 High Street"
    upper_case: bool = False  # names and address in capitals
    spaced_postcode: bool = True


EARLY_HELP = Layout(
    code="indep_early_help",
    name="Early help case system (independent test data)",
    record_prefix="EH",
    delimiter=",",
    date_format="%d/%m/%Y",
    headings={
        "record_id": "Case Ref",
        "given_name": "Forename",
        "family_name": "Surname",
        "date_of_birth": "DOB",
        "address_line1": "Address 1",
        "address_line2": "Address 2",
        "town": "Town",
        "postcode": "Postcode",
    },
)
YOUTH_SERVICE = Layout(
    code="indep_youth_service",
    name="Youth service records (independent test data)",
    record_prefix="YS",
    delimiter=";",
    date_format="%d.%m.%Y",
    headings={
        "record_id": "Person No",
        "given_name": "FIRST NAME",
        "family_name": "LAST NAME",
        "date_of_birth": "BIRTH DATE",
        "address_line1": "STREET ADDRESS",
        "address_line2": "LOCALITY",
        "town": "POST TOWN",
        "postcode": "POST CODE",
    },
    street_first=True,
    upper_case=True,
    spaced_postcode=False,
)
LAYOUTS = (EARLY_HELP, YOUTH_SERVICE)


@dataclass(frozen=True)
class SourceFile:
    code: str
    csv: Path
    mapping: Path
    layout: Layout


@dataclass
class Written:
    """What `write_independent` wrote, and how many slips of each kind it made."""

    sources: list[SourceFile]
    truth: Path
    people: int
    applied: Counter[str] = field(default_factory=Counter)
    tried: Counter[str] = field(default_factory=Counter)


def write_independent(
    out: Path,
    count: int,
    seed: int,
    rates: Rates | None = None,
    layouts: Sequence[Layout] = LAYOUTS,
) -> Written:
    """Write `count` people as `layouts` export them, into `out` (made if missing).

    Each person is in every system with chance IN_BOTH, else in just one; each system's
    copy gets its own slips at `rates` (Rates() when None, Rates.none() for none).
    """
    rng = random.Random(f"corrupt.export:{seed}")
    crowd = people(count, seed, AS_AT)
    slips = Slips(rng, rates if rates is not None else Rates())
    rows: dict[str, list[dict[str, str]]] = {layout.code: [] for layout in layouts}
    keys: dict[str, list[str]] = {layout.code: [] for layout in layouts}
    for person in crowd:
        for layout in _systems_holding(rng, layouts):
            rows[layout.code].append(exported(person, layout, slips))
            keys[layout.code].append(person.key)
    out.mkdir(parents=True, exist_ok=True)
    written = Written([], out / "truth" / "truth.csv", len(crowd), slips.applied, slips.tried)
    truth: list[tuple[str, str, str]] = []
    for layout in layouts:
        order = list(range(len(rows[layout.code])))
        rng.shuffle(order)  # a file's order says nothing about another's
        records = []
        for n, i in enumerate(order, start=1):
            record_id = f"{layout.record_prefix}{n:07d}"
            records.append({**rows[layout.code][i], "record_id": record_id})
            truth.append((layout.code, record_id, keys[layout.code][i]))
        written.sources.append(write_source(out, layout, records))
    write_truth(written.truth, truth)
    return written


def _systems_holding(rng: random.Random, layouts: Sequence[Layout]) -> Sequence[Layout]:
    if len(layouts) < 2 or rng.random() < IN_BOTH:
        return layouts
    return [rng.choice(layouts)]


def exported(person: Person, layout: Layout, slips: Slips) -> dict[str, str]:
    """One system's copy of a person: its slips, then its layout (no record_id yet)."""
    given, family = slips.given_name(person.given_name), slips.name(person.family_name)
    if slips.happens("names_swapped"):
        given, family = family, given
    if slips.happens("no_given_name"):
        given = ""
    line1, line2 = address(person, layout, slips)
    town = "" if slips.happens("no_town") else person.town
    postcode = slips.postcode(person.postcode)
    row = {
        "given_name": given,
        "family_name": family,
        "date_of_birth": birth_date(person.date_of_birth, layout, slips),
        "address_line1": line1,
        "address_line2": line2,
        "town": town,
        "postcode": postcode if layout.spaced_postcode else postcode.replace(" ", ""),
    }
    if layout.upper_case:
        row = {k: v.upper() for k, v in row.items()}
    return row


def birth_date(born: dt.date, layout: Layout, slips: Slips) -> str:
    if slips.happens("no_birth_date"):
        return ""
    d, m, y = slips.birth_date(f"{born.day:02d}", f"{born.month:02d}", str(born.year))
    return DATE_FORMATS[layout.date_format].format(d=d, m=m, y=y)


def address(person: Person, layout: Layout, slips: Slips) -> tuple[str, str]:
    """Address lines 1 and 2: the system's layout, and perhaps a house number out of place."""
    street = person.street
    if layout.street_first:
        name, _, kind = street.rpartition(" ")
        street = f"{name} {SHORT_KINDS.get(kind, kind)}"
    number = person.house_number
    locality = "" if slips.happens("no_locality") and person.locality else person.locality
    if slips.happens("house_number_dropped"):
        return street, locality
    if slips.happens("house_number_to_line2"):
        return street, number
    if slips.happens("house_number_after_street"):
        return f"{street} {number}", locality
    return (f"{street}, {number}" if layout.street_first else f"{number} {street}"), locality


def write_source(out: Path, layout: Layout, records: Iterable[dict[str, str]]) -> SourceFile:
    """Write one system's CSV and its mapping file into out/<code>/."""
    folder = out / layout.code
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{layout.code}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=layout.delimiter, lineterminator="\n")
        writer.writerow(layout.headings.values())
        writer.writerows([r.get(f, "") for f in layout.headings] for r in records)
    mapping = folder / f"{layout.code}.toml"
    mapping.write_text(mapping_text(layout), encoding="utf-8")
    return SourceFile(layout.code, path, mapping, layout)


def mapping_text(layout: Layout) -> str:
    """The mapping file (docs/feeds.md) that reads `layout`'s CSV: the standard FIELDS only
    (a heading for anything else, such as a local identifier, is written but not mapped)."""
    columns = "\n".join(f'{f} = "{layout.headings[f]}"' for f in FIELDS)
    delimiter = "\\t" if layout.delimiter == "\t" else layout.delimiter
    return (
        f'[source]\ncode = "{layout.code}"\nname = "{layout.name}"\n\n'
        f'[csv]\ndelimiter = "{delimiter}"\nencoding = "utf-8"\n\n'
        f"[columns]\n{columns}\n\n"
        f'[dates]\ndate_of_birth = "{layout.date_format}"\n\n'
        f"[constants]\nas_at = {AS_AT.isoformat()}\n"
    )


def write_truth(path: Path, rows: Iterable[tuple[str, str, str]]) -> None:
    """The ground truth as `linkage evaluate --truth` reads it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("source", "record_id", "child_key"))
        writer.writerows(rows)


def read_source(source: SourceFile) -> list[dict[str, str]]:
    """A written file's rows by standard field, as written (for baselines beside the registry)."""
    by_heading = {h: f for f, h in source.layout.headings.items()}
    with source.csv.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter=source.layout.delimiter)
        return [{by_heading[h]: v for h, v in row.items() if h in by_heading} for row in reader]
