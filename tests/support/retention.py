"""Children of known ages (adults, leavers, those turning 18), loaded through the real loader."""

from __future__ import annotations

from pathlib import Path

from contactpoint.ingest.loader import load_folder
from contactpoint.registry.golden import golden_record
from contactpoint.registry.models import Child
from tests.support.children import nhs_number
from tests.support.feeds import feed_row, write_feed

# given, family, date of birth
PEOPLE = {
    "turning": ("Tamsin", "Eighteen", "2008-05-15"),  # 18 on 15 May 2026
    "young": ("Yusuf", "Young", "2015-03-04"),
    "leaver": ("Lola", "Leaver", "2002-02-10"),  # 25 on 10 February 2027
    "adult": ("Ada", "Older", "2001-01-15"),  # 18 long ago: archived whenever it runs
}


def load(folder: Path) -> dict[str, Child]:
    """PEOPLE through the real loader, each known to a GP and a school of area A."""
    numbers = {key: nhs_number(i * 11) for i, key in enumerate(PEOPLE)}
    nhs, school = [], []
    for i, (key, (given, family, born)) in enumerate(PEOPLE.items()):
        common = dict(
            as_at="2026-10-01",
            given_name=given,
            family_name=family,
            date_of_birth=born,
            sex="F",
            postcode="NW1 3AB",
            nhs_number=numbers[key],
        )
        nhs.append(feed_row(record_id=f"N{i}", org_code="A81001", org_role="gp", **common))
        school.append(feed_row(record_id=f"S{i}", org_code="100001", org_role="school", **common))
    write_feed(folder, "nhs_demographics", nhs)
    write_feed(folder, "school_census", school)
    load_folder(folder)
    by_number = {v: k for k, v in numbers.items()}
    found = {}
    for child in Child.objects.all():
        record = golden_record(child.pk)
        assert record is not None and record.nhs_number is not None
        found[by_number[record.nhs_number.value]] = child
    assert len(found) == len(PEOPLE)
    return found
