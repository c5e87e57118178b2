"""Made-up children loaded through the real feed loader, for the practitioner-journey tests.

Each child has an NHS demographics record and a school census record (so the school, a
Camden organisation from tests/support/feeds.py ORGANISATIONS, is involved through the feed).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from contactpoint.access.users import Actor
from contactpoint.ingest.loader import load_folder
from contactpoint.keystore import service as keys
from contactpoint.lib.identifiers import nhs_check_digit
from contactpoint.registry import involvement_facts
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.golden import golden_record
from contactpoint.registry.involvement_facts import InvolvementFacts, facts_of, with_links
from contactpoint.registry.models import Child, Involvement, Organisation
from contactpoint.search.criteria import Asked, Criteria, check
from contactpoint.search.service import remember
from tests.support.feeds import feed_row, write_feed

# given, family, date of birth, sex, postcode
PEOPLE = {
    "amelia": ("Amelia", "Hartley", "2015-03-04", "F", "NW1 3AB"),
    "oliver": ("Oliver", "Smith-Jones", "2014-11-09", "M", "NW5 2RT"),
    "maya": ("Maya", "Okafor", "2017-06-21", "F", "NW1 8QP"),
    "jacob": ("Jacob", "Wright", "2012-01-15", "M", "N16 7AB"),
}


def asked(key: str, today: dt.date = dt.date(2026, 11, 26)) -> Criteria:
    """Search criteria for one of PEOPLE: given and family name and date of birth."""
    given, family, born, _sex, _postcode = PEOPLE[key]
    born_on = dt.date.fromisoformat(born)
    return check(
        Asked(purpose="starting_work", date_of_birth=born_on, given_name=given, family_name=family),
        today,
    )


def nhs_number(n: int) -> str:
    """A valid NHS number, different for each n (check digit 10 skipped)."""
    while True:
        first = f"{401023000 + n:09d}"
        digit = nhs_check_digit(first)
        if digit is not None:
            return first + str(digit)
        n += 1000


def load_children(folder: Path) -> dict[str, Child]:
    """Load PEOPLE, and give back each child by its key."""
    numbers = {key: nhs_number(i * 7) for i, key in enumerate(PEOPLE)}
    nhs_rows, school_rows = [], []
    for i, (key, (given, family, born, sex, postcode)) in enumerate(PEOPLE.items()):
        common = dict(
            as_at="2026-10-01",
            given_name=given,
            family_name=family,
            date_of_birth=born,
            sex=sex,
            address_line1=f"{i + 1} Test Road",
            town="London",
            postcode=postcode,
            nhs_number=numbers[key],
        )
        nhs_rows.append(feed_row(record_id=f"N{i}", org_code="A81001", org_role="gp", **common))
        school_rows.append(
            feed_row(record_id=f"S{i}", org_code="100001", org_role="school", **common)
        )
    write_feed(folder, "nhs_demographics", nhs_rows)
    write_feed(folder, "school_census", school_rows)
    load_folder(folder)
    found: dict[str, Child] = {}
    by_number = {v: k for k, v in numbers.items()}
    for child in Child.objects.all():
        record = golden_record(child.pk)
        if record and record.nhs_number and record.nhs_number.value in by_number:
            found[by_number[record.nhs_number.value]] = child
    assert len(found) == len(PEOPLE), "every made-up child is loaded as one child"
    return found


def found(actor: Actor, child: Child) -> None:
    """As if the actor had just found the child by a search (what lets them act on it)."""
    remember(actor.principal.key, [child.pk])


def a_child(n: int) -> Child:
    """A child with no facts at all (its key made when something is sealed for it)."""
    return Child.objects.create(id=uuid.uuid4(), cpid=f"CP-T-{n}")


def an_involvement(
    child: Child,
    organisation: Organisation,
    role: str,
    sensitive_category: str | None = None,
    consent_basis: str | None = None,
    **columns: Any,
) -> Involvement:
    """Write an involvement directly, its facts sealed under the child's data key (made if
    the child has none), as the registry writes them."""
    cipher = ChildCipher(child.pk, keys.ensure_data_key(child.pk))
    involvement = Involvement(child=child, **columns)
    involvement.organisation = organisation
    facts = InvolvementFacts(role, sensitive_category, consent_basis)
    involvement_facts.seal(cipher, involvement, facts)
    involvement.save(force_insert=True)
    return involvement


def at(organisation: Organisation, **filters: Any) -> list[Involvement]:
    """The involvements (matching `filters`) of an organisation. Which organisation an
    involvement links to is sealed: every matching row is opened to see."""
    rows = with_links(Involvement.objects.filter(**filters).order_by("pk"))
    return [i for i in rows if i.organisation_id == organisation.pk]


def one_at(organisation: Organisation, **filters: Any) -> Involvement:
    (involvement,) = at(organisation, **filters)
    return involvement


def roles_of(involvements: Iterable[Involvement]) -> list[str]:
    """The opened role of each involvement, in order."""
    rows = list(involvements)
    facts = facts_of(rows)
    return [facts[i.pk].role for i in rows]
