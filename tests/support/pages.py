"""The practitioner pages as a signed-in client uses them: search forms, results, records."""

from __future__ import annotations

from django.test import Client

from contactpoint.registry.models import Child
from tests.support.children import PEOPLE

AMELIA = {
    "purpose": "starting_work",
    "family_name": "Hartley",
    "given_name": "Amelie",  # a typo: found all the same
    "dob-day": "4",
    "dob-month": "3",
    "dob-year": "2015",
}


def dob(text: str) -> dict[str, str]:
    year, month, day = text.split("-")
    return {"dob-day": day, "dob-month": month, "dob-year": year}


def criteria_for(key: str, **changes: str) -> dict[str, str]:
    given, family, born, _sex, _postcode = PEOPLE[key]
    form = {"purpose": "starting_work", "family_name": family, "given_name": given, **dob(born)}
    return {**form, **changes}


def find(client: Client, key: str) -> str:
    """Search for a made-up child as the client's user; the results page."""
    response = client.post("/search", criteria_for(key), follow=True)
    assert response.status_code == 200
    return str(response.content.decode())


def record_of(child: Child) -> str:
    return f"/children/{child.cpid}"


def search(client: Client, key: str, purpose: str = "starting_work") -> None:
    given, family, born, _sex, _postcode = PEOPLE[key]
    year, month, day = born.split("-")
    form = {"purpose": purpose, "family_name": family, "given_name": given}
    response = client.post(
        "/search", {**form, "dob-day": day, "dob-month": month, "dob-year": year}
    )
    assert response.status_code == 303
