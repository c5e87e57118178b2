"""Load organisations.csv: council areas and organisations, created or updated by code."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from django.db import transaction

from contactpoint.registry.feeds import ORGANISATION_COLUMNS
from contactpoint.registry.models import CouncilArea, Organisation

COLUMNS = ORGANISATION_COLUMNS
FIELDS = ("kind", "name", "address_line1", "town", "postcode", "phone", "email")


class OrganisationFileError(Exception):
    pass


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise OrganisationFileError(f"{path.name}: the header is not {','.join(COLUMNS)}")
        rows = list(reader)
    kinds = set(Organisation.Kind.values)
    for number, row in enumerate(rows, start=2):
        if not row["code"] or row["kind"] not in kinds or not row["name"]:
            raise OrganisationFileError(f"{path.name} line {number}: code, kind or name invalid")
    return rows


def load(path: Path, progress: Callable[[str], None] | None = None) -> int:
    """Create or update every organisation in the file, in one transaction. Returns the count.

    Organisations are reference data every feed row points at, so a bad line refuses the
    whole file rather than loading feeds against a partial list.
    """
    rows = _read(path)
    with transaction.atomic():
        areas = {a.code: a for a in CouncilArea.objects.all()}
        for row in rows:
            code = row["council_area_code"]
            if code and code not in areas:
                areas[code] = CouncilArea.objects.create(code=code, name=row["council_area_name"])
        existing = {o.code: o for o in Organisation.objects.all()}
        new, changed = [], []
        for row in rows:
            values = {f: row[f] for f in FIELDS}
            area = areas.get(row["council_area_code"])
            org = existing.get(row["code"])
            if org is None:
                new.append(Organisation(code=row["code"], council_area=area, **values))
            elif any(getattr(org, f) != v for f, v in values.items()) or org.council_area != area:
                for f, v in values.items():
                    setattr(org, f, v)
                org.council_area = area
                changed.append(org)
        Organisation.objects.bulk_create(new, batch_size=1000)
        Organisation.objects.bulk_update(changed, [*FIELDS, "council_area"], batch_size=1000)
    if progress:
        progress(f"load: organisations: {len(new):,} new, {len(changed):,} updated")
    return len(rows)
