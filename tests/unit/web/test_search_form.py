"""The search form's fields as the criteria name them, and the criteria's errors back at
the form's fields."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import QueryDict

from contactpoint.search.criteria import Asked, DayMonthYear, Refused, check
from contactpoint.web.views.children.search import asked_of, field_errors

TODAY = dt.date(2026, 11, 26)


DATE = {"dob-day": "4", "dob-month": "3", "dob-year": "2015"}


def posted(**fields: str) -> QueryDict:
    """A search form as POSTed, for safeguarding, of a child born 4 March 2015."""
    form = QueryDict(mutable=True)
    form.update({"purpose": "safeguarding", **DATE, **fields})
    return form


def test_the_form_s_fields_and_date_boxes_become_the_search_asked() -> None:
    form = posted(
        family_name="Hartley",
        given_name="Amelia",
        postcode="NW1",
        nhs_number="401",
        upn="A1",
    )
    assert asked_of(form) == Asked(
        "safeguarding",
        DayMonthYear("4", "3", "2015"),
        family_name="Hartley",
        given_name="Amelia",
        postcode="NW1",
        nhs_number="401",
        upn="A1",
    )


def test_an_empty_form_asks_nothing() -> None:
    assert asked_of(QueryDict()) == Asked("", DayMonthYear("", "", ""))


def errors_on_page(form: QueryDict) -> dict[str, str]:
    asked = asked_of(form)
    with pytest.raises(Refused) as caught:
        check(asked, TODAY)
    return field_errors(caught.value, asked)


def test_a_date_of_birth_error_links_to_the_day_box() -> None:
    form = posted(family_name="Hartley", given_name="Amelia")
    form["dob-day"], form["dob-month"] = "31", "2"
    assert set(errors_on_page(form)) == {"dob-day"}


def test_what_to_add_shows_at_the_family_name_then_at_the_given_name() -> None:
    form = posted()
    assert errors_on_page(form) == {
        "family_name": "Add the child's family name, or an NHS number or UPN"
    }
    form["family_name"] = " Hartley "
    assert errors_on_page(form) == {"given_name": "Add the child's given name or a postcode"}


def test_other_errors_keep_their_field_s_name() -> None:
    form = posted(family_name="Hartley", postcode="ZZ", upn="x")
    form["purpose"] = "nosy"
    assert set(errors_on_page(form)) == {"purpose", "postcode", "upn"}
